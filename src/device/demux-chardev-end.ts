import type { Chardev, ChardevFrontend } from '../chardev/chardev.js';
import type { DemuxChannel, DemuxChannelHandler, DemuxCloseInfo } from '../demux/channel.js';

/** The most a chardev hands a channel at once. */
const CHUNK = 64 << 10;

/**
 * A chardev as the target of a demux service: the frontend of the
 * chardev while one channel is open, bytes both ways with the same
 * backpressure as a link (the chardev's input pauses while the channel's
 * queue is full; the peer's credit comes back once the chardev took the
 * bytes). A chardev has no half-close: the peer's SHUTDOWN ends the
 * channel from this side too (what the chardev had sent goes first), which
 * frees the chardev for the next channel.
 */
export class ChardevChannelEnd implements ChardevFrontend, DemuxChannelHandler {
  readonly frontendOpen = true;
  #channel: DemuxChannel | undefined;
  #full = false;
  #owed = 0;

  constructor(
    readonly chardev: Chardev,
    private readonly onClosed: (info: DemuxCloseInfo) => void,
  ) {
    chardev.attach(this);
  }

  attach(channel: DemuxChannel): void {
    this.#channel = channel;
    this.chardev.acceptInput();
  }

  receiveCapacity(): number {
    return this.#channel === undefined || this.#full ? 0 : CHUNK;
  }

  receive(data: Buffer): void {
    if (this.#channel !== undefined && !this.#channel.write(data)) this.#full = true;
  }

  event(): void {}

  drain(): void {
    const count = this.#owed;
    this.#owed = 0;
    this.#channel?.consumed(count);
  }

  data(bytes: Uint8Array): void {
    if (this.chardev.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length))) this.#channel?.consumed(bytes.length);
    else this.#owed += bytes.length;
  }

  end(): void {
    this.#channel?.end();
  }

  writable(): void {
    this.#full = false;
    this.chardev.acceptInput();
  }

  closed(info: DemuxCloseInfo): void {
    this.chardev.detach(this);
    this.onClosed(info);
  }
}
