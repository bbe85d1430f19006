import { Chardev, type ChardevEvent, type ChardevFrontend } from '../../chardev/chardev.js';
import { ChardevError } from '../../chardev/chardev-error.js';
import { HubChardev } from '../../chardev/hub.js';
import { HmpCommandError } from './commands.js';

/** Where a console's chardev output goes: the monitor connection's terminal. */
export interface ConsoleSink {
  /** Bytes the terminal takes now without growing its backlog beyond its window. */
  room(): number;
  output(data: Buffer): void;
  /** The chardev can take more input after write() returned false. */
  writable(): void;
}

/**
 * A monitor connection in `console` mode, as the chardev sees it: a
 * frontend, like a guest device in QEMU. Input flows at the pace of the
 * terminal: the chardev hands over no more than the terminal's room, and
 * the connection's keystrokes wait while the chardev says it is full.
 * A chardev-change moves the console to the new backend.
 */
export class ConsoleFrontend implements ChardevFrontend, Console {
  readonly frontendOpen = true;
  #chardev: Chardev;

  constructor(
    chardev: Chardev,
    private readonly sink: ConsoleSink,
    /** Who this is, for "in use" messages: "the console of monitor connection 3 (unix socket)". */
    readonly description: string,
  ) {
    this.#chardev = chardev;
  }

  get chardev(): Chardev {
    return this.#chardev;
  }

  receiveCapacity(): number {
    return this.sink.room();
  }

  receive(data: Buffer): void {
    this.sink.output(data);
  }

  event(_event: ChardevEvent): void {
    // A raw terminal shows the bytes only; opened, closed and break have no bytes.
  }

  drain(): void {
    this.sink.writable();
  }

  changeBackend = (chardev: Chardev): boolean => {
    this.#chardev = chardev;
    return true;
  };

  /** Keystrokes for the chardev; false when the caller should wait for `writable()`. */
  write(data: Buffer): boolean {
    return this.#chardev.write(data);
  }

  /** The terminal has room again: let the chardev deliver what it holds. */
  terminalWritable(): void {
    this.#chardev.acceptInput();
  }

  detach(): void {
    this.#chardev.detach(this);
  }
}

/** A frontend's name for messages: its own description if it has one, else its kind. */
export function describeFrontend(frontend: ChardevFrontend): string {
  const description = (frontend as { description?: unknown }).description;
  if (typeof description === 'string') return description;
  return `a ${frontend.constructor.name}`;
}

/** A monitor connection in `console` mode, whichever way it is joined to its chardev. */
export interface Console {
  /** Keystrokes for the chardev; false when the caller should wait for the sink's `writable()`. */
  write(data: Buffer): boolean;
  /** The terminal has room again. */
  terminalWritable(): void;
  /** Leaves the chardev as it was before. */
  detach(): void;
}

/** Bytes of a hub's recent output a console joining it shows first, so that it opens with context. */
export const CONSOLE_REPLAY_BYTES = 4096;

/**
 * Attaches a console to a chardev, checked with checkConsoleAttach first.
 * A chardev has one frontend, and the console becomes it; a hub instead
 * takes the console as one more member, a viewer like a socket client,
 * so the hub's frontend (a guest behind a link) and every other viewer
 * keep their view, and the console sees the last lines first.
 */
export function attachConsole(chardev: Chardev, sink: ConsoleSink, description: string): Console {
  if (chardev instanceof HubChardev) return new HubConsole(chardev, sink, description);
  const frontend = new ConsoleFrontend(chardev, sink, description);
  chardev.attach(frontend);
  return frontend;
}

/**
 * The monitor connection as a hub member: a chardev whose backend is the
 * terminal. The hub's output is the terminal's, within its window; typed
 * keys are the member's input, which the hub hands to its frontend.
 */
class ConsoleMemberChardev extends Chardev {
  /** A viewer connection, lossy as a socket client is: a terminal that stops reading loses output, never stalls the hub. */
  readonly kind = 'socket';
  #outputWaiting = false;

  constructor(
    id: string,
    private readonly sink: ConsoleSink,
  ) {
    super(id);
  }

  get filename(): string {
    return this.id;
  }

  async open(): Promise<void> {
    this.setOpen(true);
  }

  /** Keys typed at the console; false while the hub's frontend has no room for them. */
  type(data: Buffer): boolean {
    this.receive(data);
    return !this.inputPaused;
  }

  protected override resumeInput(): void {
    this.sink.writable();
  }

  protected writeToBackend(data: Buffer): boolean {
    this.sink.output(data);
    if (this.sink.room() > 0) return true;
    this.#outputWaiting = true;
    return false;
  }

  terminalWritable(): void {
    if (!this.#outputWaiting) return;
    this.#outputWaiting = false;
    this.drained();
  }

  protected async closeBackend(): Promise<void> {}
}

class HubConsole implements Console {
  readonly #member: ConsoleMemberChardev;

  constructor(
    private readonly hub: HubChardev,
    sink: ConsoleSink,
    description: string,
  ) {
    this.#member = new ConsoleMemberChardev(description, sink);
    void this.#member.open();
    hub.join(this.#member, CONSOLE_REPLAY_BYTES);
  }

  write(data: Buffer): boolean {
    return this.#member.type(data);
  }

  terminalWritable(): void {
    this.#member.terminalWritable();
  }

  detach(): void {
    this.hub.leave(this.#member);
    void this.#member.close();
  }
}

/**
 * Throws HmpCommandError when attachConsole would refuse `chardev`.
 * `holder` names a frontend that cannot name itself (a link device's end).
 */
export function checkConsoleAttach(chardev: Chardev, holder?: (chardev: Chardev) => string | undefined): void {
  if (chardev.closed) throw new HmpCommandError(`Chardev '${chardev.id}' not found`);
  if (chardev instanceof HubChardev) {
    try {
      chardev.checkJoin();
    } catch (error: unknown) {
      if (error instanceof ChardevError) throw new HmpCommandError(error.message);
      throw error;
    }
    return;
  }
  const frontend = chardev.frontend;
  // A mux takes up to four frontends; a console joins as one more.
  if (frontend !== undefined && !chardev.acceptsFrontend) {
    throw new HmpCommandError(`Chardev '${chardev.id}' is in use by ${holder?.(chardev) ?? describeFrontend(frontend)}`);
  }
  if (!chardev.acceptsFrontend) throw new HmpCommandError(`Chardev '${chardev.id}' is in use`);
}
