import * as fs from 'node:fs';
import * as net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import type { ReadLease } from './read-buffer.js';

/**
 * Output a backend queues for a slow peer before dropping: the bound that
 * keeps a frontend which ignores `write() === false` from growing memory
 * without limit. QEMU never queues (a full fd returns EAGAIN to the
 * frontend); Node streams always do, so chardevd caps the queue.
 */
export const OUTPUT_QUEUE_LIMIT = 1 << 20;

/**
 * How long closing a stream backend waits for queued output to reach a
 * peer that does not read. QEMU queues nothing, so its close loses
 * nothing it had accepted; chardevd gives the queue this long to flush
 * and then drops the rest, so that a stuck reader cannot hold up
 * chardev-remove or the daemon's exit.
 */
export const CLOSE_FLUSH_TIMEOUT_MS = 1000;

/**
 * The writing side of a stream backend: Node's write/drain, a hard cap
 * on what is queued, and a count of what the cap dropped.
 *
 * The cap refuses a write only while Node owes a 'drain' (the queue is
 * above the stream's high-water mark), so a refused frontend is always
 * woken again: by 'drain', or by `streamClosed()` when the stream dies
 * first. A write arriving below the mark is taken whole whatever its
 * size, so one larger than the cap still goes out.
 */
export class StreamOutput {
  /** Bytes discarded because the queue was full or the stream gone. */
  dropped = 0;
  readonly #onDrain: () => void;
  /** write() returned false and the frontend has not been woken yet. */
  #owed = false;
  /** Gives back the lent buffer of a write that did not complete at once, once the stream is empty. */
  #release: (() => void) | undefined;

  constructor(
    readonly stream: Writable,
    onDrain: () => void,
  ) {
    this.#onDrain = onDrain;
    // Registered as given, so that an owner can remove it by reference.
    stream.on('drain', onDrain);
  }

  /**
   * Queues `data`; false when the caller should wait for drain. Lent
   * `data` (with a `lease`) goes out as it is when nothing is queued
   * before it, and is kept only if the stream did not take it at once
   * (a socket's write finishing later); behind queued output it goes as
   * a copy, so that a queue never holds more than one lent buffer.
   */
  write(data: Buffer, lease?: ReadLease): boolean {
    const stream = this.stream;
    if (stream.destroyed || !stream.writable) {
      this.dropped += data.length;
      return true;
    }
    if (stream.writableNeedDrain && stream.writableLength + data.length > OUTPUT_QUEUE_LIMIT) {
      this.dropped += data.length;
      this.#owe();
      return false;
    }
    if (this.#write(data, lease)) return true;
    this.#owe();
    return false;
  }

  #write(data: Buffer, lease: ReadLease | undefined): boolean {
    const stream = this.stream;
    // An empty stream has finished every write, the one of a kept buffer too (no callback per write: Node batches writes without one).
    if (this.#release !== undefined && stream.writableLength === 0) {
      this.#release();
      this.#release = undefined;
    }
    if (lease === undefined) return stream.write(data);
    if (stream.writableLength > 0) return stream.write(Buffer.from(data));
    const more = stream.write(data);
    if (stream.writableLength > 0) this.#release = lease.keep();
    return more;
  }

  /**
   * The stream closed (the peer went away, a write failed): a frontend
   * told to wait hears drain now and finds its writes dropped, as QEMU
   * wakes a frontend's G_IO_OUT|G_IO_HUP watch on a hang-up.
   */
  streamClosed(): void {
    if (!this.#owed) return;
    this.#owed = false;
    this.stream.off('drain', this.#paid);
    this.#onDrain();
  }

  /**
   * Ends the stream after what is queued was written, waiting at most
   * CLOSE_FLUSH_TIMEOUT_MS, and releases its descriptor. The read side of
   * a duplex stream (a FIFO used both ways) is closed as well.
   */
  async close(): Promise<void> {
    const stream = this.stream;
    if (stream.closed) return;
    await endWithin(stream, () => {
      this.dropped += stream.writableLength;
    });
  }

  #owe(): void {
    if (this.#owed) return;
    this.#owed = true;
    // Ahead of the owner's listener, which may be refused again and owe anew.
    this.stream.prependOnceListener('drain', this.#paid);
  }

  readonly #paid = (): void => {
    this.#owed = false;
  };
}

/** What a backend wants to hear from its input stream. */
export interface StreamInputHandlers {
  data(chunk: Buffer): void;
  /** The source ended (EOF): QEMU reports CLOSED on the read side. */
  end(): void;
  error(error: Error): void;
}

/**
 * The reading side of a stream backend: starts paused, and reads only
 * while the chardev's frontend can take input.
 */
export class StreamInput {
  #ended = false;

  constructor(
    readonly stream: Readable,
    handlers: StreamInputHandlers,
  ) {
    stream.pause();
    stream.on('data', (chunk: Buffer | string) => handlers.data(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
    stream.on('end', () => {
      if (this.#ended) return;
      this.#ended = true;
      handlers.end();
    });
    stream.on('error', (error) => handlers.error(error));
  }

  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    if (!this.stream.destroyed) this.stream.resume();
  }
}

/**
 * A stream over an open file descriptor: FIFOs, sockets and terminals
 * get a non-blocking libuv stream; regular files are read and written
 * through the thread pool.
 */
export function readableFromFd(fd: number): Readable {
  const stat = fs.fstatSync(fd);
  if (stat.isFIFO() || stat.isSocket()) return new net.Socket({ fd, readable: true, writable: false });
  return fs.createReadStream('', { fd, autoClose: true });
}

/** A writable stream over an open file descriptor; see readableFromFd. */
export function writableFromFd(fd: number): Writable {
  const stat = fs.fstatSync(fd);
  if (stat.isFIFO() || stat.isSocket()) return new net.Socket({ fd, readable: false, writable: true });
  return fs.createWriteStream('', { fd, autoClose: true });
}

/**
 * Ends `stream` and settles once it has closed, or after
 * CLOSE_FLUSH_TIMEOUT_MS: a peer that never reads, or a write stuck in the
 * kernel (a hung device), must not hold a close up. Then `giveUp` runs
 * (what is still queued is lost) and the stream is destroyed.
 */
export function endWithin(stream: Writable, giveUp: () => void = () => {}): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      giveUp();
      stream.destroy();
      resolve();
    }, CLOSE_FLUSH_TIMEOUT_MS);
    stream.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    if (stream.writable) stream.end(() => stream.destroy());
    else stream.destroy();
  });
}
