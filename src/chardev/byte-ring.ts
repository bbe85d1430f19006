import { allocateRingStorage, releaseRingStorage } from './ring-storage.js';

/**
 * A fixed-size byte ring that never blocks its writer: when full, the
 * oldest bytes are overwritten (chardev/char-ringbuf.c keeps the last
 * `size` bytes the same way). Positions are absolute byte counts since
 * creation, so that besides QEMU's destructive reader (`read`) any number
 * of readers can follow the stream by cursor (`readFrom`) and learn how
 * many bytes were overwritten before they got to them.
 */
export class ByteRing {
  readonly #bytes: Uint8Array;
  readonly #mask: number;
  /** Bytes ever written (QEMU's `prod`). */
  #written = 0;
  /** Position of the destructive reader (QEMU's `cons`). */
  #consumed = 0;

  /** `capacity` must be a power of two, as QEMU requires of a ringbuf's size. */
  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity <= 0 || (capacity & (capacity - 1)) !== 0) {
      throw new RangeError(`ring capacity must be a positive power of two, not ${capacity}`);
    }
    this.#bytes = allocateRingStorage(capacity);
    this.#mask = capacity - 1;
  }

  /** Gives the memory back; the ring must not be used afterwards. */
  release(): void {
    releaseRingStorage(this.#bytes);
  }

  /** Total bytes written since creation: the cursor just past the newest byte. */
  get end(): number {
    return this.#written;
  }

  /** The cursor of the oldest byte still held. */
  get start(): number {
    return Math.max(0, this.#written - this.capacity);
  }

  /** Bytes the destructive reader has not consumed yet. */
  get unread(): number {
    return this.#written - this.#consumed;
  }

  /** Appends all of `data`, overwriting the oldest bytes when full. */
  write(data: Uint8Array): void {
    // Only the last `capacity` bytes of a large write can survive.
    const skip = Math.max(0, data.length - this.capacity);
    let offset = (this.#written + skip) & this.#mask;
    let source = data.subarray(skip);
    while (source.length > 0) {
      const run = Math.min(source.length, this.capacity - offset);
      this.#bytes.set(source.subarray(0, run), offset);
      source = source.subarray(run);
      offset = 0;
    }
    this.#written += data.length;
    if (this.#written - this.#consumed > this.capacity) this.#consumed = this.#written - this.capacity;
  }

  /** Removes and returns up to `max` of the oldest unread bytes (QEMU's ringbuf-read). */
  read(max: number): Uint8Array {
    const out = this.#copy(this.#consumed, Math.min(max, this.unread));
    this.#consumed += out.length;
    return out;
  }

  /**
   * Returns up to `max` bytes from `cursor` on without consuming them, the
   * cursor to continue from, and how many bytes since `cursor` were
   * overwritten before they could be read.
   */
  readFrom(cursor: number, max: number): { data: Uint8Array; next: number; lost: number } {
    const from = Math.min(Math.max(cursor, this.start), this.#written);
    const lost = Math.max(0, Math.min(this.start, this.#written) - cursor);
    const data = this.#copy(from, Math.min(max, this.#written - from));
    return { data, next: from + data.length, lost };
  }

  #copy(position: number, length: number): Uint8Array {
    const out = new Uint8Array(Math.max(0, length));
    const offset = position & this.#mask;
    const first = Math.min(out.length, this.capacity - offset);
    out.set(this.#bytes.subarray(offset, offset + first), 0);
    out.set(this.#bytes.subarray(0, out.length - first), first);
    return out;
  }
}
