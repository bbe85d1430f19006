import type { ChardevBackendDefinition } from './backend-definition.js';
import { ByteRing } from './byte-ring.js';
import { Chardev } from './chardev.js';
import { ChardevError } from './chardev-error.js';
import { asCInt, parseCommon } from './chardev-opts.js';

/** QEMU's default ringbuf size (chardev/char-ringbuf.c). */
export const DEFAULT_RINGBUF_SIZE = 65536;

/**
 * The largest ringbuf chardevd creates. QEMU has no limit and aborts when
 * the allocation fails; a named limit turns that into an error.
 */
export const MAX_RINGBUF_SIZE = 1 << 30;

/**
 * A ring buffer in memory (chardev/char-ringbuf.c): frontend output and
 * ringbuf-write go in, ringbuf-read takes the oldest bytes out, and when
 * the buffer is full the oldest bytes are overwritten. Open from the
 * start; it never produces input.
 */
export class RingbufChardev extends Chardev {
  readonly ring: ByteRing;
  /** It takes every byte, overwriting the oldest. */
  override readonly losslessSink = true;

  constructor(
    id: string,
    readonly kind: 'ringbuf' | 'memory',
    size: number,
  ) {
    super(id);
    // QEMU checks with (size & (size - 1)), which lets 0 through and then
    // crashes on the first write; chardevd refuses it (docs/compatibility.md).
    if (!Number.isSafeInteger(size) || size <= 0 || !Number.isInteger(Math.log2(size))) {
      throw new ChardevError('size of ringbuf chardev must be power of two');
    }
    if (size > MAX_RINGBUF_SIZE) throw new ChardevError(`size of ringbuf chardev must not exceed ${MAX_RINGBUF_SIZE}`);
    this.ring = new ByteRing(size);
  }

  get filename(): string {
    return this.kind;
  }

  async open(): Promise<void> {
    this.setOpen(true);
  }

  protected writeToBackend(data: Buffer): boolean {
    this.ring.write(data);
    return true;
  }

  /** ringbuf-write: into the same buffer, bypassing the log as QEMU's qmp_ringbuf_write does. */
  inject(data: Uint8Array): void {
    this.ring.write(data);
  }

  protected async closeBackend(): Promise<void> {
    this.ring.release();
  }
}

/** `-chardev ringbuf,size=N` (chardev/char-ringbuf.c), and `memory`, QEMU's other name for it. */
export const ringbufBackend: ChardevBackendDefinition<'ringbuf' | 'memory'> = {
  kinds: ['ringbuf', 'memory'],
  options: { size: 'size' },
  parse(kind, opts) {
    // char-ringbuf.c keeps the size in an int: 4G reads as 0 (the
    // default), 2G as a negative size that the open then refuses.
    const size = asCInt(opts.getUint('size', 0n));
    return { type: kind, data: { ...parseCommon(opts), ...(size !== 0 ? { size } : {}) } };
  },
  create: (id, backend) => new RingbufChardev(id, backend.type, backend.data.size ?? DEFAULT_RINGBUF_SIZE),
};
