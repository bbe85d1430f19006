import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import type { Poller } from '@serialport/bindings-cpp/dist/poller.js';
import { Chardev, type ChardevContext } from './chardev.js';
import { ChardevError, describeSystemError } from './chardev-error.js';
import { OUTPUT_QUEUE_LIMIT } from './stream-io.js';

/**
 * A pseudo-terminal whose other end is for a terminal program
 * (chardev/char-pty.c): `chardev-add` returns the /dev/pts/N path, and
 * whoever opens that path talks to the frontend.
 *
 * As in QEMU the chardev is "connected" while some process has the slave
 * open, which the master shows as a hang-up while nobody has. It starts
 * disconnected and looks again every second and on every write; bytes
 * written while disconnected are reported written and thrown away, as
 * QEMU's pty does. Losing the last slave user reports `closed` (QEMU 10)
 * and the watch for the next one starts over.
 */
export class PtyChardev extends Chardev {
  readonly kind = 'pty';
  #path = '';
  #tty: PolledTty | undefined;
  #connected = false;
  /** A connection check is waiting to see whether the master reports a hang-up. */
  #probing = false;
  /** Bumped whenever a pending conclusion of a check must be ignored. */
  #probeRound = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    id: string,
    private readonly context: ChardevContext,
  ) {
    super(id);
  }

  /** The slave's path, /dev/pts/N, which chardev-add returns as `pty`. */
  get ptsPath(): string {
    return this.#path;
  }

  get filename(): string {
    return `pty:${this.#path}`;
  }

  /** Bytes dropped because the slave's reader fell more than OUTPUT_QUEUE_LIMIT behind. */
  get droppedOutput(): number {
    return this.#tty?.dropped ?? 0;
  }

  async open(): Promise<void> {
    let pair: PtyPair;
    try {
      pair = loadPtyNative().open(0, 0);
    } catch (error: unknown) {
      throw new ChardevError(`Failed to create PTY: ${describeSystemError(error)}`);
    }
    try {
      // node-pty opens both ends without close-on-exec (it means them for
      // a child), and Node cannot set the flag. So the slave goes at once:
      // a process spawned meanwhile would keep the pty "connected" for as
      // long as it lives. A child inheriting the master changes nothing
      // here, but keeps the pty alive after close() until it exits.
      fs.closeSync(pair.slave);
      // QEMU makes the pty raw (cfmakeraw) so that bytes pass unchanged
      // and the slave does not echo the frontend's output back to it. The
      // settings stay with the pty while the master is open.
      await configureTty(pair.pty, PTY_SPEED);
      if (this.closed) throw new ChardevError('closed while opening');
      this.#tty = new PolledTty(pair.master, {
        readable: () => this.#onReadable(),
        hangup: () => this.#onHangup(),
        pollFailed: (error) => this.#onPollFailed(error),
        polled: () => this.#onPolled(),
        drained: () => this.drained(),
        writeFailed: (error) => this.context.log(`chardev '${this.id}': write failed: ${describeSystemError(error)}`),
      });
    } catch (error: unknown) {
      fs.closeSync(pair.master);
      throw error instanceof ChardevError ? error : new ChardevError(`Failed to create PTY: ${ttyErrorText(error)}`);
    }
    this.#path = pair.pty;
    this.context.log(`char device redirected to ${pair.pty} (label ${this.id})`);
    this.#scheduleProbe();
  }

  protected writeToBackend(data: Buffer): boolean {
    if (!this.#connected) {
      // QEMU looks for a reader on every write and drops what nobody reads.
      this.#probe();
      return true;
    }
    return this.#tty?.write(data) ?? true;
  }

  protected override resumeInput(): void {
    // QEMU re-checks the connection whenever the frontend takes input again.
    if (this.#connected) this.#arm();
    else this.#probe();
  }

  // pauseInput needs nothing: a read watch still armed fires at most once
  // more, and #readInput reads nothing while input is paused.

  protected async closeBackend(): Promise<void> {
    this.#clearTimer();
    this.#probing = false;
    this.#probeRound++;
    this.#connected = false;
    this.#tty?.close();
    this.#tty = undefined;
  }

  /** Watches what the connected state needs: hang-ups always, input while the frontend takes it. */
  #arm(): void {
    if (!this.#connected || this.closed) return;
    this.#tty?.watch(POLL_HANGUP | (this.inputPaused ? 0 : POLL_READABLE));
  }

  /**
   * Checks whether a process has the slave open, i.e. whether the master
   * stops reporting a hang-up. QEMU asks poll() with a zero timeout; Node
   * has no such call, so the check watches for the hang-up and concludes
   * "connected" when a whole turn of the event loop (an I/O poll phase
   * included) passed without one.
   */
  #probe(): void {
    if (this.closed || this.#connected || this.#probing || this.#tty === undefined) return;
    this.#probing = true;
    this.#clearTimer();
    this.#tty.watch(POLL_HANGUP);
    this.#awaitQuietTurn();
  }

  #awaitQuietTurn(): void {
    const round = ++this.#probeRound;
    // The first immediate runs at the end of the current turn, which may be
    // past its I/O phase; the second one only after the next I/O phase.
    setImmediate(() =>
      setImmediate(() => {
        if (round === this.#probeRound && this.#probing) this.#connect();
      }),
    );
  }

  #connect(): void {
    this.#probing = false;
    this.#connected = true;
    this.#clearTimer();
    this.setOpen(true);
    this.#arm();
  }

  #disconnect(): void {
    if (!this.#connected) return;
    this.#connected = false;
    // What the last reader did not take is dropped, like later writes.
    this.#tty?.discardOutput();
    this.setOpen(false);
    this.#scheduleProbe();
  }

  /** QEMU's 1000 ms timer that looks for a new reader while disconnected. */
  #scheduleProbe(): void {
    if (this.closed || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#probe();
    }, PTY_PROBE_INTERVAL_MS);
  }

  #clearTimer(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Any poll event during a check: one left armed from before may have hidden the hang-up, so wait another turn. */
  #onPolled(): void {
    if (this.#probing) this.#awaitQuietTurn();
  }

  #onReadable(): void {
    if (this.#connected) this.#readInput();
  }

  #onHangup(): void {
    if (this.#probing) {
      // Still nobody on the slave.
      this.#probing = false;
      this.#probeRound++;
      this.#scheduleProbe();
      return;
    }
    if (!this.#connected) return;
    // Take what the last writer left before saying closed, if the frontend has room.
    this.#readInput();
    this.#disconnect();
  }

  /** A failed poll counts as a hang-up; it is logged once, when it ends a connection, not at every check. */
  #onPollFailed(error: Error): void {
    if (this.#probing) {
      this.#onHangup();
    } else if (this.#connected) {
      this.context.log(`chardev '${this.id}': poll failed: ${error.message}`);
      this.#disconnect();
    }
  }

  #readInput(): void {
    const tty = this.#tty;
    if (tty === undefined) return;
    for (let reads = 0; reads < MAX_READS_PER_EVENT; reads++) {
      if (this.inputPaused || !this.#connected || this.closed) return;
      const got = tty.read(readSize(this));
      if (got === 'again') break;
      if (got === 'eof' || got instanceof Error) {
        // EIO: the last process closed the slave.
        if (got !== 'eof' && got.code !== 'EIO') this.context.log(`chardev '${this.id}': read failed: ${describeSystemError(got)}`);
        this.#disconnect();
        return;
      }
      this.receive(got);
    }
    // Nothing more for now, or a fair share read: the level-triggered watch brings us back.
    this.#arm();
  }
}

/** The speed a new pty has; QEMU's cfmakeraw leaves it unchanged. */
const PTY_SPEED = 38400;
/** How often a disconnected pty looks for a reader (QEMU's timer). */
const PTY_PROBE_INTERVAL_MS = 1000;

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

/** The part of node-pty's native module used here. */
interface PtyNative {
  /** openpty(3) with the given window size; both ends come back non-blocking. */
  open(cols: number, rows: number): PtyPair;
}

interface PtyPair {
  readonly master: number;
  readonly slave: number;
  /** The slave's path, /dev/pts/N. */
  readonly pty: string;
}

const require = createRequire(import.meta.url);
let ptyNative: PtyNative | undefined;

/**
 * node-pty's compiled module, which opens a pty pair without a child
 * process. It lives in a package per platform next to @lydell/node-pty and
 * is resolved from there, as node-pty itself does. Loaded on first use so
 * that a platform without it fails only pty creation.
 */
function loadPtyNative(): PtyNative {
  if (ptyNative === undefined) {
    const fromNodePty = createRequire(require.resolve('@lydell/node-pty'));
    ptyNative = fromNodePty(`@lydell/node-pty-${process.platform}-${process.arch}/pty.node`) as PtyNative;
  }
  return ptyNative;
}

type PollerModule = typeof import('@serialport/bindings-cpp/dist/poller.js');
type OpenTty = (path: string, options: object) => Promise<number>;
let pollerModule: PollerModule | undefined;
let openTty: OpenTty | undefined;

function loadPoller(): PollerModule {
  pollerModule ??= require('@serialport/bindings-cpp/dist/poller.js') as PollerModule;
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
  openTty ??= (require('@serialport/bindings-cpp/dist/load-bindings.js') as { asyncOpen: OpenTty }).asyncOpen;
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
const POLL_HANGUP = 4;

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
