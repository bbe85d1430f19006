import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { qdictOrder } from '../../../src/qobject/qdict-order.js';

// Every expected order below was printed by QEMU 7.2 for the same members.
suite('qdictOrder', () => {
  test('puts return before id in a success reply', () => {
    assert.deepEqual(qdictOrder(['return', 'id']), ['return', 'id']);
  });

  test('puts id before error in an error reply', () => {
    assert.deepEqual(qdictOrder(['error', 'id']), ['id', 'error']);
  });

  test('orders a version triple micro, minor, major (same bucket: newest first)', () => {
    assert.deepEqual(qdictOrder(['major', 'minor', 'micro']), ['micro', 'minor', 'major']);
  });

  test('orders an event timestamp, event, data', () => {
    assert.deepEqual(qdictOrder(['event', 'data', 'timestamp']), ['timestamp', 'event', 'data']);
  });

  test('orders an echoed id object as QEMU re-serialises it', () => {
    // {"id":{"b":1,"a":2,"zz":[...]}} came back as {"a": 2, "zz": [...], "b": 1}.
    assert.deepEqual(qdictOrder(['b', 'a', 'zz']), ['a', 'zz', 'b']);
    assert.deepEqual(qdictOrder(['y', 'x']), ['x', 'y']);
  });
});
