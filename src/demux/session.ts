import { DemuxChannel, type DemuxChannelHandler } from './channel.js';
import {
  codeName,
  DEFAULT_MAX_CHANNELS,
  DEFAULT_MAX_PAYLOAD,
  DEFAULT_WINDOW,
  DemuxCode,
  type DemuxRole,
  FrameFlag,
  FrameType,
  isServiceName,
  MAX_PAYLOAD_LIMIT,
  MAX_WINDOW,
  MIN_PAYLOAD_LIMIT,
  VERSION_MAX,
  VERSION_MIN,
} from './codes.js';
import { type Crc32, crc32 } from './crc32.js';
import { encodeFrame, FrameDecoder, type FrameHeader } from './frame.js';
import { type DemuxTarget, decodeHello, decodeOpen, decodeReason, decodeU32, encodeHello, encodeOpen, encodeReason, type Hello } from './payloads.js';

/** The largest DATA payload sent at a time, so that channels take turns at a fine grain. */
export const DATA_QUANTUM = 32 << 10;

/** An error frame received, or a rule the peer broke that this side answered with an ERROR, CLOSE or REFUSE. */
export interface DemuxSessionError {
  readonly code: number;
  readonly reason: string;
  /** The channel the error is about; 0 for the session. */
  readonly channel: number;
  /** True for an ERROR frame from the peer, false for what this side found. */
  readonly fromPeer: boolean;
}

export interface DemuxSessionOptions {
  readonly role: DemuxRole;
  /** The largest payload this side receives (HELLO's max_payload). */
  readonly maxPayload?: number;
  /** How many channels this side keeps at once (HELLO's max_channels). */
  readonly maxChannels?: number;
  /** Credit granted per channel. */
  readonly window?: number;
  /** Writes bytes to the transport; false asks to wait for `drained()` before more DATA. */
  readonly write: (bytes: Uint8Array) => boolean;
  /** An OPEN from the peer: call `channel.accept(handler)` or `channel.refuse(code, reason)`, now or later. */
  readonly incoming: (channel: DemuxChannel) => void;
  /** This side refused an OPEN before any `incoming` (a malformed name, past the channel limit). */
  readonly refused?: (channel: number, target: DemuxTarget | undefined, code: number, reason: string) => void;
  /** The handshake completed (again, after a peer restart). */
  readonly ready?: () => void;
  readonly error?: (error: DemuxSessionError) => void;
  /** A faster CRC-32 than the built-in one, if the host has one (Node's zlib.crc32). */
  readonly crc32?: Crc32;
  /** Milliseconds, for channel ages (Date.now by default). */
  readonly now?: () => number;
}

/** Something a session cannot do now (open before the handshake, past the limit, a bad name). */
export class DemuxOpenError extends Error {
  override readonly name = 'DemuxOpenError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export type DemuxSessionState = 'idle' | 'hello-sent' | 'ready' | 'failed';

/**
 * One end of the demux protocol over one byte stream: the handshake, the
 * channel table, the frames in and out, and fair sending (channels with
 * data take turns, one DATA_QUANTUM each, while the transport takes
 * more). Pure: it knows bytes and callbacks only, so the same code runs in
 * the daemon and at the guest end.
 */
export class DemuxSession {
  readonly role: DemuxRole;
  readonly maxPayload: number;
  readonly maxChannels: number;
  readonly window: number;
  #state: DemuxSessionState = 'idle';
  readonly #decoder: FrameDecoder;
  readonly #channels = new Map<number, DemuxChannel>();
  /** Channels with data and credit, in turn order. */
  readonly #turns: DemuxChannel[] = [];
  readonly #inTurns = new Set<DemuxChannel>();
  #writable = true;
  #pumping = false;
  #nextId: number;
  #peer: Hello | undefined;
  #notReadyTold = false;
  readonly #crc: Crc32;
  /** Bytes skipped as garbage, frames dropped (bad checksum, too large), errors sent and received: for queries. */
  readonly counters = { garbageBytes: 0, droppedFrames: 0, errorsSent: 0, errorsReceived: 0 };

  constructor(private readonly options: DemuxSessionOptions) {
    this.role = options.role;
    this.maxPayload = clamp(options.maxPayload ?? DEFAULT_MAX_PAYLOAD, MIN_PAYLOAD_LIMIT, MAX_PAYLOAD_LIMIT);
    this.maxChannels = Math.max(1, options.maxChannels ?? DEFAULT_MAX_CHANNELS);
    this.window = clamp(options.window ?? DEFAULT_WINDOW, 1, MAX_WINDOW);
    this.#nextId = options.role === 'primary' ? 2 : 1;
    this.#crc = options.crc32 ?? crc32;
    this.#decoder = new FrameDecoder(
      {
        frame: (header, payload) => this.#frame(header, payload),
        garbage: (count) => {
          this.counters.garbageBytes += count;
          this.#error(DemuxCode.GARBAGE, 0, `skipped ${count} bytes that were not a frame`);
        },
        oversize: (header) => {
          this.counters.droppedFrames++;
          const reason = `frame of ${header.length} bytes is larger than ${this.maxPayload}`;
          this.#error(DemuxCode.FRAME_TOO_LARGE, header.channel, reason);
          this.#channels.get(header.channel)?.close(DemuxCode.FRAME_TOO_LARGE, reason);
        },
        corrupt: (header) => {
          this.counters.droppedFrames++;
          this.#error(DemuxCode.CHECKSUM, header.channel, 'payload checksum mismatch');
          // A lost DATA frame breaks that channel's byte stream; a lost control frame leaves its state unknown.
          this.#channels.get(header.channel)?.close(DemuxCode.CHECKSUM, 'a frame of this channel was corrupted');
        },
      },
      this.maxPayload,
      this.#crc,
    );
  }

  get state(): DemuxSessionState {
    return this.#state;
  }

  /** The peer's HELLO, once received. */
  get peer(): Hello | undefined {
    return this.#peer;
  }

  /** Channels that hold an id now, in the order opened. */
  get channels(): DemuxChannel[] {
    return [...this.#channels.values()];
  }

  /** The transport is up: says HELLO. */
  start(): void {
    this.#state = 'hello-sent';
    this.#notReadyTold = false;
    this.#writeFrame(FrameType.HELLO, 0, 0, this.#hello());
  }

  /** The transport went away: every channel ends (TRANSPORT_LOST), a partial frame is forgotten. */
  transportLost(reason = 'transport lost'): void {
    this.#resetChannels(DemuxCode.TRANSPORT_LOST, reason);
    this.#decoder.reset();
    this.#state = 'idle';
    this.#peer = undefined;
    this.#writable = true;
  }

  /** Bytes from the transport. */
  receive(bytes: Uint8Array): void {
    this.#decoder.push(bytes);
  }

  /** The transport takes more again. */
  drained(): void {
    this.#writable = true;
    this.#pump();
  }

  /**
   * Opens a channel to `target` on the peer; data written before it is
   * accepted waits. Throws DemuxOpenError before the handshake, past the
   * channel limit, or for a malformed name.
   */
  open(target: DemuxTarget, handler: DemuxChannelHandler, window = this.window): DemuxChannel {
    if (this.#state !== 'ready') throw new DemuxOpenError(DemuxCode.NOT_READY, 'the demux session is not connected');
    if ('name' in target && !isServiceName(target.name)) throw new DemuxOpenError(DemuxCode.BAD_NAME, `bad service name '${target.name}'`);
    if ('port' in target && (!Number.isInteger(target.port) || target.port < 0 || target.port > 0xffffffff)) {
      throw new DemuxOpenError(DemuxCode.BAD_NAME, `bad port ${target.port}`);
    }
    const limit = Math.min(this.maxChannels, this.#peer!.maxChannels);
    if (this.#channels.size >= limit) throw new DemuxOpenError(DemuxCode.TOO_MANY_CHANNELS, `too many channels (the limit is ${limit})`);
    const id = this.#allocateId();
    const channel = new DemuxChannel(this, id, target, 'local', this.window, handler);
    const grant = clamp(window, 1, MAX_WINDOW);
    channel.granted(grant);
    this.#channels.set(id, channel);
    this.#writeFrame(FrameType.OPEN, 'port' in target ? FrameFlag.BY_PORT : 0, id, encodeOpen(grant, target));
    return channel;
  }

  /** Closes every channel with `code` (CLOSE frames go out) and stops opening: an orderly end of the session. */
  closeAll(code: number = DemuxCode.SHUTTING_DOWN, reason = 'shutting down'): void {
    for (const channel of this.#channels.values()) channel.close(code, reason);
  }

  // ChannelOwner

  sendControl(type: number, flags: number, channel: number, payload?: Uint8Array): void {
    this.#writeFrame(type, flags, channel, payload);
  }

  wake(channel: DemuxChannel): void {
    if (!this.#inTurns.has(channel)) {
      this.#inTurns.add(channel);
      this.#turns.push(channel);
    }
    this.#pump();
  }

  release(channel: DemuxChannel): void {
    if (this.#channels.get(channel.id) === channel) this.#channels.delete(channel.id);
  }

  now(): number {
    return (this.options.now ?? Date.now)();
  }

  #hello(): Uint8Array {
    return encodeHello({ minVersion: VERSION_MIN, maxVersion: VERSION_MAX, role: this.role, maxPayload: this.maxPayload, maxChannels: this.maxChannels });
  }

  #allocateId(): number {
    for (;;) {
      const id = this.#nextId;
      // Ids of one parity, skipping 0 and those in use; wraps past 2^32.
      this.#nextId = this.#nextId + 2 > 0xffffffff ? (this.role === 'primary' ? 2 : 1) : this.#nextId + 2;
      if (!this.#channels.has(id)) return id;
    }
  }

  #writeFrame(type: number, flags: number, channel: number, payload?: Uint8Array): void {
    if (!this.options.write(encodeFrame(type, flags, channel, payload, this.#crc))) this.#writable = false;
  }

  /** Each channel with data and credit sends one DATA frame in turn, while the transport takes more. */
  #pump(): void {
    if (this.#pumping || this.#peer === undefined) return;
    this.#pumping = true;
    try {
      const quantum = Math.min(DATA_QUANTUM, this.#peer.maxPayload);
      while (this.#writable && this.#turns.length > 0) {
        const channel = this.#turns.shift()!;
        this.#inTurns.delete(channel);
        if (!channel.sendable) continue;
        this.#writeFrame(FrameType.DATA, 0, channel.id, channel.takeData(quantum));
        channel.dataSent();
        if (channel.sendable && !this.#inTurns.has(channel)) {
          this.#inTurns.add(channel);
          this.#turns.push(channel);
        }
      }
    } finally {
      this.#pumping = false;
    }
  }

  #error(code: number, channel: number, reason: string): void {
    this.counters.errorsSent++;
    this.#writeFrame(FrameType.ERROR, 0, channel, encodeReason(code, reason));
    this.options.error?.({ code, reason, channel, fromPeer: false });
  }

  #resetChannels(code: number, reason: string): void {
    const channels = [...this.#channels.values()];
    this.#channels.clear();
    this.#turns.length = 0;
    this.#inTurns.clear();
    for (const channel of channels) channel.onSessionEnd(code, reason);
  }

  #frame(header: FrameHeader, payload: Uint8Array): void {
    if (header.type === FrameType.HELLO) {
      this.#hello_(header, payload);
      return;
    }
    if (this.#state !== 'ready') {
      // Once per wait: a peer that talks before its HELLO gets told, not flooded.
      if (!this.#notReadyTold && this.#state !== 'failed') this.#error(DemuxCode.NOT_READY, header.channel, 'no HELLO received yet');
      this.#notReadyTold = true;
      return;
    }
    switch (header.type) {
      case FrameType.OPEN:
        this.#open(header, payload);
        return;
      case FrameType.ERROR: {
        const error = decodeReason(payload) ?? { code: DemuxCode.BAD_FRAME, reason: 'malformed ERROR frame' };
        this.counters.errorsReceived++;
        this.options.error?.({ ...error, channel: header.channel, fromPeer: true });
        return;
      }
      case FrameType.ACCEPT:
      case FrameType.REFUSE:
      case FrameType.DATA:
      case FrameType.CREDIT:
      case FrameType.SHUTDOWN:
      case FrameType.CLOSE:
        this.#channelFrame(header, payload);
        return;
      default:
        this.#error(DemuxCode.UNKNOWN_TYPE, header.channel, `unknown frame type ${header.type}`);
    }
  }

  #hello_(header: FrameHeader, payload: Uint8Array): void {
    const hello = decodeHello(payload);
    if (hello === undefined) {
      this.#error(DemuxCode.BAD_FRAME, 0, 'malformed HELLO');
      return;
    }
    const ack = (header.flags & FrameFlag.ACK) !== 0;
    // A HELLO while ready is a peer that started over: what it had open is gone. An ACK while ready only confirms.
    if (this.#state === 'ready') {
      if (ack) return;
      this.#resetChannels(DemuxCode.PEER_RESTART, 'the peer started over');
    }
    if (!ack) this.#writeFrame(FrameType.HELLO, FrameFlag.ACK, 0, this.#hello());
    const version = Math.min(VERSION_MAX, hello.maxVersion);
    if (version < Math.max(VERSION_MIN, hello.minVersion)) {
      this.#fail(DemuxCode.VERSION, `no common version: this side speaks ${VERSION_MIN}..${VERSION_MAX}, the peer ${hello.minVersion}..${hello.maxVersion}`);
      return;
    }
    if (hello.role === this.role) {
      this.#fail(DemuxCode.ROLE, `both sides are ${this.role}`);
      return;
    }
    this.#peer = { ...hello, maxPayload: clamp(hello.maxPayload, MIN_PAYLOAD_LIMIT, MAX_PAYLOAD_LIMIT) };
    this.#state = 'ready';
    this.#notReadyTold = false;
    this.#writable = true;
    this.options.ready?.();
  }

  #fail(code: number, reason: string): void {
    this.#state = 'failed';
    this.#peer = undefined;
    this.#error(code, 0, reason);
  }

  #open(header: FrameHeader, payload: Uint8Array): void {
    const id = header.channel;
    const open = decodeOpen(payload, (header.flags & FrameFlag.BY_PORT) !== 0);
    // The peer's ids have the other parity: a wrong one would collide with this side's.
    const peerParity = this.role === 'primary' ? 1 : 0;
    if (open === undefined || id === 0 || id % 2 !== peerParity) {
      this.#error(DemuxCode.BAD_FRAME, id, open === undefined ? 'malformed OPEN' : `channel id ${id} is not the peer's to open`);
      return;
    }
    if (this.#channels.has(id)) {
      this.#error(DemuxCode.CHANNEL_IN_USE, id, `channel ${id} is in use`);
      return;
    }
    const refuse = (code: number, reason: string): void => {
      this.options.refused?.(id, open.target, code, reason);
      this.#writeFrame(FrameType.REFUSE, 0, id, encodeReason(code, reason));
    };
    if ('name' in open.target && !isServiceName(open.target.name)) return refuse(DemuxCode.BAD_NAME, 'malformed service name');
    if (open.window > MAX_WINDOW) return refuse(DemuxCode.BAD_FRAME, `window ${open.window} is larger than ${MAX_WINDOW}`);
    if (this.#channels.size >= this.maxChannels) return refuse(DemuxCode.TOO_MANY_CHANNELS, `too many channels (the limit is ${this.maxChannels})`);
    const channel = new DemuxChannel(this, id, open.target, 'remote', this.window);
    this.#channels.set(id, channel);
    channel.peerGranted(open.window);
    this.options.incoming(channel);
  }

  #channelFrame(header: FrameHeader, payload: Uint8Array): void {
    const channel = this.#channels.get(header.channel);
    if (channel === undefined) {
      // A CLOSE may cross a REFUSE or the end of the channel: nothing to say.
      if (header.type !== FrameType.CLOSE) this.#error(DemuxCode.UNKNOWN_CHANNEL, header.channel, `no channel ${header.channel}`);
      return;
    }
    const bad = (what: string): void => this.#error(DemuxCode.BAD_FRAME, header.channel, what);
    const local = channel.initiator === 'local';
    switch (header.type) {
      case FrameType.ACCEPT: {
        const window = decodeU32(payload);
        if (window === undefined || window > MAX_WINDOW) return bad('malformed ACCEPT');
        if (!local || (channel.state !== 'opening' && channel.state !== 'closing')) return bad(`ACCEPT for channel ${header.channel}, which is not waiting for one`);
        channel.onAccept(window);
        return;
      }
      case FrameType.REFUSE: {
        if (!local || (channel.state !== 'opening' && channel.state !== 'closing')) return bad(`REFUSE for channel ${header.channel}, which is not waiting for one`);
        const { code, reason } = decodeReason(payload) ?? { code: DemuxCode.REFUSED, reason: '' };
        channel.onRefuse(code, reason);
        return;
      }
      case FrameType.DATA: {
        if (channel.state === 'opening') return this.#violation(channel, DemuxCode.FLOW_CONTROL, 'DATA before ACCEPT');
        const broken = channel.onData(payload);
        if (broken !== undefined) this.#violation(channel, broken, broken === DemuxCode.FLOW_CONTROL ? 'DATA beyond credit' : 'DATA after SHUTDOWN');
        return;
      }
      case FrameType.CREDIT: {
        const increment = decodeU32(payload);
        if (increment === undefined) return bad('malformed CREDIT');
        if (channel.state === 'opening') return;
        const broken = channel.onCredit(increment);
        if (broken !== undefined) this.#violation(channel, broken, `credit above ${MAX_WINDOW}`);
        return;
      }
      case FrameType.SHUTDOWN:
        if (channel.state === 'opening') return bad('SHUTDOWN before ACCEPT');
        channel.onShutdown();
        return;
      case FrameType.CLOSE: {
        const { code, reason } = decodeReason(payload) ?? { code: DemuxCode.OK, reason: '' };
        channel.onClose(code, reason);
        return;
      }
    }
  }

  /** The peer broke a channel's rules: the channel is closed with `code`. */
  #violation(channel: DemuxChannel, code: number, reason: string): void {
    this.options.error?.({ code, reason, channel: channel.id, fromPeer: false });
    channel.close(code, `${codeName(code)}: ${reason}`);
  }
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.floor(value)));
}
