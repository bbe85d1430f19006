import type { Chardev, ChardevEvent, ChardevFrontend } from '../chardev/chardev.js';
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
export class ConsoleFrontend implements ChardevFrontend {
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

/**
 * Attaches a console to a chardev. A chardev has one frontend, so a
 * chardev that has one is refused, naming it. This is the one place that
 * decides how a console joins a chardev: once hub chardevs exist, a
 * chardev whose frontend is a hub (or one wrapped in a hub on demand)
 * would take the console as one more member here, and nothing else in the
 * monitor changes.
 */
export function attachConsole(chardev: Chardev, console: ConsoleFrontend): void {
  checkConsoleAttach(chardev);
  chardev.attach(console);
}

/**
 * Throws HmpCommandError when attachConsole would refuse `chardev`.
 * `holder` names a frontend that cannot name itself (a link device's end).
 */
export function checkConsoleAttach(chardev: Chardev, holder?: (chardev: Chardev) => string | undefined): void {
  const frontend = chardev.frontend;
  if (frontend !== undefined) {
    throw new HmpCommandError(`Chardev '${chardev.id}' is in use by ${holder?.(chardev) ?? describeFrontend(frontend)}`);
  }
  if (chardev.closed) throw new HmpCommandError(`Chardev '${chardev.id}' not found`);
}
