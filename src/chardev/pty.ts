import * as fs from 'node:fs';
import { packageRequire } from '../base/package-require.js';
import type { ChardevBackendDefinition } from './backend-definition.js';
import { Chardev, type ChardevContext } from './chardev.js';
import { ChardevError, describeSystemError } from './chardev-error.js';
import { parseCommon } from './chardev-opts.js';
import { configureTty, MAX_READS_PER_EVENT, POLL_HANGUP, POLL_READABLE, PolledTty, readSize, ttyErrorText } from './terminal-io.js';

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

let ptyNative: PtyNative | undefined;

/**
 * node-pty's compiled module, which opens a pty pair without a child
 * process. It lives in a package per platform next to @lydell/node-pty and
 * is resolved from there, as node-pty itself does. Loaded on first use so
 * that a platform without it fails only pty creation.
 */
function loadPtyNative(): PtyNative {
  if (ptyNative === undefined) {
    const fromNodePty = process.getBuiltinModule('node:module').createRequire(packageRequire().resolve('@lydell/node-pty'));
    ptyNative = fromNodePty(`@lydell/node-pty-${process.platform}-${process.arch}/pty.node`) as PtyNative;
  }
  return ptyNative;
}

/** `-chardev pty` (chardev/char-pty.c): no options of its own. */
export const ptyBackend: ChardevBackendDefinition<'pty'> = {
  kinds: ['pty'],
  parse: (kind, opts) => ({ type: kind, data: parseCommon(opts) }),
  create: (id, _backend, context) => new PtyChardev(id, context),
};
