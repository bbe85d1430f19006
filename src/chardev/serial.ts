import * as fs from 'node:fs';
import type { ChardevBackendDefinition } from './backend-definition.js';
import { Chardev, type ChardevContext } from './chardev.js';
import { ChardevError, describeSystemError } from './chardev-error.js';
import { parseHostdev } from './chardev-opts.js';
import { PathOpener } from './path-opener.js';
import { configureTty, MAX_READS_PER_EVENT, POLL_READABLE, PolledTty, readSize, ttyErrorText } from './terminal-io.js';

/** The line QEMU sets up on open (chardev/char-serial.c): 115200 baud, 8N1, raw. */
const SERIAL_SPEED = 115200;

/**
 * A host serial port or other terminal device (chardev/char-serial.c).
 * QEMU opens it read-write and non-blocking, makes the line raw at
 * 115200 8N1 without flow control, and treats it like its fd backends:
 * open from the start, `closed` when input ends (a hang-up, or the other
 * end of a pty going away), output still attempted after that.
 *
 * The port is read only while the frontend has room, so that input waits
 * in the kernel (and, with hardware flow control set by someone else, on
 * the wire); output is queued up to OUTPUT_QUEUE_LIMIT and `write()`
 * returns false above TTY_OUTPUT_MARK, as for the pty.
 */
export class SerialChardev extends Chardev {
  readonly kind = 'serial';
  #tty: PolledTty | undefined;
  /** Input ended; as in QEMU nothing more is read. */
  #ended = false;
  #writeFailed = false;
  readonly #opener: PathOpener;

  constructor(
    id: string,
    private readonly device: string,
    private readonly context: ChardevContext,
  ) {
    super(id);
    this.#opener = new PathOpener(context.fdsets);
  }

  get filename(): string {
    return 'serial';
  }

  /** Bytes dropped because the port fell more than OUTPUT_QUEUE_LIMIT behind or could not be written. */
  get droppedOutput(): number {
    return this.#tty?.dropped ?? 0;
  }

  async open(): Promise<void> {
    const device = this.device;
    // QEMU's flags, plus O_NOCTTY so that a daemon without a terminal
    // does not make the port its controlling terminal.
    const fd = this.#opener.openOrThrow(device, fs.constants.O_RDWR | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
    try {
      // Set up the line through a second, short-lived descriptor while ours
      // keeps the port open, so the hardware sees one open and no hang-up.
      // An fd set's terminal has no path of its own: it is opened again through /proc.
      await configureTty(PathOpener.isFdset(device) ? `/proc/self/fd/${fd}` : device, SERIAL_SPEED);
      if (this.closed) throw new ChardevError('closed while opening');
      this.#tty = new PolledTty(fd, {
        readable: () => this.#readInput(),
        // Not watched: a hang-up shows up as the end of input.
        hangup: () => {},
        pollFailed: () => this.#endInput(),
        drained: () => this.drained(),
        writeFailed: (error) => {
          if (this.#writeFailed) return;
          this.#writeFailed = true;
          this.context.log(`chardev '${this.id}': write failed: ${describeSystemError(error)}`);
        },
      });
    } catch (error: unknown) {
      fs.closeSync(fd);
      this.#opener.release();
      // Unlike QEMU, which ignores tcsetattr failing, a device that is not
      // a terminal is refused: it could not be polled either.
      throw error instanceof ChardevError ? error : new ChardevError(`Could not open '${device}': ${ttyErrorText(error)}`);
    }
    this.setOpen(true);
    if (!this.inputPaused) this.resumeInput();
  }

  protected writeToBackend(data: Buffer): boolean {
    return this.#tty?.write(data) ?? true;
  }

  protected override resumeInput(): void {
    if (!this.#ended) this.#tty?.watch(POLL_READABLE);
  }

  // pauseInput needs nothing: a watch still armed fires at most once more,
  // and #readInput reads nothing while input is paused.

  protected async closeBackend(): Promise<void> {
    this.#tty?.close();
    this.#tty = undefined;
    this.#opener.release();
  }

  #readInput(): void {
    const tty = this.#tty;
    if (tty === undefined) return;
    for (let reads = 0; reads < MAX_READS_PER_EVENT; reads++) {
      if (this.inputPaused || this.#ended || this.closed) return;
      const got = tty.read(readSize(this));
      if (got === 'again') break;
      if (got === 'eof' || got instanceof Error) {
        // EOF from a hung-up terminal, EIO when a pty's master is gone.
        if (got !== 'eof' && got.code !== 'EIO') this.context.log(`chardev '${this.id}': read failed: ${describeSystemError(got)}`);
        this.#endInput();
        return;
      }
      this.receive(got);
    }
    this.resumeInput();
  }

  /** The end of input: QEMU reports CLOSED and stops reading; output is still attempted. */
  #endInput(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.setOpen(false);
  }
}

/** `-chardev serial,path=DEVICE` (chardev/char-serial.c), also under its deprecated name `tty`. */
export const serialBackend: ChardevBackendDefinition<'serial'> = {
  kinds: ['serial'],
  aliases: ['tty'],
  options: { path: 'str' },
  parse: (kind, opts) => ({ type: kind, data: parseHostdev('serial/tty', opts) }),
  create: (id, backend, context) => new SerialChardev(id, backend.data.device, context),
};
