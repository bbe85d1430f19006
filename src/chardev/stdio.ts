import type { Readable, Writable } from 'node:stream';
import type { ChardevStdio } from '../generated/qapi-types.gen.js';
import type { ChardevBackendDefinition } from './backend-definition.js';
import { Chardev, type ChardevContext } from './chardev.js';
import { ChardevError } from './chardev-error.js';
import { parseCommon } from './chardev-opts.js';
import { StreamOutput } from './stream-io.js';

/** The streams a stdio chardev uses: the process's own, or stand-ins in tests. */
export interface StdioStreams {
  /** A terminal (tty.ReadStream) is put in raw mode while the chardev exists. */
  readonly stdin: Readable & { readonly isTTY?: boolean; setRawMode?(mode: boolean): unknown };
  readonly stdout: Writable;
}

/** The terminal's interrupt character (VINTR), Ctrl-C. */
const VINTR = 0x03;

/**
 * Whether a stdio chardev exists. QEMU allows one per process
 * (stdio_in_use) because there is one terminal to configure. QEMU never
 * clears its flag, so after chardev-remove no stdio chardev can be made
 * again; chardevd releases it on close so that one can.
 */
let stdioInUse = false;

/**
 * The process's standard input and output (chardev/char-stdio.c): input
 * from stdin, output to stdout, open from the start; the end of stdin
 * reports `closed`, as for every fd backend.
 *
 * When stdin is a terminal it is in raw mode while the chardev exists,
 * so that every key reaches the frontend. QEMU keeps ISIG when `signal`
 * is on (the default), so Ctrl-C still interrupts it; Node's setRawMode
 * always clears ISIG, so chardevd does the terminal's part itself: with
 * `signal` on, a Ctrl-C byte read from the terminal is not input but
 * SIGINT sent to this process, which stops the daemon as it would have
 * stopped QEMU. Ctrl-\ and Ctrl-Z (SIGQUIT, SIGTSTP under ISIG) are input
 * here: both would leave the terminal raw behind a dead or stopped
 * process, which QEMU avoids with handlers Node does not give.
 *
 * Not built on FdChardev: that class closes its streams on close, and
 * the process's stdin and stdout outlive the chardev.
 */
export class StdioChardev extends Chardev {
  readonly kind = 'stdio';
  readonly #signal: boolean;
  #streams: StdioStreams | undefined;
  #output: StreamOutput | undefined;
  #raw = false;
  #ended = false;

  constructor(
    id: string,
    options: ChardevStdio,
    private readonly context: ChardevContext,
    private readonly io?: StdioStreams,
  ) {
    super(id);
    this.#signal = options.signal ?? true;
  }

  get filename(): string {
    return 'stdio';
  }

  /** Bytes dropped because stdout could not keep up (OUTPUT_QUEUE_LIMIT) or was gone. */
  get droppedOutput(): number {
    return this.#output?.dropped ?? 0;
  }

  async open(): Promise<void> {
    if (stdioInUse) throw new ChardevError('cannot use stdio by multiple character devices');
    stdioInUse = true;
    const streams = this.io ?? { stdin: process.stdin, stdout: process.stdout };
    this.#streams = streams;
    this.#output = new StreamOutput(streams.stdout, this.#onDrain);
    streams.stdout.on('error', this.#onWriteError);
    const { stdin } = streams;
    stdin.pause();
    stdin.on('data', this.#onData);
    stdin.on('end', this.#onEnd);
    stdin.on('error', this.#onReadError);
    if (stdin.isTTY === true && stdin.setRawMode !== undefined) {
      try {
        stdin.setRawMode(true);
        this.#raw = true;
        // Node resets the terminal when it exits normally or on SIGINT
        // and SIGTERM, but a process.exit() from the daemon should not
        // depend on that; QEMU restores it from atexit (term_exit).
        process.on('exit', this.#restoreTerminal);
      } catch (error: unknown) {
        // QEMU ignores a failing tcsetattr as well.
        this.context.log(`chardev '${this.id}': cannot put the terminal in raw mode: ${(error as Error).message}`);
      }
    }
    this.setOpen(true);
  }

  readonly #onData = (chunk: Buffer | string): void => {
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (!this.#raw || !this.#signal) {
      this.receive(data);
      return;
    }
    // The terminal would have swallowed the interrupt character and sent
    // SIGINT instead (ISIG); the bytes around it are still input. Unlike
    // the terminal, this sees Ctrl-C only when input is read, so behind
    // a frontend that has no room it waits with the rest. A daemon
    // without a SIGINT handler dies of it, and Node then resets the
    // terminal itself.
    let start = 0;
    for (let at = data.indexOf(VINTR); at !== -1; at = data.indexOf(VINTR, start)) {
      this.receive(data.subarray(start, at));
      process.kill(process.pid, 'SIGINT');
      start = at + 1;
    }
    this.receive(start === 0 ? data : data.subarray(start));
  };

  readonly #onEnd = (): void => {
    if (this.#ended) return;
    this.#ended = true;
    this.setOpen(false);
  };

  readonly #onReadError = (error: Error): void => {
    this.context.log(`chardev '${this.id}': read failed: ${error.message}`);
    this.setOpen(false);
  };

  readonly #onWriteError = (error: Error): void => {
    this.context.log(`chardev '${this.id}': write failed: ${error.message}`);
  };

  readonly #onDrain = (): void => {
    this.drained();
  };

  readonly #restoreTerminal = (): void => {
    if (!this.#raw) return;
    this.#raw = false;
    try {
      this.#streams?.stdin.setRawMode?.(false);
    } catch {
      // The terminal may be gone (hangup); there is nothing left to restore.
    }
  };

  protected writeToBackend(data: Buffer): boolean {
    return this.#output?.write(data) ?? true;
  }

  protected override pauseInput(): void {
    this.#streams?.stdin.pause();
  }

  protected override resumeInput(): void {
    const stdin = this.#streams?.stdin;
    if (stdin === undefined) return;
    // A stdin that ended before this chardev (a previous one read it to
    // EOF) emits no second 'end'; QEMU's read returns 0 again and reports
    // CLOSED when the frontend first polls, and so does chardevd.
    if (stdin.readableEnded) this.#onEnd();
    else if (!stdin.destroyed) stdin.resume();
  }

  /**
   * Gives stdin and stdout back to the process as they were: the
   * terminal restored (QEMU's term_exit), stdin paused so that it no
   * longer keeps the process alive, the listeners removed.
   */
  protected async closeBackend(): Promise<void> {
    const streams = this.#streams;
    if (streams === undefined) return;
    this.#streams = undefined;
    const { stdin, stdout } = streams;
    stdin.off('data', this.#onData);
    stdin.off('end', this.#onEnd);
    stdin.off('error', this.#onReadError);
    stdin.pause();
    stdout.off('drain', this.#onDrain);
    stdout.off('error', this.#onWriteError);
    if (this.#raw) {
      this.#raw = false;
      try {
        stdin.setRawMode?.(false);
      } catch {
        // As in #restoreTerminal.
      }
    }
    process.off('exit', this.#restoreTerminal);
    stdioInUse = false;
  }
}

/** `-chardev stdio[,signal=off]` (chardev/char-stdio.c). */
export const stdioBackend: ChardevBackendDefinition<'stdio'> = {
  kinds: ['stdio'],
  options: { signal: 'bool' },
  parse: (kind, opts) => ({ type: kind, data: { ...parseCommon(opts), signal: opts.getBool('signal', true) } }),
  create: (id, backend, context) => new StdioChardev(id, backend.data, context),
};
