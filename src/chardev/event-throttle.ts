/**
 * Reports a changing state at once, then at most once per interval: a
 * change within the interval is reported at its end, with the state as
 * it is then. QEMU throttles its rate-limited events the same way
 * (monitor_qapi_event_queue: the first at once, the latest one of the
 * period when the period ends), e.g. VSERPORT_CHANGE per port id.
 */
export class EventThrottle {
  #timer: NodeJS.Timeout | undefined;
  #changed = false;

  constructor(
    private readonly intervalMs: number,
    private readonly report: () => void,
  ) {}

  /** The state changed. */
  changed(): void {
    if (this.#timer !== undefined) {
      this.#changed = true;
      return;
    }
    this.report();
    this.#wait();
  }

  #wait(): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#changed) return;
      this.#changed = false;
      this.report();
      this.#wait();
    }, this.intervalMs);
    this.#timer.unref();
  }

  /** Drops a report still waiting for the end of its interval. */
  dispose(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#changed = false;
  }
}
