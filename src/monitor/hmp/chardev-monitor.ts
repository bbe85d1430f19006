import { type Chardev, type ChardevEvent, type ChardevFrontend, MONITOR_INPUT_CHUNK } from '../../chardev/chardev.js';
import { closeFds } from '../../base/fd-passing.js';
import { HmpSession, type HmpSessionHost, type MonitorTerminal } from './session.js';

/**
 * Output a monitor keeps while a mux's focus is elsewhere. QEMU's output
 * buffer has no bound; here the oldest output goes first beyond it.
 */
export const MUX_OUT_HOLD_BYTES = 64 * 1024;

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
  /** The chardev has opened at least once (QEMU's reset_seen). */
  #started = false;
  /** Another frontend has the focus of the mux this monitor is on: output waits (QEMU's mux_out). */
  #muxOut = false;
  /** Output held while the focus is elsewhere, at most MUX_OUT_HOLD_BYTES (the oldest goes first). */
  #held: Buffer[] = [];
  #heldBytes = 0;
  /** Descriptors passed with the input the chardev delivers next. */
  #fds: readonly number[] | undefined;

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
    if (this.#fds !== undefined) closeFds(this.#fds);
    this.#fds = undefined;
    this.session.close();
    this.chardev.detach(this);
  }

  // MonitorTerminal: output goes into the chardev.

  write(data: Buffer): void {
    if (this.#muxOut) {
      this.#hold(data);
      return;
    }
    if (!this.chardev.write(data)) this.#blocked = true;
  }

  #hold(data: Buffer): void {
    this.#held.push(Buffer.from(data));
    this.#heldBytes += data.length;
    while (this.#heldBytes > MUX_OUT_HOLD_BYTES && this.#held.length > 1) this.#heldBytes -= this.#held.shift()!.length;
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
    return this.#paused ? 0 : MONITOR_INPUT_CHUNK;
  }

  receive(data: Buffer): void {
    const fds = this.#fds;
    this.#fds = undefined;
    this.session.input(data, fds);
  }

  /** Kept for the input they came with (a unix socket chardev's connection): getfd takes them, as QEMU's human monitor does. */
  receiveDescriptors(fds: readonly number[]): void {
    if (this.#fds !== undefined) closeFds(this.#fds);
    this.#fds = fds;
  }

  /**
   * QEMU's monitor_event: the banner on every open (with the prompt only
   * while focused); on a mux, losing the focus ends the line and holds
   * further output, gaining it prints what was held and a fresh prompt.
   */
  event(event: ChardevEvent): void {
    switch (event) {
      case 'opened':
        this.#started = true;
        this.session.start(!this.#muxOut);
        break;
      case 'closed':
        if (this.#fds !== undefined) closeFds(this.#fds);
        this.#fds = undefined;
        this.session.disconnected();
        break;
      case 'mux-out':
        if (this.#started && !this.#muxOut) this.session.focusOut();
        this.#muxOut = true;
        break;
      case 'mux-in': {
        this.#muxOut = false;
        const held = Buffer.concat(this.#held);
        this.#held = [];
        this.#heldBytes = 0;
        if (held.length > 0) this.write(held);
        if (this.#started) this.session.focusIn();
        break;
      }
      case 'break':
        break;
    }
  }

  drain(): void {
    this.#blocked = false;
    this.session.writable();
  }
}
