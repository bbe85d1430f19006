import assert from 'node:assert/strict';
import { openSync, readdirSync } from 'node:fs';
import { suite, test } from 'node:test';
import { FdSets } from '../../../src/commands/fd-sets.js';

const openFds = (): number => readdirSync('/proc/self/fd').length;
const devNull = (): number => openSync('/dev/null', 'r');

suite('FdSets', () => {
  test('new sets take the lowest unused id; query lists the highest id first, descriptors oldest first', () => {
    const sets = new FdSets(() => 1);
    const [a, b, c, d] = [devNull(), devNull(), devNull(), devNull()];
    assert.deepEqual(sets.add(a, 1, 'one'), { 'fdset-id': 1, fd: a });
    assert.deepEqual(sets.add(b, undefined, undefined), { 'fdset-id': 0, fd: b });
    assert.deepEqual(sets.add(c, undefined, undefined), { 'fdset-id': 2, fd: c });
    assert.deepEqual(sets.add(d, 1, undefined), { 'fdset-id': 1, fd: d });
    assert.deepEqual(sets.list(), [
      { 'fdset-id': 2, fds: [{ fd: c }] },
      { 'fdset-id': 1, fds: [{ fd: a, opaque: 'one' }, { fd: d }] },
      { 'fdset-id': 0, fds: [{ fd: b }] },
    ]);
    sets.monitorGone(0);
    assert.deepEqual(sets.list(), []);
  });

  test('a negative id is refused and the descriptor left to the caller', () => {
    const sets = new FdSets(() => 1);
    assert.equal(sets.add(5, -1, undefined), undefined);
    assert.equal(sets.count, 0);
  });

  test('remove-fd closes at once; a set without descriptors is gone; unknown sets and descriptors are refused', () => {
    const sets = new FdSets(() => 1);
    const before = openFds();
    const [a, b] = [devNull(), devNull()];
    sets.add(a, 3, undefined);
    sets.add(b, 3, undefined);
    assert.equal(sets.remove(4, undefined, 1), false);
    assert.equal(sets.remove(3, 999_999, 1), false);
    assert.equal(sets.remove(3, a, 1), true);
    assert.deepEqual(sets.list(), [{ 'fdset-id': 3, fds: [{ fd: b }] }]);
    assert.equal(sets.remove(3, undefined, 1), true);
    assert.deepEqual(sets.list(), []);
    assert.equal(openFds(), before);
  });

  test('descriptors stay while a monitor is connected, and are closed when the last one goes', () => {
    const sets = new FdSets(() => 1);
    const before = openFds();
    sets.add(devNull(), undefined, undefined);
    sets.monitorGone(1);
    assert.equal(sets.count, 1);
    sets.monitorGone(0);
    assert.equal(sets.count, 0);
    assert.equal(openFds(), before);
  });
});
