import { DemuxCode, FrameType, MAX_WINDOW } from './codes.js';
import { type DemuxTarget, encodeReason, encodeU32 } from './payloads.js';

/**
 * A channel's life (docs/demux-protocol.md, "Channel states"):
 * `opening` (OPEN sent, or received and not yet answered), `open`,
 * `closing` (CLOSE sent, the peer's not yet received), `closed` (the id is
 * free again).
 */
export type DemuxChannelState = 'opening' | 'open' | 'closing' | 'closed';

/** How a channel ended. */
export interface DemuxCloseInfo {
  /** A DemuxCode: OK for an orderly close. */
  readonly code: number;
  readonly reason: string;
  /** The peer (or this side) refused the OPEN. */
  readonly refused: boolean;
  /** The peer's frame (CLOSE, REFUSE) started the end, not this side. */
  readonly byPeer: boolean;
}

/** What a channel tells its user. */
export interface DemuxChannelHandler {
  /** The peer accepted this side's OPEN. */
  accepted?(): void;
  /** Bytes from the peer. Their credit comes back once the user calls `consumed()`. */
  data(bytes: Uint8Array): void;
  /** The peer sends no more (SHUTDOWN). */
  end?(): void;
  /** The channel is gone; nothing more is delivered. */
  closed?(info: DemuxCloseInfo): void;
  /** The send queue fell below half its mark after `write()` returned false. */
  writable?(): void;
}

/** What a channel needs of its session (DemuxSession implements it). */
export interface ChannelOwner {
  sendControl(type: number, flags: number, channel: number, payload?: Uint8Array): void;
  /** The channel has data to send and credit to send it with. */
  wake(channel: DemuxChannel): void;
  /** The channel's id is free. */
  release(channel: DemuxChannel): void;
  readonly window: number;
  now(): number;
}

/**
 * One channel: its state, credit both ways and the bytes waiting to be
 * sent. The session turns frames into calls of the `on*` methods and
 * takes data with `takeData()`; the user calls the rest.
 */
export class DemuxChannel {
  #state: DemuxChannelState = 'opening';
  #handler: DemuxChannelHandler | undefined;
  /** Bytes this side may still send (the peer's grant). */
  #sendCredit = 0;
  /** Bytes the peer may still send (this side's grant). */
  #recvCredit = 0;
  /** This side's window: its grant when open, and the credit it keeps topped up. */
  #window = 0;
  /** Bytes the user consumed whose credit has not been returned. */
  #unreturned = 0;
  readonly #queue: Uint8Array[] = [];
  #queued = 0;
  #blocked = false;
  #endRequested = false;
  #shutdownSent = false;
  #shutdownReceived = false;
  #closeSent = false;
  /** Who ended it and why, once known. */
  #closeInfo: DemuxCloseInfo | undefined;
  bytesIn = 0;
  bytesOut = 0;
  readonly createdAt: number;

  constructor(
    private readonly owner: ChannelOwner,
    readonly id: number,
    readonly target: DemuxTarget,
    /** Which side sent the OPEN. */
    readonly initiator: 'local' | 'remote',
    /** The mark above which `write()` says to wait. */
    readonly sendHighWater: number,
    handler?: DemuxChannelHandler,
  ) {
    this.#handler = handler;
    this.createdAt = owner.now();
  }

  get state(): DemuxChannelState {
    return this.#state;
  }

  /** Bytes queued and not yet sent. */
  get queued(): number {
    return this.#queued;
  }

  get sendCredit(): number {
    return this.#sendCredit;
  }

  get receiveCredit(): number {
    return this.#recvCredit;
  }

  /** Whether the peer half-closed (SHUTDOWN received). */
  get peerEnded(): boolean {
    return this.#shutdownReceived;
  }

  /** Whether this side half-closed (SHUTDOWN sent). */
  get ended(): boolean {
    return this.#shutdownSent;
  }

  /** Accepts an incoming OPEN, granting `window` bytes of credit. */
  accept(handler: DemuxChannelHandler, window = this.owner.window): void {
    if (this.#state !== 'opening' || this.initiator !== 'remote') return;
    this.#handler = handler;
    this.#state = 'open';
    this.#window = this.#recvCredit = Math.min(window, MAX_WINDOW);
    this.owner.sendControl(FrameType.ACCEPT, 0, this.id, encodeU32(this.#window));
    if (this.#queued > 0) this.owner.wake(this);
  }

  /** Refuses an incoming OPEN. */
  refuse(code: number, reason: string): void {
    if (this.#state !== 'opening' || this.initiator !== 'remote') return;
    this.owner.sendControl(FrameType.REFUSE, 0, this.id, encodeReason(code, reason));
    this.#finish({ code, reason, refused: true, byPeer: false });
  }

  /** Queues bytes to send; false when the queue is above its mark (wait for `writable`). Bytes written after end() or close are dropped. */
  write(bytes: Uint8Array): boolean {
    if (this.#endRequested || this.#state === 'closing' || this.#state === 'closed') return true;
    if (bytes.length > 0) {
      this.#queue.push(bytes);
      this.#queued += bytes.length;
      if (this.#state === 'open' && this.#sendCredit > 0) this.owner.wake(this);
    }
    if (this.#queued >= this.sendHighWater) this.#blocked = true;
    return !this.#blocked;
  }

  /** Half-closes: SHUTDOWN goes once the queued bytes are sent. */
  end(): void {
    if (this.#endRequested || this.#state === 'closing' || this.#state === 'closed') return;
    this.#endRequested = true;
    if (this.#state === 'open') this.#maybeShutdown();
  }

  /** Ends the channel at once (CLOSE, or REFUSE for an unanswered incoming OPEN); queued bytes are dropped. */
  close(code: number = DemuxCode.OK, reason = ''): void {
    if (this.#state === 'opening' && this.initiator === 'remote') {
      this.refuse(code, reason);
      return;
    }
    if (this.#state === 'closing' || this.#state === 'closed') return;
    this.#dropQueue();
    this.#closeInfo = { code, reason, refused: false, byPeer: false };
    this.#sendClose(code, reason);
  }

  /** The user has taken `count` bytes of what `data` delivered: their credit goes back to the peer, in batches. */
  consumed(count: number): void {
    if (this.#state !== 'open' || this.#shutdownReceived) return;
    this.#unreturned += count;
    // Returned once the peer is down to half its window, so that a steady stream costs one CREDIT per half window.
    if (this.#unreturned > 0 && this.#recvCredit <= this.#window / 2) {
      this.owner.sendControl(FrameType.CREDIT, 0, this.id, encodeU32(this.#unreturned));
      this.#recvCredit += this.#unreturned;
      this.#unreturned = 0;
    }
  }

  // What the session calls.

  /** Whether the channel has bytes to send and credit for them. */
  get sendable(): boolean {
    return this.#state === 'open' && this.#queued > 0 && this.#sendCredit > 0;
  }

  /** Up to `max` queued bytes, within credit, for one DATA frame. */
  takeData(max: number): Uint8Array {
    const size = Math.min(max, this.#sendCredit, this.#queued);
    let chunk: Uint8Array;
    const first = this.#queue[0]!;
    if (first.length <= size) {
      chunk = first.length === size ? first : gather(this.#queue, size);
      if (chunk === first) this.#queue.shift();
    } else {
      chunk = first.subarray(0, size);
      this.#queue[0] = first.subarray(size);
    }
    this.#queued -= size;
    this.#sendCredit -= size;
    this.bytesOut += size;
    return chunk;
  }

  /** After the DATA frame of `takeData()` was written: SHUTDOWN may follow, the user may write again. */
  dataSent(): void {
    if (this.#blocked && this.#queued < this.sendHighWater / 2) {
      this.#blocked = false;
      this.#handler?.writable?.();
    }
    this.#maybeShutdown();
  }

  onAccept(window: number): void {
    if (this.#state === 'closing') return;
    this.#state = 'open';
    this.#sendCredit = window;
    this.#handler?.accepted?.();
    if (this.sendable) this.owner.wake(this);
    this.#maybeShutdown();
  }

  /** An incoming OPEN granted `window`: this side's send credit once it accepts. */
  peerGranted(window: number): void {
    this.#sendCredit = window;
  }

  /** This side's OPEN asked for `window`: its grant to the peer, set before the OPEN goes. */
  granted(window: number): void {
    this.#window = this.#recvCredit = window;
  }

  onRefuse(code: number, reason: string): void {
    this.#finish({ code, reason, refused: true, byPeer: true });
  }

  /** DATA from the peer; a DemuxCode when it broke the rules (the session then closes the channel). */
  onData(payload: Uint8Array): number | undefined {
    if (this.#state === 'closing') return undefined;
    if (this.#shutdownReceived) return DemuxCode.BAD_FRAME;
    if (payload.length > this.#recvCredit) return DemuxCode.FLOW_CONTROL;
    this.#recvCredit -= payload.length;
    this.bytesIn += payload.length;
    this.#handler?.data(payload);
    return undefined;
  }

  /** CREDIT from the peer; a DemuxCode when it broke the rules. */
  onCredit(increment: number): number | undefined {
    if (this.#state === 'closing') return undefined;
    if (this.#sendCredit + increment > MAX_WINDOW) return DemuxCode.FLOW_CONTROL;
    this.#sendCredit += increment;
    if (this.sendable) this.owner.wake(this);
    return undefined;
  }

  onShutdown(): void {
    if (this.#state === 'closing' || this.#shutdownReceived) return;
    this.#shutdownReceived = true;
    this.#unreturned = 0;
    this.#handler?.end?.();
    this.#maybeClose();
  }

  onClose(code: number, reason: string): void {
    this.#dropQueue();
    this.#closeInfo ??= { code, reason, refused: false, byPeer: true };
    if (!this.#closeSent) this.owner.sendControl(FrameType.CLOSE, 0, this.id, encodeReason(DemuxCode.OK, ''));
    this.#finish(this.#closeInfo);
  }

  /** The session ended under the channel (transport lost, peer restarted): no frames, the id is free. */
  onSessionEnd(code: number, reason: string): void {
    this.#dropQueue();
    this.#finish(this.#closeInfo ?? { code, reason, refused: false, byPeer: false });
  }

  #maybeShutdown(): void {
    if (this.#endRequested && !this.#shutdownSent && this.#queued === 0 && this.#state === 'open') {
      this.#shutdownSent = true;
      this.owner.sendControl(FrameType.SHUTDOWN, 0, this.id);
      this.#maybeClose();
    }
  }

  /** Both sides said SHUTDOWN: the orderly CLOSE. */
  #maybeClose(): void {
    if (this.#shutdownSent && this.#shutdownReceived && !this.#closeSent) {
      this.#closeInfo ??= { code: DemuxCode.OK, reason: '', refused: false, byPeer: false };
      this.#sendClose(DemuxCode.OK, '');
    }
  }

  #sendClose(code: number, reason: string): void {
    this.#closeSent = true;
    this.#state = 'closing';
    this.owner.sendControl(FrameType.CLOSE, 0, this.id, encodeReason(code, reason));
  }

  #dropQueue(): void {
    this.#queue.length = 0;
    this.#queued = 0;
  }

  #finish(info: DemuxCloseInfo): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.owner.release(this);
    this.#handler?.closed?.(info);
  }
}

/** The first `size` bytes of the queue, taken out of it as one buffer. */
function gather(queue: Uint8Array[], size: number): Uint8Array {
  const chunk = new Uint8Array(size);
  let at = 0;
  while (at < size) {
    const first = queue[0]!;
    const part = Math.min(first.length, size - at);
    chunk.set(first.subarray(0, part), at);
    at += part;
    if (part === first.length) queue.shift();
    else queue[0] = first.subarray(part);
  }
  return chunk;
}
