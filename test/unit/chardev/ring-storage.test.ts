import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { allocateRingStorage, releaseRingStorage, SLAB_SIZE } from '../../../src/chardev/ring-storage.js';

suite('ring storage: rings packed into shared slabs', () => {
  test('rings of one size fill a slab without gaps and never overlap; the next ring starts a new slab', () => {
    const size = 64 << 10;
    const rings = Array.from({ length: SLAB_SIZE / size + 1 }, () => allocateRingStorage(size));
    const first = rings[0]!.buffer;
    const inFirstSlab = rings.filter((ring) => ring.buffer === first);
    assert.equal(inFirstSlab.length, SLAB_SIZE / size);
    assert.deepEqual(
      inFirstSlab.map((ring) => ring.byteOffset).sort((a, b) => a - b),
      Array.from({ length: SLAB_SIZE / size }, (_, i) => i * size),
    );
    assert.notEqual(rings.at(-1)!.buffer, first);
    rings.forEach((ring, i) => ring.fill(i + 1));
    rings.forEach((ring, i) =>
      assert.ok(
        ring.every((byte) => byte === i + 1),
        `ring ${i} was overwritten by another`,
      ),
    );
    for (const ring of rings) releaseRingStorage(ring);
  });

  test('a released ring comes back zeroed to the next ring of its size', () => {
    const ring = allocateRingStorage(4096);
    ring.fill(0xab);
    releaseRingStorage(ring);
    const again = allocateRingStorage(4096);
    assert.equal(again.length, 4096);
    assert.ok(again.every((byte) => byte === 0));
    releaseRingStorage(again);
  });

  test('a ring of a slab or more has memory of its own', () => {
    const ring = allocateRingStorage(SLAB_SIZE * 2);
    assert.equal(ring.length, SLAB_SIZE * 2);
    assert.equal(ring.buffer.byteLength, SLAB_SIZE * 2);
    releaseRingStorage(ring);
  });
});
