/** The most a queue hands its backend in one write, so that a full backend stops the flush within one chunk. */
export const FLUSH_CHUNK = 64 << 10;

/** Bytes waiting for one output (a hub member, a socket client), oldest first, with the time each chunk was queued. */
export class OutputQueue {
  readonly #chunks: Buffer[] = [];
  readonly #times: number[] = [];
  bytes = 0;

  push(data: Buffer, now: number): void {
    this.#chunks.push(data);
    this.#times.push(now);
    this.bytes += data.length;
  }

  /** Drops the oldest bytes until at most `limit` remain; returns how many were dropped. */
  trimTo(limit: number): number {
    let dropped = 0;
    while (this.bytes > limit) {
      const head = this.#chunks[0]!;
      const excess = this.bytes - limit;
      if (head.length <= excess) {
        this.#chunks.shift();
        this.#times.shift();
        this.bytes -= head.length;
        dropped += head.length;
      } else {
        this.#chunks[0] = head.subarray(excess);
        this.bytes -= excess;
        dropped += excess;
      }
    }
    return dropped;
  }

  /** Removes and returns up to `max` bytes from the front. */
  take(max: number): Buffer | undefined {
    const head = this.#chunks[0];
    if (head === undefined) return undefined;
    if (head.length <= max) {
      this.#chunks.shift();
      this.#times.shift();
      this.bytes -= head.length;
      return head;
    }
    this.#chunks[0] = head.subarray(max);
    this.bytes -= max;
    return head.subarray(0, max);
  }

  /** When the oldest queued byte was queued. */
  get oldest(): number | undefined {
    return this.#times[0];
  }

  clear(): void {
    this.#chunks.length = 0;
    this.#times.length = 0;
    this.bytes = 0;
  }
}
