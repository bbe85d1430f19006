import * as fs from 'node:fs';
import * as net from 'node:net';
import type { Readable, Writable } from 'node:stream';

/**
 * Output a backend queues for a slow peer before dropping: the bound that
 * keeps a frontend which ignores `write() === false` from growing memory
 * without limit. QEMU never queues (a full fd returns EAGAIN to the
 * frontend); Node streams always do, so chardevd caps the queue.
 */
export const OUTPUT_QUEUE_LIMIT = 1 << 20;

/**
 * The writing side of a stream backend: Node's write/drain, a hard cap
 * on what is queued, and a count of what the cap dropped.
 */
export class StreamOutput {
  /** Bytes discarded because the queue was full or the stream gone. */
  dropped = 0;

  constructor(
    readonly stream: Writable,
    onDrain: () => void,
  ) {
    stream.on('drain', onDrain);
  }

  /** Queues `data`; false when the caller should wait for drain. */
  write(data: Buffer): boolean {
    const stream = this.stream;
    if (stream.destroyed || !stream.writable) {
      this.dropped += data.length;
      return true;
    }
    if (stream.writableLength + data.length > OUTPUT_QUEUE_LIMIT) {
      this.dropped += data.length;
      return false;
    }
    return stream.write(data);
  }
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
