/**
 * What the consumers of lent input see. Input that comes with a lease is
 * a view of its reader's buffer, valid only until the call that received
 * it returns: the reader reads into the same memory again. A consumer
 * that needs bytes later either copies them or calls `keep()`, which
 * hands it the whole buffer and gives the reader another one (cheaper
 * than a copy when the bytes are held only briefly, as by a write in
 * flight). `keep()` returns a function the consumer may call once it no
 * longer needs the bytes, so that the reader can use the buffer again.
 */
export interface ReadLease {
  keep(): () => void;
}

/** The first size of a reader's buffer: QEMU's CHR_READ_BUF_LEN, so that a connection that sends little holds little. */
export const READ_BUFFER_INITIAL = 4096;

/** The size a reader's buffer grows to once a read fills it: what one socket read returns at most (libuv's 64 KiB). */
export const READ_BUFFER_MAX = 64 << 10;

/**
 * A reader's reusable buffer (QEMU's chardevs read into a fixed buffer
 * too, tcp_chr_read's `buf[CHR_READ_BUF_LEN]`). Node's default reads
 * allocate a fresh buffer per read, which a relay pays for in
 * allocation, page faults and garbage collection on every chunk; a
 * reader that hands out views of one buffer pays only when a consumer
 * keeps it.
 */
export class ReadBuffer implements ReadLease {
  #buffer: Buffer = Buffer.allocUnsafe(READ_BUFFER_INITIAL);
  /** Consumers that kept the current buffer and have not given it back (a count shared with their release functions). */
  #keepers: { count: number } | undefined;
  /** A buffer every consumer that kept it gave back, for the next time one is kept. */
  #spare: Buffer | undefined;

  keep(): () => void {
    const kept = this.#buffer;
    const keepers = (this.#keepers ??= { count: 0 });
    keepers.count++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--keepers.count === 0 && kept !== this.#buffer) this.#spare = kept;
    };
  }

  /**
   * Called after each delivery of `read` bytes: the buffer for the next
   * read, another one if a consumer kept the last (the spare a consumer
   * gave back, or a new one), or a larger one if the last read filled it.
   */
  next(read: number): Buffer {
    if (read >= this.#buffer.length && this.#buffer.length < READ_BUFFER_MAX) {
      this.#buffer = Buffer.allocUnsafe(READ_BUFFER_MAX);
      this.#spare = undefined;
      this.#keepers = undefined;
    } else if (this.#keepers !== undefined) {
      const spare = this.#spare;
      this.#buffer = spare !== undefined && spare.length === this.#buffer.length ? spare : Buffer.allocUnsafe(this.#buffer.length);
      this.#spare = undefined;
      this.#keepers = undefined;
    }
    return this.#buffer;
  }
}
