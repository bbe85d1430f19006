import * as fs from 'node:fs';
import type { Writable } from 'node:stream';
import type { ChardevSinkInfo, ChardevSinkState } from '../generated/qapi-types.gen.js';
import { describeSystemError } from './chardev-error.js';
import { endWithin, OUTPUT_QUEUE_LIMIT } from './stream-io.js';

/**
 * How long a lossless sink that cannot write (a full disk) holds its
 * frontend back before it drops output instead. Holding back loses
 * nothing while the fault is short (a log rotation freeing space); past
 * this, a guest whose console would otherwise stop for as long as the
 * disk stays full goes on, and what the sink drops is counted.
 */
export const SINK_STALL_LIMIT_MS = 10_000;

/** The wait before the first retry after a failed write; each failed retry doubles it, up to SINK_RETRY_MAX_MS. */
export const SINK_RETRY_FIRST_MS = 100;

/** The longest wait between two retries of a sink that cannot write. */
export const SINK_RETRY_MAX_MS = 5_000;

/** Where a sink writes: its first stream, and how to get another after a failure. */
export interface SinkEndpoint {
  readonly stream: Writable;
  /**
   * A new stream for a retry; throws (a system error) while the sink
   * cannot be opened yet. Without it, a sink whose write failed stays
   * failed and drops its output.
   */
  readonly reopen?: (() => Writable) | undefined;
  /** Releases what the streams share and do not close themselves (a descriptor), once, at close. */
  readonly release?: (() => void) | undefined;
}

/** What a sink tells its chardev. */
export interface SinkOwner {
  /** The chardev is a lossless sink (Chardev.losslessSink): a failure holds the frontend back before anything is dropped. */
  readonly lossless: boolean;
  /** The frontend, told to wait, may write again. */
  drained(): void;
  /** `state` changed. */
  changed(): void;
}

/** Chunks in order, taken from the front. */
class ChunkQueue {
  #chunks: (Buffer | undefined)[] = [];
  #head = 0;
  bytes = 0;

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.bytes += chunk.length;
  }

  shift(): void {
    const chunk = this.#chunks[this.#head];
    if (chunk === undefined) return;
    this.#chunks[this.#head++] = undefined;
    this.bytes -= chunk.length;
    if (this.#head > 1024 && this.#head * 2 > this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Removes `count` bytes from the front, the last chunk touched only in part. */
  skip(count: number): void {
    while (count > 0 && this.bytes > 0) {
      const chunk = this.#chunks[this.#head]!;
      if (chunk.length > count) {
        this.#chunks[this.#head] = chunk.subarray(count);
        this.bytes -= count;
        return;
      }
      count -= chunk.length;
      this.shift();
    }
  }

  *[Symbol.iterator](): IterableIterator<Buffer> {
    for (let i = this.#head; i < this.#chunks.length; i++) yield this.#chunks[i]!;
  }

  clear(): void {
    this.#chunks = [];
    this.#head = 0;
    this.bytes = 0;
  }
}

/**
 * The writing side of a file or pipe chardev, which survives a failed
 * write. QEMU's write to a full disk fails, and the device that wrote
 * retries a few times, then drops the byte; a Node stream dies with its
 * first error and everything after goes nowhere. Here every byte the
 * sink takes stays queued until its stream confirms it written, so that
 * a failure loses nothing it took:
 *
 * - `ok`: bytes go to the stream; `write()` is false while the stream
 *   is above its mark, and the frontend hears `drained()` after.
 * - `stalled` (a lossless sink): a write failed. The sink keeps what the
 *   stream did not write (a regular file's stream counts even a partial
 *   write), takes what comes but answers "wait", and retries on a new
 *   stream after SINK_RETRY_FIRST_MS, doubling up to SINK_RETRY_MAX_MS.
 *   Once a retry has written everything held, it is `ok` again.
 * - `dropping`: stalled for SINK_STALL_LIMIT_MS, or not a lossless sink.
 *   The frontend may write again and new output is dropped, counted in
 *   `lost`; what was held stays first in line, and retries go on.
 *
 * A frontend that writes on after being told to wait has what exceeds
 * OUTPUT_QUEUE_LIMIT dropped and counted, as StreamOutput does.
 */
export class SinkOutput {
  state: ChardevSinkState = 'ok';
  /** The last error a write got, kept after recovery; undefined until a write fails. */
  error: string | undefined;
  /** Bytes taken and then dropped. */
  lost = 0;
  readonly #endpoint: SinkEndpoint;
  readonly #owner: SinkOwner;
  /** Where writes go; undefined while failed and between retries. */
  #stream: Writable | undefined;
  /** The callback of every write to #stream. */
  #written: (error?: Error | null) => void = () => {};
  /** Bytes of #queue that #stream confirmed written. */
  #confirmed = 0;
  /** Everything taken and not yet confirmed written, oldest first; all of it has been handed to #stream if there is one. */
  readonly #queue = new ChunkQueue();
  /** write() returned false and the frontend has not heard drained() since. */
  #owed = false;
  #retryDelay = SINK_RETRY_FIRST_MS;
  #retryTimer: NodeJS.Timeout | undefined;
  #stallTimer: NodeJS.Timeout | undefined;
  #closing = false;

  constructor(endpoint: SinkEndpoint, owner: SinkOwner) {
    this.#endpoint = endpoint;
    this.#owner = owner;
    this.#use(endpoint.stream);
  }

  /** Whether a failed sink tries again (it can open a new stream). */
  get retries(): boolean {
    return this.#endpoint.reopen !== undefined;
  }

  /** Bytes taken and not yet written. */
  get pending(): number {
    return this.#queue.bytes;
  }

  /** query-chardev's `sink`: present once a write failed or output was dropped. */
  get info(): ChardevSinkInfo | undefined {
    if (this.error === undefined && this.lost === 0) return undefined;
    return { state: this.state, ...(this.error !== undefined ? { error: this.error } : {}), pending: this.pending, lost: this.lost };
  }

  /** Takes `data` (or drops it, counted, while `dropping`); false when the frontend should wait for `drained()`. */
  write(data: Buffer): boolean {
    if (this.state === 'dropping') {
      this.lost += data.length;
      return true;
    }
    if (this.#owed && this.#queue.bytes + data.length > OUTPUT_QUEUE_LIMIT) {
      this.lost += data.length;
      return false;
    }
    this.#queue.push(data);
    const stream = this.#stream;
    if (stream !== undefined && stream.write(data, this.#written) && this.state === 'ok') return true;
    this.#owed = true;
    return false;
  }

  #use(stream: Writable): void {
    this.#stream = stream;
    this.#confirmed = 0;
    // Callbacks come in the order of the writes, one per write.
    this.#written = (error) => {
      if (this.#stream !== stream) return;
      if (error) {
        this.#fail(stream, error);
        return;
      }
      this.#confirm();
      if (this.state !== 'ok' && this.#queue.bytes === 0) this.#recover(stream);
    };
    stream.on('drain', () => {
      if (this.#stream === stream && this.state === 'ok') this.#wake();
    });
    stream.on('error', (error) => {
      if (this.#stream === stream) this.#fail(stream, error);
    });
    stream.on('close', () => {
      if (this.#stream === stream && !this.#closing) this.#fail(stream, new Error('the output was closed'));
    });
  }

  #confirm(): void {
    const before = this.#queue.bytes;
    this.#queue.shift();
    this.#confirmed += before - this.#queue.bytes;
  }

  #fail(stream: Writable, error: Error): void {
    this.#stream = undefined;
    // A regular file's stream counts the bytes that reached the file, the first part of a failed write included.
    if (stream instanceof fs.WriteStream) this.#queue.skip(stream.bytesWritten - this.#confirmed);
    stream.destroy();
    this.error = describeSystemError(error);
    if (this.#closing) return;
    const canRetry = this.#endpoint.reopen !== undefined;
    if (!canRetry) {
      this.lost += this.#queue.bytes;
      this.#queue.clear();
    } else {
      this.#retryTimer = setTimeout(() => this.#retry(), this.#retryDelay);
      this.#retryTimer.unref();
      this.#retryDelay = Math.min(this.#retryDelay * 2, SINK_RETRY_MAX_MS);
    }
    if (this.state !== 'ok') return;
    if (this.#owner.lossless && canRetry) {
      this.state = 'stalled';
      this.#stallTimer = setTimeout(() => this.#giveUpHolding(), SINK_STALL_LIMIT_MS);
      this.#stallTimer.unref();
    } else {
      this.state = 'dropping';
      this.#wake();
    }
    this.#owner.changed();
  }

  #retry(): void {
    this.#retryTimer = undefined;
    let stream: Writable;
    try {
      stream = this.#endpoint.reopen!();
    } catch (error: unknown) {
      this.error = describeSystemError(error);
      this.#retryTimer = setTimeout(() => this.#retry(), this.#retryDelay);
      this.#retryTimer.unref();
      this.#retryDelay = Math.min(this.#retryDelay * 2, SINK_RETRY_MAX_MS);
      return;
    }
    this.#use(stream);
    if (this.#queue.bytes === 0) this.#recover(stream);
    else for (const chunk of this.#queue) stream.write(chunk, this.#written);
  }

  #recover(stream: Writable): void {
    clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
    this.#retryDelay = SINK_RETRY_FIRST_MS;
    this.state = 'ok';
    this.#owner.changed();
    // A stream still above its mark tells through 'drain'.
    if (!stream.writableNeedDrain) this.#wake();
  }

  #giveUpHolding(): void {
    this.#stallTimer = undefined;
    this.state = 'dropping';
    this.#owner.changed();
    this.#wake();
  }

  #wake(): void {
    if (!this.#owed) return;
    this.#owed = false;
    this.#owner.drained();
  }

  /**
   * Writes what is held, waiting at most CLOSE_FLUSH_TIMEOUT_MS (a
   * failed sink gets one more try), counts what is left as lost, and
   * releases the stream and the descriptor.
   */
  async close(): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#stallTimer);
    if (this.#stream === undefined && this.#queue.bytes > 0 && this.#endpoint.reopen !== undefined) {
      try {
        const stream = this.#endpoint.reopen();
        this.#use(stream);
        for (const chunk of this.#queue) stream.write(chunk, this.#written);
      } catch (error: unknown) {
        this.error = describeSystemError(error);
      }
    }
    // Without a stream every one was destroyed after its last write ended: none still uses the descriptor.
    const stream = this.#stream;
    if (stream !== undefined && !stream.closed) {
      await endWithin(stream);
    }
    this.#stream = undefined;
    this.lost += this.#queue.bytes;
    this.#queue.clear();
    // The descriptor goes once no write uses it any more.
    const release = this.#endpoint.release;
    if (release === undefined) return;
    if (stream === undefined || stream.closed) release();
    else stream.once('close', release);
  }
}
