import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { EventThrottle } from '../../../src/chardev/event-throttle.js';

suite('EventThrottle: at once, then at most once per interval with the latest state', () => {
  test('the first change is reported at once; changes within the interval make one report at its end; a quiet interval makes none', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let state = 'a';
    const reports: string[] = [];
    const throttle = new EventThrottle(1000, () => reports.push(state));
    throttle.changed();
    assert.deepEqual(reports, ['a']);
    state = 'b';
    throttle.changed();
    state = 'c';
    throttle.changed();
    assert.deepEqual(reports, ['a']);
    t.mock.timers.tick(1000);
    assert.deepEqual(reports, ['a', 'c']);
    t.mock.timers.tick(1000);
    assert.deepEqual(reports, ['a', 'c'], 'nothing changed in the second interval');
    t.mock.timers.tick(5000);
    state = 'd';
    throttle.changed();
    assert.deepEqual(reports, ['a', 'c', 'd'], 'after a quiet interval a change is reported at once again');
    state = 'e';
    throttle.changed();
    throttle.dispose();
    t.mock.timers.tick(5000);
    assert.deepEqual(reports, ['a', 'c', 'd'], 'dispose drops the waiting report');
  });
});
