import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { StallWatch } from '../../../src/chardev/stall-watch.js';

suite('StallWatch: pacing, cut loose, pacing again', () => {
  test('an output behind that takes nothing for the timeout is cut loose once; the owner hears it once', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    let behind = true;
    let cuts = 0;
    const watch = new StallWatch(
      1000,
      () => behind,
      () => cuts++,
    );
    watch.took();
    watch.holding();
    t.mock.timers.tick(999);
    assert.equal(watch.cutLoose, false);
    t.mock.timers.tick(1);
    assert.equal(watch.cutLoose, true);
    assert.equal(cuts, 1);
    watch.holding();
    t.mock.timers.tick(5000);
    assert.equal(cuts, 1, 'a cut-loose output is not watched');
    behind = false;
    watch.caughtUp();
    assert.equal(watch.cutLoose, false, 'caught up: it paces again');
    watch.dispose();
  });

  test('an output that keeps taking bytes, however slowly, is never cut loose', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    let cuts = 0;
    const watch = new StallWatch(
      1000,
      () => true,
      () => cuts++,
    );
    watch.took();
    watch.holding();
    for (let i = 0; i < 20; i++) {
      t.mock.timers.tick(900);
      watch.took();
      watch.holding();
    }
    assert.equal(cuts, 0);
    assert.equal(watch.cutLoose, false);
    t.mock.timers.tick(1000);
    assert.equal(cuts, 1, 'the timeout counts from the last bytes it took');
    watch.dispose();
  });

  test('an output that is no longer behind when the timeout ends is not cut loose', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    let behind = true;
    let cuts = 0;
    const watch = new StallWatch(
      100,
      () => behind,
      () => cuts++,
    );
    watch.holding();
    behind = false;
    t.mock.timers.tick(1000);
    assert.equal(cuts, 0);
    behind = true;
    watch.took();
    watch.holding();
    t.mock.timers.tick(100);
    assert.equal(cuts, 1, 'watched again the next time it holds the frontend back');
    watch.dispose();
  });

  test('after catching up it is watched anew, and reset() starts over as if new', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    let cuts = 0;
    const watch = new StallWatch(
      100,
      () => true,
      () => cuts++,
    );
    watch.holding();
    t.mock.timers.tick(100);
    assert.equal(cuts, 1);
    watch.took();
    watch.caughtUp();
    watch.holding();
    t.mock.timers.tick(100);
    assert.equal(cuts, 2, 'stalled again after rejoining: cut loose again');
    watch.reset();
    assert.equal(watch.cutLoose, false);
    watch.holding();
    t.mock.timers.tick(99);
    assert.equal(cuts, 2);
    watch.dispose();
    t.mock.timers.tick(1000);
    assert.equal(cuts, 2, 'a disposed watch does nothing');
  });
});
