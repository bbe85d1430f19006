import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { firstUnvisitedMember } from '../../../src/qapi-runtime/ghash-order.js';
import { qdictOrder } from '../../../src/qobject/qdict-order.js';

// The expected names are what QEMU 7.2 reported for qmp_capabilities called
// with these arguments ("Parameter 'X' is unexpected").
suite('firstUnvisitedMember', () => {
  test('names nothing when every member was visited', () => {
    assert.equal(firstUnvisitedMember(qdictOrder(['enable']), ['enable']), undefined);
  });

  test('picks the member QEMU names among two', () => {
    assert.equal(firstUnvisitedMember(qdictOrder(['aaa', 'zzz']), []), 'zzz');
  });

  test('picks the member QEMU names among three', () => {
    assert.equal(firstUnvisitedMember(qdictOrder(['a', 'b', 'c']), []), 'b');
  });

  test('follows the table through growth when there are many members', () => {
    const keys = ['enable', ...Array.from({ length: 12 }, (_, i) => `x${i + 1}`)];
    assert.equal(firstUnvisitedMember(qdictOrder(keys), ['enable']), 'x10');
  });

  test('follows the table through growth and a removal', () => {
    const keys = ['foo', 'bar', 'baz', 'qux', 'quux', 'corge', 'grault', 'garply', 'waldo', 'fred', 'plugh', 'xyzzy', 'thud', 'enable'];
    assert.equal(firstUnvisitedMember(qdictOrder(keys), ['enable']), 'bar');
  });
});
