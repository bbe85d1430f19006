import type { Chardev } from '../../chardev/chardev.js';
import type { ChardevRegistry } from '../../chardev/registry.js';
import { RingbufChardev } from '../../chardev/ringbuf.js';
import { CONSOLE_ESCAPE_BYTE, CONSOLE_ESCAPE_CARET, type HmpCall, HmpCommandError, type InteractiveMonitor, type QmpCall } from './commands.js';
import { attachConsole, checkConsoleAttach, type Console, type ConsoleSink } from './console.js';
import type { HmpInterpreter } from './interpreter.js';
import { LineEditor } from './readline.js';
import { closeFds } from '../../base/fd-passing.js';
import { SessionFds } from '../../qmp/session-fds.js';

/** The prompt of chardevd's monitor (QEMU's is "(qemu) "). */
export const HMP_PROMPT = '(chardevd) ';

/**
 * Output waiting for the client beyond which the session stops reading
 * its input, so a client that types without reading makes the daemon
 * buffer at most about one command's output more.
 */
export const OUTPUT_PAUSE_BYTES = 64 * 1024;
/** In console mode, chardev output waiting for the client beyond which the chardev is asked to hold on. */
export const CONSOLE_WINDOW_BYTES = 64 * 1024;
/** Input chunks larger than this are pasted text: the line is redrawn once per chunk, not once per byte. */
export const PASTE_BYTES = 64;

/** The byte stream a monitor session runs on: a socket connection, or a chardev (-mon). */
export interface MonitorTerminal {
  write(data: Buffer): void;
  /** Bytes written but not yet taken by the other end. */
  readonly backlog: number;
  /** Stop (true) or resume (false) delivering input. */
  setInputPaused(paused: boolean): void;
  /** Which connection this is, for messages: "connection 3 (unix socket)", "on chardev 'm0'". */
  readonly peer: string;
}

/** What sessions share: the interpreter, the chardevs, and the way into QMP. */
export interface HmpSessionHost {
  readonly interpreter: HmpInterpreter;
  readonly chardevs: ChardevRegistry;
  /** "chardevd 0.1.0", for the banner. */
  readonly versionText: string;
  /** Who holds a chardev, where its frontend cannot say (the link device it belongs to). */
  holderOf?(chardev: Chardev): string | undefined;
  /** QMP commands, run without a QMP session, with the descriptors of the connection running them. */
  qmpFor(fds: SessionFds): QmpCall;
}

/**
 * One monitor connection (QEMU's MonitorHMP with readline): the banner,
 * the prompt, line editing and history, commands, and `console`, which
 * turns the connection into a raw terminal on a chardev until the escape
 * byte comes. Input is handled in order: while a command runs, later
 * input waits (and the terminal stops reading), as QEMU suspends the
 * monitor during a command.
 */
export class HmpSession implements InteractiveMonitor {
  /**
   * Descriptors passed on this connection (SCM_RIGHTS on a unix socket):
   * the next command line's to claim (getfd), or named, until the
   * connection ends. QEMU's human monitor takes them the same way.
   */
  readonly fds = new SessionFds();
  readonly #qmp: QmpCall;
  readonly #editor: LineEditor;
  /** Input not handled yet, each piece with the descriptors that came with it. */
  readonly #queue: { data: Buffer; fds?: readonly number[] | undefined }[] = [];
  #busy = false;
  #closed = false;
  #console: Console | undefined;
  /** The chardev said it is full: keystrokes wait for its drain. */
  #consoleBlocked = false;
  /** Called once the input has ended and all of it has been handled. */
  #onInputDone: (() => void) | undefined;
  #processing = false;
  /** quit ran: no more prompts, no more input. */
  #suspended = false;
  /** How many times the console's chardev said it can take more. */
  #consoleDrains = 0;

  constructor(
    private readonly host: HmpSessionHost,
    private readonly terminal: MonitorTerminal,
  ) {
    this.#qmp = host.qmpFor(this.fds);
    this.#editor = new LineEditor(
      {
        output: (text) => this.#print(text),
        complete: (line) => host.interpreter.complete(line, () => host.chardevs.list().map((c) => ({ id: c.id, ringbuf: c instanceof RingbufChardev }))),
      },
      HMP_PROMPT,
    );
  }

  get history(): readonly string[] {
    return this.#editor.history;
  }

  /**
   * The banner and the prompt, as QEMU prints them when its monitor's
   * chardev opens; without the prompt while the monitor does not have a
   * mux's focus (QEMU's monitor_event for CHR_EVENT_OPENED).
   */
  start(prompt = true): void {
    this.#print(`${this.host.versionText} monitor - type 'help' for more information\n`);
    if (prompt && this.#console === undefined) {
      this.#editor.restart();
      this.#editor.showPrompt();
    }
  }

  /** The monitor got a mux's focus back: a fresh line and the prompt (QEMU: readline_restart, then the prompt on resume). */
  focusIn(): void {
    if (this.#console !== undefined) return;
    this.#editor.restart();
    this.#editor.showPrompt();
  }

  /** The monitor lost a mux's focus: QEMU ends the line it was on. */
  focusOut(): void {
    if (this.#console === undefined) this.#print('\n');
  }

  /** Input, and the descriptors passed with it (the session's from now on). */
  input(data: Buffer, fds?: readonly number[]): void {
    if (this.#closed) {
      if (fds !== undefined) closeFds(fds);
      return;
    }
    if (data.length === 0) return;
    this.#queue.push({ data, fds });
    this.#process();
  }

  /** The terminal took its backlog: input may flow again, and a console's chardev may deliver. */
  writable(): void {
    this.#console?.terminalWritable();
    this.#updateFlow();
  }

  /** The connection is gone: a console detaches, the chardev stays as it is. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const piece of this.#queue.splice(0)) if (piece.fds !== undefined) closeFds(piece.fds);
    this.fds.dispose();
    this.#leaveConsole();
  }

  /** The other end went away but the session lives on (a monitor on a chardev): leave console mode quietly. */
  disconnected(): void {
    this.#leaveConsole();
    for (const piece of this.#queue.splice(0)) if (piece.fds !== undefined) closeFds(piece.fds);
  }

  /** No more input will come: once what is queued has run, `done` is called (to end the connection). */
  endOfInput(done: () => void): void {
    this.#onInputDone = done;
    this.#process();
  }

  suspend(): void {
    this.#suspended = true;
  }

  enterConsole(id: string): void {
    const chardev = this.host.chardevs.get(id);
    if (chardev === undefined) throw new HmpCommandError(`Chardev '${id}' not found`);
    checkConsoleAttach(chardev, (c) => this.host.holderOf?.(c));
    const sink: ConsoleSink = {
      room: () => Math.max(0, CONSOLE_WINDOW_BYTES - this.terminal.backlog),
      output: (data) => this.terminal.write(data),
      writable: () => {
        this.#consoleDrains++;
        this.#consoleBlocked = false;
        this.#process();
      },
    };
    // Said before attaching, so it comes ahead of what the chardev has waiting.
    this.#print(`Connected to chardev '${id}'. Escape character is '${CONSOLE_ESCAPE_CARET}'.\n`);
    this.#console = attachConsole(chardev, sink, `the console of monitor ${this.terminal.peer}`);
    this.#consoleBlocked = false;
  }

  #leaveConsole(): void {
    const console = this.#console;
    if (console === undefined) return;
    this.#console = undefined;
    this.#consoleBlocked = false;
    console.detach();
  }

  #process(): void {
    // A chardev may report drain from inside write(); the loop running below picks that up itself.
    if (this.#processing) return;
    this.#processing = true;
    try {
      this.#processQueue();
    } finally {
      this.#processing = false;
    }
    this.#updateFlow();
    if (this.#onInputDone !== undefined && !this.#busy && this.#queue.length === 0) {
      const done = this.#onInputDone;
      this.#onInputDone = undefined;
      done();
    }
  }

  #processQueue(): void {
    while (!this.#busy && !this.#closed && !this.#suspended && !this.#consoleBlocked && this.#queue.length > 0) {
      const piece = this.#queue.shift()!;
      const chunk = piece.data;
      // They wait for the next command line to run, as QMP's for the next command.
      if (piece.fds !== undefined && piece.fds.length > 0) this.fds.arrived(piece.fds);
      this.#editor.deferUpdates = chunk.length > PASTE_BYTES;
      let i = 0;
      while (i < chunk.length && !this.#busy && !this.#consoleBlocked) {
        const console = this.#console;
        if (console !== undefined) {
          const escape = chunk.indexOf(CONSOLE_ESCAPE_BYTE, i);
          const end = escape < 0 ? chunk.length : escape;
          const drains = this.#consoleDrains;
          // Blocked only if no drain came while writing (one reported from inside write() counts).
          if (end > i && !console.write(chunk.subarray(i, end)) && drains === this.#consoleDrains) this.#consoleBlocked = true;
          if (escape < 0) {
            i = chunk.length;
            break;
          }
          i = escape + 1;
          this.#leaveConsole();
          this.#print('\n');
          this.#editor.showPrompt();
          continue;
        }
        const line = this.#editor.feed(chunk[i++]!);
        if (line !== undefined) this.#run(line);
      }
      if (i < chunk.length) this.#queue.unshift({ data: chunk.subarray(i) });
      if (this.#editor.deferUpdates && this.#console === undefined && !this.#busy) this.#editor.refresh();
      this.#editor.deferUpdates = false;
    }
  }

  #run(line: string): void {
    this.#busy = true;
    this.#updateFlow();
    this.fds.commandStarted();
    void this.host.interpreter
      .execute(line, this.#call())
      .catch((error: unknown) => {
        // A bug, not bad input: say so and keep the connection.
        this.#print(`Error: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
      })
      .finally(() => {
        this.fds.commandEnded();
        this.#busy = false;
        if (this.#closed || this.#suspended) return;
        if (this.#console === undefined) this.#editor.showPrompt();
        this.#process();
      });
  }

  #call(): HmpCall {
    return {
      print: (text) => this.#print(text),
      qmp: this.#qmp,
      chardevs: this.host.chardevs,
      monitor: this,
      monitorFds: this.fds,
      help: (name) => this.host.interpreter.help(name, (text) => this.#print(text)),
      warnedAliases: this.host.interpreter.warnedAliases,
    };
  }

  /** monitor_puts: every "\n" goes out as "\r\n". */
  #print(text: string): void {
    if (this.#closed) return;
    this.terminal.write(Buffer.from(text.replace(/\n/g, '\r\n'), 'utf8'));
  }

  #updateFlow(): void {
    if (this.#closed) return;
    const outputFull = this.#console === undefined && this.terminal.backlog > OUTPUT_PAUSE_BYTES;
    this.terminal.setInputPaused(this.#busy || this.#suspended || this.#consoleBlocked || this.#queue.length > 0 || outputFull);
  }
}
