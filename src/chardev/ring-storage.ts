/**
 * Memory for ring buffers, carved from shared slabs.
 *
 * A ringbuf lives for long; the buffers a busy daemon allocates around it
 * (socket reads, decoded requests) live for a moment. From one malloc
 * arena, every short-lived buffer freed between two rings leaves a hole
 * the allocator keeps, and a thousand filled 64 KiB ringbufs cost 78 KiB
 * each instead of 64. Rings smaller than a slab are therefore cut from
 * 1 MiB slabs (large enough to get their own mapping from the allocator)
 * holding rings of one size only, so they pack without gaps and a slab is
 * given back whole once its last ring is released.
 */
export const SLAB_SIZE = 1 << 20;

interface Slab {
  readonly memory: ArrayBuffer;
  /** Slot numbers not in use. */
  readonly free: number[];
}

const slabsBySize = new Map<number, Slab[]>();
const owners = new WeakMap<Uint8Array, { readonly slab: Slab; readonly slot: number }>();

/** Zeroed storage for a ring of `size` bytes (a power of two). */
export function allocateRingStorage(size: number): Uint8Array {
  if (size >= SLAB_SIZE) return new Uint8Array(size);
  const slabs = slabsBySize.get(size) ?? [];
  slabsBySize.set(size, slabs);
  let slab = slabs.find((candidate) => candidate.free.length > 0);
  if (slab === undefined) {
    const slots = SLAB_SIZE / size;
    slab = { memory: new ArrayBuffer(SLAB_SIZE), free: Array.from({ length: slots }, (_, i) => slots - 1 - i) };
    slabs.push(slab);
  }
  const slot = slab.free.pop()!;
  const storage = new Uint8Array(slab.memory, slot * size, size);
  owners.set(storage, { slab, slot });
  return storage;
}

/** Gives storage back; a slab whose rings are all released is dropped for the garbage collector. */
export function releaseRingStorage(storage: Uint8Array): void {
  const owner = owners.get(storage);
  if (owner === undefined) return;
  owners.delete(storage);
  // A reused slot must read as a fresh ring would.
  storage.fill(0);
  const { slab, slot } = owner;
  slab.free.push(slot);
  if (slab.free.length === SLAB_SIZE / storage.length) {
    const slabs = slabsBySize.get(storage.length)!;
    slabs.splice(slabs.indexOf(slab), 1);
  }
}
