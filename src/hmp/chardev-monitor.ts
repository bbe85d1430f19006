import type { Chardev, ChardevEvent, ChardevFrontend } from '../chardev/chardev.js';
import { HmpSession, type HmpSessionHost, type MonitorTerminal } from './session.js';

/** Input a monitor on a chardev takes per delivery, as QEMU's monitor_can_read offers one buffer at a time. */
const INPUT_CHUNK = 4096;

/**
 * A human monitor on a chardev (`-mon chardev=ID,mode=readline`): the
 * monitor is the chardev's frontend, as in QEMU. Each time the chardev
 * opens (a client connects to a socket chardev) the monitor prints its
 * banner and prompt; the history stays with the monitor. When the chardev
 * closes, a console the monitor had open is left. As in QEMU, a monitor
 * refuses chardev-change ("Chardev user does not support chardev hotswap").
 */
export class ChardevMonitor implements ChardevFrontend, MonitorTerminal {
  readonly session: HmpSession;
  readonly frontendOpen = true;
  /** Who this is as a frontend, for "in use" messages. */
  readonly description: string;
  readonly peer: string;
  #paused = false;
  /** The chardev's last write() said it is full; cleared by its drain(). */
  #blocked = false;

  constructor(
    private readonly chardev: Chardev,
    host: HmpSessionHost,
  ) {
    this.peer = `on chardev '${chardev.id}'`;
    this.description = `the monitor on chardev '${chardev.id}'`;
    this.session = new HmpSession(host, this);
  }

  /** Becomes the chardev's frontend; throws QEMU's "Device 'ID' is in use" when it has one. */
  attach(): void {
    this.chardev.attach(this);
  }

  detach(): void {
    this.session.close();
    this.chardev.detach(this);
  }

  // MonitorTerminal: output goes into the chardev.

  write(data: Buffer): void {
    if (!this.chardev.write(data)) this.#blocked = true;
  }

  get backlog(): number {
    // The chardev does not say how much it holds, only whether it is full.
    return this.#blocked ? Number.MAX_SAFE_INTEGER : 0;
  }

  setInputPaused(paused: boolean): void {
    if (paused === this.#paused) return;
    this.#paused = paused;
    if (!paused) this.chardev.acceptInput();
  }

  // ChardevFrontend: input comes from the chardev.

  receiveCapacity(): number {
    return this.#paused ? 0 : INPUT_CHUNK;
  }

  receive(data: Buffer): void {
    this.session.input(data);
  }

  event(event: ChardevEvent): void {
    if (event === 'opened') this.session.start();
    else if (event === 'closed') this.session.disconnected();
  }

  drain(): void {
    this.#blocked = false;
    this.session.writable();
  }
}
