import { HUB_LOSSLESS_QUEUE_FACTOR } from './hub-member.js';
import { FLUSH_CHUNK, OutputQueue } from './output-queue.js';
import type { ReadLease } from './read-buffer.js';
import type { SocketConnection } from './socket-connection.js';
import { StallWatch } from './stall-watch.js';
import { OUTPUT_QUEUE_LIMIT } from './stream-io.js';

/**
 * One client of a socket chardev with `stall-timeout`: while the client
 * is behind (its socket asked to wait, or bytes wait in its queue) it
 * paces the frontend, as QEMU's single client does; once it has taken
 * nothing for the timeout meanwhile it is cut loose (StallWatch) and its
 * queue keeps the newest OUTPUT_QUEUE_LIMIT bytes, dropping the oldest,
 * until it has caught up.
 */
export class PacedOutput {
  /** Bytes lost because the client was cut loose and its queue was full. */
  dropped = 0;
  readonly #queue = new OutputQueue();
  readonly #stall: StallWatch;
  /** The client's socket asked to wait; what comes meanwhile is queued. */
  #waiting = false;

  constructor(
    readonly connection: SocketConnection,
    timeoutMs: number,
    /** The client moved bytes or was cut loose: the frontend may write again. */
    private readonly progressed: () => void,
  ) {
    this.#stall = new StallWatch(timeoutMs, () => this.#behind, progressed);
  }

  get #behind(): boolean {
    return this.#waiting || this.#queue.bytes > 0;
  }

  /** Whether this client holds the frontend back now. */
  get pacing(): boolean {
    return this.#behind && !this.#stall.cutLoose;
  }

  /** Output for this client: straight to its socket, or into its queue (a copy of lent data) while it is behind. */
  write(data: Buffer, lease?: ReadLease): void {
    if (this.#behind) {
      this.#queue.push(lease === undefined ? data : Buffer.from(data), Date.now());
      // A frontend that honours the hold adds at most a write to a pacing client's queue.
      this.dropped += this.#queue.trimTo(this.pacing ? OUTPUT_QUEUE_LIMIT * HUB_LOSSLESS_QUEUE_FACTOR : OUTPUT_QUEUE_LIMIT);
      if (this.pacing) this.#stall.holding();
      return;
    }
    this.#send(data, lease);
    if (this.#waiting) this.#stall.holding();
  }

  #send(data: Buffer, lease?: ReadLease): void {
    this.#stall.took();
    if (!this.connection.write(data, lease)) this.#waiting = true;
  }

  /** The socket took what it had: the queue goes out until it asks to wait again. */
  drain(): void {
    this.#waiting = false;
    while (!this.#waiting) {
      const chunk = this.#queue.take(FLUSH_CHUNK);
      if (chunk === undefined) break;
      this.#send(chunk);
    }
    if (!this.#behind) this.#stall.caughtUp();
    else if (this.pacing) this.#stall.holding();
    this.progressed();
  }

  dispose(): void {
    this.#stall.dispose();
    this.#queue.clear();
  }
}
