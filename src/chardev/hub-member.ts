import type { Chardev, ChardevEvent, ChardevFrontend } from './chardev.js';
import { FLUSH_CHUNK, OutputQueue } from './output-queue.js';
import { StallWatch } from './stall-watch.js';

/**
 * How far a lossless member's queue may grow, as a multiple of the queue
 * size, when a frontend keeps writing after the hub told it to wait.
 * A frontend that honours `write() === false` never gets near it; one
 * that does not would otherwise grow memory without bound.
 */
export const HUB_LOSSLESS_QUEUE_FACTOR = 4;

/** HUB_MEMBER_DROPPED is sent at most once per member in this interval (QEMU's event throttling uses 1 s too). */
export const HUB_DROP_EVENT_INTERVAL_MS = 1000;

/** What a member needs of its hub (HubChardev). */
export interface MemberHub {
  readonly id: string;
  readonly backpressure: boolean;
  readonly queueSize: number;
  /** `stall-timeout` in ms: every member paces, and one that takes nothing for this long is cut loose. */
  readonly stallTimeoutMs: number | undefined;
  /** Input room for every member: the hub frontend's. */
  inputRoom(): number;
  memberInput(data: Buffer): void;
  memberEvent(member: HubMember, event: ChardevEvent): void;
  /** The member moved bytes or left: the hub's frontend may write again. */
  memberProgressed(): void;
  /** Sends HUB_MEMBER_DROPPED for the member. */
  reportDrops(member: HubMember): void;
}

/**
 * One member of a hub, and the hub's frontend on that member's chardev
 * (QEMU's HubCharBackend). Besides passing input and events up, it owns
 * the member's output queue.
 */
export class HubMember implements ChardevFrontend {
  readonly frontendOpen = true;
  /** How the monitor names this frontend when the member is asked for elsewhere. */
  readonly description: string;
  /**
   * The member's chardev never loses a byte (Chardev.losslessSink), so its
   * output is never dropped. Every other member (a socket viewer, a pty, a
   * pipe, a serial line) is a viewer whose queue overflows on its own.
   */
  readonly lossless: boolean;
  readonly #queue = new OutputQueue();
  /** With the hub's stall-timeout, for a member that may be cut loose (not a lossless sink). */
  readonly #stall: StallWatch | undefined;
  /** The member's backend asked to wait; what comes meanwhile is queued. */
  #waiting = false;
  #flushing = false;
  /** Counted in the hub's open count (QEMU's be_event_opened_cnt). */
  countedOpen = false;
  written = 0;
  dropped = 0;
  /** Bytes of history to send before live output, once the member is open. */
  pendingReplay = 0;
  #droppedReported = 0;
  #eventTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly hub: MemberHub,
    readonly chardev: Chardev,
  ) {
    this.description = `the hub '${hub.id}'`;
    this.lossless = chardev.losslessSink;
    if (hub.stallTimeoutMs !== undefined && !this.lossless) {
      this.#stall = new StallWatch(
        hub.stallTimeoutMs,
        () => this.#behind,
        () => this.hub.memberProgressed(),
      );
    }
  }

  receiveCapacity(): number {
    return this.hub.inputRoom();
  }

  receive(data: Buffer): void {
    this.hub.memberInput(data);
  }

  event(event: ChardevEvent): void {
    this.hub.memberEvent(this, event);
  }

  drain(): void {
    this.#waiting = false;
    this.flush();
  }

  get queued(): number {
    return this.#queue.bytes;
  }

  /** With the hub's stall-timeout: the member took nothing for that long while behind, and has not caught up since. */
  get cutLoose(): boolean {
    return this.#stall?.cutLoose ?? false;
  }

  get #behind(): boolean {
    return this.#waiting || this.#queue.bytes > 0;
  }

  /**
   * Whether this member holds the hub's frontend back now: with
   * backpressure or stall-timeout whenever it is behind (QEMU's hub),
   * unless stall-timeout cut it loose; by default only a lossless sink a
   * whole queue behind.
   */
  get pacing(): boolean {
    if (this.hub.backpressure || this.hub.stallTimeoutMs !== undefined) return this.#behind && !this.cutLoose;
    return this.lossless && this.#queue.bytes >= this.hub.queueSize;
  }

  /** Output for this member: straight to its backend, or into its queue while the backend is behind. */
  send(data: Buffer): void {
    if (this.#behind) {
      this.#queue.push(data, Date.now());
      // A member that paces loses nothing unless the frontend ignores the hold; a viewer (or one cut loose) keeps one queue.
      const limit = this.pacing || this.lossless ? this.hub.queueSize * HUB_LOSSLESS_QUEUE_FACTOR : this.hub.queueSize;
      const dropped = this.#queue.trimTo(limit);
      if (dropped > 0) this.#lost(dropped);
      if (this.pacing) this.#stall?.holding();
      return;
    }
    this.#write(data);
    if (this.#waiting) this.#stall?.holding();
  }

  #write(data: Buffer): void {
    this.written += data.length;
    this.#stall?.took();
    if (!this.chardev.write(data)) this.#waiting = true;
  }

  /** Hands queued bytes to the backend until it asks to wait again, then lets the hub re-check its frontend. */
  flush(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      while (!this.#waiting) {
        const chunk = this.#queue.take(FLUSH_CHUNK);
        if (chunk === undefined) break;
        this.#write(chunk);
      }
    } finally {
      this.#flushing = false;
    }
    if (!this.#behind) this.#stall?.caughtUp();
    else if (this.pacing) this.#stall?.holding();
    this.hub.memberProgressed();
  }

  /**
   * The member closed: what was queued was for the peer that left. QEMU
   * lets a backend that opens again catch up from the current position,
   * so the queue goes, uncounted (nobody was there to miss it).
   */
  forget(): void {
    this.#queue.clear();
    this.#waiting = false;
    this.#stall?.reset();
  }

  lagMs(now: number): number {
    const oldest = this.#queue.oldest;
    return oldest === undefined ? 0 : Math.max(0, now - oldest);
  }

  #lost(bytes: number): void {
    this.dropped += bytes;
    if (this.#eventTimer === undefined) this.#report();
  }

  /** QEMU's throttling: report now, then at most once per interval with the latest count. */
  #report(): void {
    this.#droppedReported = this.dropped;
    this.hub.reportDrops(this);
    this.#eventTimer = setTimeout(() => {
      this.#eventTimer = undefined;
      if (this.dropped !== this.#droppedReported) this.#report();
    }, HUB_DROP_EVENT_INTERVAL_MS);
    this.#eventTimer.unref();
  }

  dispose(): void {
    this.#stall?.dispose();
    clearTimeout(this.#eventTimer);
    this.#eventTimer = undefined;
    this.#queue.clear();
  }
}
