import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { ByteRing } from '../../../src/chardev/byte-ring.js';

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');
const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1');

suite('ByteRing', () => {
  test('refuses a capacity that is not a power of two', () => {
    for (const bad of [0, 5, -2, 1.5]) assert.throws(() => new ByteRing(bad), RangeError);
    assert.equal(new ByteRing(1).capacity, 1);
  });

  test('keeps the last bytes when written past its size (QEMU test-char: size 2, "buff" reads "ff")', () => {
    const ring = new ByteRing(2);
    ring.write(bytes('buff'));
    assert.equal(text(ring.read(4)), 'ff');
    assert.equal(text(ring.read(4)), '');
  });

  test('keeps the last 64 of 100 bytes', () => {
    const ring = new ByteRing(64);
    const input = Array.from({ length: 100 }, (_, i) => String.fromCharCode(65 + (i % 26))).join('');
    for (const c of input) ring.write(bytes(c));
    assert.equal(text(ring.read(1000)), input.slice(36));
  });

  test('reads destructively in pieces across the wrap point', () => {
    const ring = new ByteRing(8);
    ring.write(bytes('abcdef'));
    assert.equal(text(ring.read(4)), 'abcd');
    ring.write(bytes('ghijk'));
    assert.equal(ring.unread, 7);
    assert.equal(text(ring.read(3)), 'efg');
    assert.equal(text(ring.read(10)), 'hijk');
  });

  test('lets cursor readers follow without consuming, counting what was overwritten', () => {
    const ring = new ByteRing(4);
    ring.write(bytes('abc'));
    const first = ring.readFrom(0, 10);
    assert.deepEqual([text(first.data), first.next, first.lost], ['abc', 3, 0]);
    ring.write(bytes('defgh')); // 'abcd' overwritten
    const second = ring.readFrom(first.next, 2);
    assert.deepEqual([text(second.data), second.next, second.lost], ['ef', 6, 1]);
    const third = ring.readFrom(second.next, 10);
    assert.deepEqual([text(third.data), third.next, third.lost], ['gh', 8, 0]);
    assert.equal(text(ring.read(10)), 'efgh', 'the destructive reader is independent');
  });

  test('answers a cursor beyond the end with nothing and the end', () => {
    const ring = new ByteRing(4);
    ring.write(bytes('ab'));
    assert.deepEqual(ring.readFrom(9, 4), { data: new Uint8Array(0), next: 2, lost: 0 });
  });

  test('takes one write larger than the ring whole, keeping its tail', () => {
    const ring = new ByteRing(4);
    ring.write(bytes('0123456789'));
    assert.equal(ring.start, 6);
    assert.equal(ring.end, 10);
    assert.equal(text(ring.readFrom(0, 10).data), '6789');
    assert.equal(ring.readFrom(0, 10).lost, 6);
  });
});
