/**
 * The longest `stall-timeout` accepted: Node's timers take at most
 * 2^31 - 1 ms (a longer delay fires after 1 ms instead).
 */
export const STALL_TIMEOUT_MAX = 2 ** 31 - 1;

/**
 * The `stall-timeout` state of one output that paces its frontend (a hub
 * member, a client of a `clients=N` socket). While the output is behind
 * it holds the frontend back, as every member does in QEMU's hub; if it
 * takes nothing for `timeoutMs` meanwhile, it is cut loose: it stops
 * pacing and its owner drops its oldest bytes when its queue is full,
 * until it has caught up, when it paces again.
 *
 *   pacing --(took nothing for timeoutMs while behind)--> cut loose
 *   cut loose --(queue empty, backend took the last write)--> pacing
 */
export class StallWatch {
  #cutLoose = false;
  /** When the output last took bytes. */
  #lastTook = Date.now();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly timeoutMs: number,
    /** Whether the output is behind now (what it holds the frontend back for). */
    private readonly behind: () => boolean,
    /** Called once when the output is cut loose: the frontend may no longer wait for it. */
    private readonly onCutLoose: () => void,
  ) {}

  get cutLoose(): boolean {
    return this.#cutLoose;
  }

  /** The output took bytes: the clock starts again. */
  took(): void {
    this.#lastTook = Date.now();
  }

  /** The output is behind and holds the frontend back: from now on it is watched. */
  holding(): void {
    if (this.#cutLoose || this.#timer !== undefined) return;
    this.#arm(this.timeoutMs - (Date.now() - this.#lastTook));
  }

  /** The output caught up (nothing queued, its backend took the last write): it paces again. */
  caughtUp(): void {
    this.#cutLoose = false;
  }

  /** The output's peer went: nothing is watched and the output starts over, pacing. */
  reset(): void {
    this.dispose();
    this.#cutLoose = false;
    this.#lastTook = Date.now();
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** One timer per output at most, re-armed for what is left rather than restarted at every write. */
  #arm(delay: number): void {
    this.#timer = setTimeout(() => this.#check(), Math.max(0, delay));
    this.#timer.unref();
  }

  #check(): void {
    this.#timer = undefined;
    if (this.#cutLoose || !this.behind()) return;
    const idle = Date.now() - this.#lastTook;
    if (idle < this.timeoutMs) {
      this.#arm(this.timeoutMs - idle);
      return;
    }
    this.#cutLoose = true;
    this.onCutLoose();
  }
}
