import * as fs from 'node:fs';
import type { Poller } from '@serialport/bindings-cpp/dist/poller.js';
import { packageRequire } from '../base/package-require.js';
import type { Chardev } from './chardev.js';
import { describeSystemError } from './chardev-error.js';
import { OUTPUT_QUEUE_LIMIT } from './stream-io.js';

/**
 * Terminal I/O for the pty and serial chardevs: a terminal descriptor read
 * and written directly with readiness from serialport's native poller, the
 * line setup QEMU does, and the text of serialport's errors. The native
 * modules are loaded on first use, so that a platform without them fails
 * only the chardevs that need them.
 */

/**
 * Output above this many queued bytes makes `write()` return false
 * until the queue empties (chardevd's counterpart of a full descriptor).
 */
export const TTY_OUTPUT_MARK = 64 * 1024;
/** The most one read takes; QEMU reads at most what the frontend can take. */
const READ_CHUNK = 64 * 1024;
/** Reads per poll event before giving the rest of the event loop a turn. */
export const MAX_READS_PER_EVENT = 16;

/**
 * How much to read: what the frontend can take, as QEMU's can_read, but at
 * least one byte so that a frontend whose room ran out without saying so
 * still gets the base class to pause the source.
 */
export function readSize(chardev: Chardev): number {
  return Math.max(1, Math.min(chardev.frontend?.receiveCapacity() ?? 0, READ_CHUNK));
}

type PollerModule = typeof import('@serialport/bindings-cpp/dist/poller.js');
type OpenTty = (path: string, options: object) => Promise<number>;
let pollerModule: PollerModule | undefined;
let openTty: OpenTty | undefined;

function loadPoller(): PollerModule {
  pollerModule ??= packageRequire()('@serialport/bindings-cpp/dist/poller.js') as PollerModule;
  return pollerModule;
}

/**
 * Sets a terminal's line raw with 8 data bits, no parity, one stop bit,
 * no flow control and `baudRate`, as QEMU's tty setup does (chardev/
 * char-serial.c), with serialport's native open, which applies exactly
 * that. Its descriptor is only for the settings: they belong to the
 * terminal, and closing it while another descriptor is open (or, for a
 * pty, while the master is) keeps them. HUPCL is left as it is (QEMU does
 * not touch it) and no lock is taken, as QEMU takes none.
 */
export async function configureTty(path: string, baudRate: number): Promise<void> {
  openTty ??= (packageRequire()('@serialport/bindings-cpp/dist/load-bindings.js') as { asyncOpen: OpenTty }).asyncOpen;
  const fd = await openTty(path, {
    baudRate,
    dataBits: 8,
    parity: 'none',
    stopBits: 1,
    rtscts: false,
    xon: false,
    xoff: false,
    xany: false,
    hupcl: false,
    lock: false,
    vmin: 1,
    vtime: 0,
  });
  fs.closeSync(fd);
}

/**
 * The strerror text in an error of serialport's native open, which writes
 * e.g. "Error: No such file or directory, cannot open /dev/x" or "Error:
 * Inappropriate ioctl for device setting custom baud rate of 115200".
 */
export function ttyErrorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const match = /^Error:? (.+?)(?:,? cannot open .*| Cannot lock port| setting custom baud rate of \d+| \|\| .*)$/i.exec(message);
  return match?.[1] ?? describeSystemError(error);
}

/** The poll events of serialport's Poller (libuv's UV_READABLE, UV_WRITABLE, UV_DISCONNECT). */
export const POLL_READABLE = 1;
const POLL_WRITABLE = 2;
/** A hang-up: for a pty master, no process has the slave open. */
export const POLL_HANGUP = 4;

/** What a PolledTty tells its chardev. */
export interface PolledTtyEvents {
  /** Input may be waiting (or the other end hung up: the read will tell). */
  readable(): void;
  /** The watched hang-up happened. */
  hangup(): void;
  /** The poll itself failed (POLLERR, e.g. a terminal hung up by the kernel); the watch has stopped. */
  pollFailed(error: Error): void;
  /** Called before any of the above and for writability. */
  polled?(): void;
  /** The output queue emptied after write() returned false. */
  drained(): void;
  /** A write failed for good; the queued output was dropped. */
  writeFailed(error: NodeJS.ErrnoException): void;
}

/**
 * A non-blocking terminal descriptor (the owner opens it so; creating a
 * Poller would also set O_NONBLOCK) read and written directly, with
 * readiness from serialport's uv_poll-based Poller. A Node stream will not
 * do: on EIO it destroys itself and closes the descriptor, which for a pty
 * master destroys the pty. Reads happen only when the chardev asks, so the
 * source stays in the kernel while the frontend is full; output goes into
 * a queue that signals at TTY_OUTPUT_MARK and drops beyond
 * OUTPUT_QUEUE_LIMIT (QEMU never queues; see stream-io.ts).
 */
export class PolledTty {
  /** Bytes dropped because the queue was full, the write failed, or the output was discarded. */
  dropped = 0;
  readonly #fd: number;
  readonly #slot: PollerSlot;
  /** The events we asked the Poller for and have not seen fire yet. */
  #armed = 0;
  #queue: Buffer[] = [];
  #queued = 0;
  #needDrain = false;
  #closed = false;

  constructor(
    fd: number,
    private readonly events: PolledTtyEvents,
  ) {
    this.#fd = fd;
    this.#slot = acquirePoller(fd);
    this.#slot.owner = this;
  }

  /** Adds `events` to what the Poller watches. */
  watch(events: number): void {
    if (this.#closed || (events & ~this.#armed) === 0) return;
    this.#armed |= events;
    this.#slot.poller.poll(this.#armed);
  }

  /** One non-blocking read of at most `size` bytes. */
  read(size: number): Buffer | 'again' | 'eof' | NodeJS.ErrnoException {
    let count: number;
    try {
      count = fs.readSync(this.#fd, scratch, 0, Math.min(size, scratch.length), null);
    } catch (error: unknown) {
      const failure = error as NodeJS.ErrnoException;
      return isRetry(failure) ? 'again' : failure;
    }
    return count === 0 ? 'eof' : Buffer.from(scratch.subarray(0, count));
  }

  /** Queues `data` and writes what the terminal takes now; false when the caller should wait for drained(). */
  write(data: Buffer): boolean {
    if (this.#closed || data.length === 0) return true;
    if (this.#queue.length > 0 && this.#queued + data.length > OUTPUT_QUEUE_LIMIT) {
      this.dropped += data.length;
      this.#needDrain = true;
      return false;
    }
    this.#queue.push(data);
    this.#queued += data.length;
    // With an older queue, a writability watch is already waiting.
    if (this.#queue.length === 1) this.#flush(false);
    if (this.#queued > TTY_OUTPUT_MARK) {
      this.#needDrain = true;
      return false;
    }
    return true;
  }

  /** Drops what is queued; a frontend waiting for drain hears it. */
  discardOutput(): void {
    this.dropped += this.#queued;
    this.#queue = [];
    this.#queued = 0;
    if (this.#needDrain) {
      this.#needDrain = false;
      this.events.drained();
    }
  }

  /** Stops polling and closes the descriptor. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#queued = 0;
    releasePoller(this.#fd, this.#slot);
    fs.closeSync(this.#fd);
  }

  /** From the Poller: `events` fired (the Poller stopped watching them), or the poll failed. */
  onPoll(events: number, error: Error | null): void {
    if (this.#closed) return;
    if (error !== null) {
      // The poll stopped altogether; a later watch() must start it again.
      this.#armed = 0;
      this.events.pollFailed(error);
      return;
    }
    this.#armed &= ~events;
    this.events.polled?.();
    if (events & POLL_WRITABLE) this.#flush(true);
    if (events & POLL_READABLE && !this.#closed) this.events.readable();
    if (events & POLL_HANGUP && !this.#closed) this.events.hangup();
  }

  #flush(fromPoll: boolean): void {
    while (this.#queue.length > 0) {
      let written: number;
      try {
        written = fs.writevSync(this.#fd, this.#queue.length <= MAX_IOVECS ? this.#queue : this.#queue.slice(0, MAX_IOVECS));
      } catch (error: unknown) {
        const failure = error as NodeJS.ErrnoException;
        if (isRetry(failure)) {
          this.watch(POLL_WRITABLE);
          return;
        }
        this.dropped += this.#queued;
        this.#queue = [];
        this.#queued = 0;
        this.events.writeFailed(failure);
        break;
      }
      this.#consume(written);
    }
    // drained() only from a poll event, never inside the frontend's own write().
    if (this.#needDrain && fromPoll) {
      this.#needDrain = false;
      this.events.drained();
    }
  }

  #consume(count: number): void {
    this.#queued -= count;
    let left = count;
    while (left > 0) {
      const head = this.#queue[0] as Buffer;
      if (head.length > left) {
        this.#queue[0] = head.subarray(left);
        return;
      }
      left -= head.length;
      this.#queue.shift();
    }
  }
}

/** Buffers passed to one writev(2). */
const MAX_IOVECS = 64;
/** One read buffer for every terminal: reads are synchronous, and what is read is copied out. */
const scratch = Buffer.allocUnsafe(READ_CHUNK);

function isRetry(error: NodeJS.ErrnoException): boolean {
  return error.code === 'EAGAIN' || error.code === 'EWOULDBLOCK' || error.code === 'EINTR';
}

/** A Poller and the terminal it currently serves. */
interface PollerSlot {
  readonly poller: Poller;
  owner: PolledTty | undefined;
}

/**
 * Pollers whose descriptor was closed, by descriptor number, for the next
 * terminal that gets the same number. serialport's Poller is never garbage
 * collected (its native half holds its callback, which holds the Poller),
 * so making one per open would leak one per open; and were one collected,
 * closing its uv_poll handle would remove whatever descriptor then has
 * that number from the event loop's epoll set. Reusing them keeps their
 * number bounded by the highest descriptor number. A reused Poller may
 * still report, once, an event its previous owner had asked for: owners
 * treat every event as a hint and check with a read or write.
 */
const idlePollers = new Map<number, PollerSlot>();

function acquirePoller(fd: number): PollerSlot {
  const idle = idlePollers.get(fd);
  if (idle !== undefined) {
    idlePollers.delete(fd);
    return idle;
  }
  const { Poller } = loadPoller();
  const slot: PollerSlot = { poller: new Poller(fd), owner: undefined };
  // The Poller emits each fired event separately, all within one callback;
  // a failure comes as the same error on all three, so one suffices.
  slot.poller.on('readable', (error: Error | null) => slot.owner?.onPoll(POLL_READABLE, error));
  slot.poller.on('writable', (error: Error | null) => {
    if (error === null) slot.owner?.onPoll(POLL_WRITABLE, null);
  });
  slot.poller.on('disconnect', (error: Error | null) => {
    if (error === null) slot.owner?.onPoll(POLL_HANGUP, null);
  });
  return slot;
}

function releasePoller(fd: number, slot: PollerSlot): void {
  // The native stop, not Poller.stop(), which would also emit "canceled" errors.
  slot.poller.poller.stop();
  slot.owner = undefined;
  idlePollers.set(fd, slot);
}
