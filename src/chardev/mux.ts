import type { ChardevBackendDefinition } from './backend-definition.js';
import { Chardev, type ChardevEvent, type ChardevFrontend } from './chardev.js';
import { ChardevError } from './chardev-error.js';
import { parseCommon } from './chardev-opts.js';
import { muxExitIgnoredText, muxHelpText } from './mux-help.js';

/** Frontends a mux serves at once (QEMU's MAX_MUX, chardev/chardev-internal.h). */
export const MAX_MUX = 4;

/**
 * Input a mux holds per frontend while that frontend takes nothing
 * (QEMU's MUX_BUFFER_SIZE): enough that escape commands still work while
 * the focused frontend is not reading, until its buffer fills.
 */
export const MUX_BUFFER_SIZE = 32;

/**
 * The escape character unless `-echr` names another: Ctrl-A, QEMU's
 * default `term_escape_char`. Like QEMU's, it is an int compared with
 * each input byte, so a value outside 0..255 (QEMU takes any) never
 * matches and turns the escape commands off.
 */
export const MUX_DEFAULT_ESCAPE_CHAR = 0x01;

/** A frontend's place on the mux: its own input buffer, as QEMU keeps one per frontend. */
interface MuxSlot {
  readonly frontend: ChardevFrontend;
  buffer: Buffer[];
  buffered: number;
}

/**
 * The mux chardev (chardev/char-mux.c): one base chardev shared by up to
 * four frontends. Everything a frontend writes goes to the base; input
 * from the base goes to the one frontend that has the focus, after the
 * escape commands (Ctrl-A then a key) are taken out of it.
 *
 * As in QEMU 7.2: a frontend takes the focus when it attaches (the old one
 * hears `mux-out`, the new one `mux-in`, then `opened`); events from the
 * base reach every frontend, events raised on the mux (chardev-send-break,
 * C-a b) only the focused one; each frontend has a 32-byte input buffer so
 * that escape commands are seen while it does not read; a fifth frontend
 * is refused with `Device 'ID' is in use`; the mux itself can never be
 * removed and refuses chardev-change.
 *
 * Where chardevd differs (docs/compatibility.md): a frontend that leaves
 * frees its place for another (QEMU 7.2 never reuses one, so four attaches
 * in the mux's life are all it gets; newer QEMU reuses them), and when the
 * focused frontend leaves the focus moves on as C-a c would move it; C-a x
 * does not stop the daemon.
 */
export class MuxChardev extends Chardev {
  readonly kind = 'mux';
  override readonly multiplexer = true;
  override readonly hotswapRefusal = 'Mux device hotswap not supported yet';
  readonly #slots: (MuxSlot | undefined)[] = [];
  #focus = -1;
  #gotEscape = false;
  #timestamps = false;
  #timestampsStart = -1;
  #lineStart = false;
  /** Input taken from the base beyond the focused frontend's room, processed when it makes room. */
  #waiting: Buffer | undefined;
  readonly #side: MuxBaseSide;

  constructor(
    id: string,
    readonly base: Chardev,
    /**
     * Whether the mux counts as open from the start. During startup QEMU
     * holds every mux's `opened` until all frontends are attached
     * (suspend_mux_open); `openMux()` then sends it to all of them.
     */
    private readonly openAtCreation: boolean,
    /** The byte that starts an escape command (`-echr`); outside 0..255 none does. */
    readonly escapeChar: number = MUX_DEFAULT_ESCAPE_CHAR,
  ) {
    super(id);
    this.#side = new MuxBaseSide(this);
  }

  get filename(): string {
    return 'mux';
  }

  async open(): Promise<void> {
    // QEMU's qemu_chr_fe_init on the base: a base with a frontend is refused.
    this.base.attach(this.#side);
    if (this.openAtCreation) this.setOpen(true);
  }

  /**
   * Sends `opened` to every frontend attached so far and marks the mux
   * open, so that later frontends get it when they attach (QEMU's
   * open_muxes after the command line is processed).
   */
  openMux(): void {
    if (this.isOpen) return;
    this.#broadcast('opened');
    this.setOpen(true);
  }

  /** The focused frontend, the one query-chardev's frontend-open describes. */
  override get frontend(): ChardevFrontend | undefined {
    return this.#focus < 0 ? undefined : this.#slots[this.#focus]?.frontend;
  }

  /** Every frontend, in the order of their places. */
  get frontends(): ChardevFrontend[] {
    return this.#slots.flatMap((slot) => (slot === undefined ? [] : [slot.frontend]));
  }

  /** QEMU 7.2's qemu_chr_is_busy counts a mux as busy whatever its frontends: it cannot be removed. */
  override get busy(): boolean {
    return true;
  }

  override get acceptsFrontend(): boolean {
    return !this.closed && this.#freePlace() >= 0;
  }

  /** Whether timestamps are on (C-a t). */
  get timestamps(): boolean {
    return this.#timestamps;
  }

  override attach(frontend: ChardevFrontend): void {
    const place = this.#freePlace();
    if (place < 0 || this.closed) throw new ChardevError(`Device '${this.id}' is in use`);
    this.#slots[place] = { frontend, buffer: [], buffered: 0 };
    // A mux stacked on this one takes its place now (QEMU's qemu_chr_fe_init)
    // but installs its handlers only when it gets a frontend of its own.
    if (frontend instanceof MuxBaseSide && !frontend.frontendOpen) return;
    this.#handlersInstalled(place);
  }

  /** A mux stacked on this one got its first frontend and now installs its handlers here. */
  stackedMuxActivated(side: ChardevFrontend): void {
    const place = this.#slots.findIndex((slot) => slot?.frontend === side);
    if (place >= 0) this.#handlersInstalled(place);
  }

  /** QEMU's qemu_chr_fe_set_handlers on a mux: the frontend takes the focus, and hears `opened` if the mux is open (sync_state). */
  #handlersInstalled(place: number): void {
    this.#side.activate();
    this.#setFocus(place);
    if (this.isOpen) this.#slots[place]?.frontend.event('opened');
    this.acceptInput();
  }

  override detach(frontend: ChardevFrontend): void {
    const place = this.#slots.findIndex((slot) => slot?.frontend === frontend);
    if (place < 0) return;
    this.#slots[place] = undefined;
    if (place !== this.#focus) return;
    this.#focus = -1;
    const next = this.#nextPlace(place);
    if (next >= 0) this.#setFocus(next);
    this.acceptInput();
  }

  /** Switches the focus to the next frontend, wrapping around (C-a c). */
  switchFocus(): void {
    const next = this.#nextPlace(this.#focus);
    if (next >= 0) this.#setFocus(next);
  }

  /** chardev-send-break on the mux reaches the focused frontend only (QEMU's mux_chr_be_event). */
  override sendBreak(): void {
    this.frontend?.event('break');
  }

  /** The focused frontend has room: hand it its buffered input, then let the base deliver again. */
  override acceptInput(): void {
    this.#flushFocused();
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (waiting !== undefined) this.receiveFromBase(waiting);
    if (!this.closed) this.base.acceptInput();
  }

  /** The base can take output again: every frontend may write (QEMU frontends watch the base). */
  protected override drained(): void {
    for (const frontend of this.frontends) frontend.drain?.();
  }

  protected writeToBackend(data: Buffer): boolean {
    if (!this.#timestamps) return this.base.write(data);
    // QEMU writes byte by byte in this mode, each line prefixed with the
    // time since the first timestamped line; one write of the result is the same stream.
    const parts: Buffer[] = [];
    let from = 0;
    for (let i = 0; i < data.length; i++) {
      if (this.#lineStart) {
        if (i > from) parts.push(data.subarray(from, i));
        from = i;
        parts.push(Buffer.from(this.#timestampPrefix(), 'latin1'));
        this.#lineStart = false;
      }
      if (data[i] === 0x0a) this.#lineStart = true;
    }
    parts.push(data.subarray(from));
    return this.base.write(Buffer.concat(parts));
  }

  #timestampPrefix(): string {
    const now = Date.now();
    if (this.#timestampsStart === -1) this.#timestampsStart = now;
    const elapsed = now - this.#timestampsStart;
    const secs = Math.floor(elapsed / 1000);
    const two = (n: number) => String(n).padStart(2, '0');
    return `[${two(Math.floor(secs / 3600))}:${two(Math.floor(secs / 60) % 60)}:${two(secs % 60)}.${String(elapsed % 1000).padStart(3, '0')}] `;
  }

  protected async closeBackend(): Promise<void> {
    this.#slots.length = 0;
    this.#focus = -1;
    this.#waiting = undefined;
    this.base.detach(this.#side);
  }

  // The base side: what the mux does as the base's frontend.

  /** How much input the mux takes from the base: room in the focused buffer plus what the focused frontend takes. */
  capacityFromBase(): number {
    const slot = this.#slots[this.#focus];
    if (slot === undefined || this.closed || this.#waiting !== undefined) return 0;
    return MUX_BUFFER_SIZE - slot.buffered + (slot.buffered === 0 ? slot.frontend.receiveCapacity() : 0);
  }

  /**
   * Input from the base (QEMU's mux_chr_read): escape commands out, the
   * rest to the focused frontend or its buffer. QEMU reads one byte at a
   * time while the buffer has room, so a focus switch inside a chunk
   * never overfills the new frontend's buffer; here the room is counted
   * down per byte and recounted after each command, and bytes beyond it
   * wait in the mux (taking nothing more from the base) until the
   * frontend makes room.
   */
  receiveFromBase(data: Buffer): void {
    this.#flushFocused();
    let room = this.capacityFromBase();
    let runStart = 0;
    let i = 0;
    const flushRun = (end: number) => {
      if (end > runStart) this.#deliver(this.#focus, data.subarray(runStart, end));
      runStart = end;
    };
    for (; i < data.length; i++) {
      const byte = data[i]!;
      if (this.#gotEscape) {
        this.#gotEscape = false;
        if (byte !== this.escapeChar) {
          runStart = i + 1;
          this.#command(byte);
          this.#flushFocused();
          room = this.capacityFromBase();
          continue;
        }
        // The escape key twice sends it once: this byte starts a run.
        if (room <= 0) {
          this.#gotEscape = true;
          break;
        }
        runStart = i;
      } else if (byte === this.escapeChar) {
        flushRun(i);
        runStart = i + 1;
        this.#gotEscape = true;
        continue;
      } else if (room <= 0) {
        break;
      }
      room--;
    }
    flushRun(i);
    if (i < data.length) this.#waiting = Buffer.from(data.subarray(i));
  }

  /** An event of the base: every frontend hears it (QEMU's mux_chr_send_all_event), once the mux is open. */
  eventFromBase(event: ChardevEvent): void {
    if (this.isOpen) this.#broadcast(event);
  }

  /** The base drained its output. */
  drainFromBase(): void {
    this.drained();
  }

  /** An escape command (QEMU's mux_proc_byte after the escape key). */
  #command(byte: number): void {
    switch (String.fromCharCode(byte)) {
      case '?':
      case 'h':
        this.write(Buffer.from(muxHelpText(this.escapeChar), 'latin1'));
        break;
      case 'x':
        this.write(Buffer.from(muxExitIgnoredText(this.escapeChar), 'latin1'));
        break;
      case 's':
        // QEMU commits its block devices; chardevd has none.
        break;
      case 'b':
        this.sendBreak();
        break;
      case 'c':
        this.switchFocus();
        break;
      case 't':
        this.#timestamps = !this.#timestamps;
        this.#timestampsStart = -1;
        this.#lineStart = false;
        break;
      default:
        // Any other key after the escape is swallowed, as in QEMU.
        break;
    }
  }

  /** Bytes for the frontend at `place`: straight to it while its buffer is empty and it has room, the rest buffered. */
  #deliver(place: number, data: Buffer): void {
    const slot = this.#slots[place];
    if (slot === undefined) return;
    let rest = data;
    if (slot.buffered === 0 && place === this.#focus) {
      const room = Math.min(rest.length, Math.max(0, slot.frontend.receiveCapacity()));
      if (room > 0) {
        slot.frontend.receive(rest.subarray(0, room));
        rest = rest.subarray(room);
      }
    }
    // receiveFromBase counts the room, so this always fits.
    const kept = rest.subarray(0, MUX_BUFFER_SIZE - slot.buffered);
    if (kept.length > 0) {
      slot.buffer.push(Buffer.from(kept));
      slot.buffered += kept.length;
    }
  }

  /** QEMU's mux_chr_accept_input: the focused frontend's buffer, as far as it takes it. */
  #flushFocused(): void {
    const slot = this.#slots[this.#focus];
    if (slot === undefined) return;
    while (slot.buffered > 0 && this.#slots[this.#focus] === slot) {
      const room = slot.frontend.receiveCapacity();
      if (room <= 0) break;
      const pending = Buffer.concat(slot.buffer);
      const chunk = pending.subarray(0, Math.min(room, pending.length));
      const left = pending.subarray(chunk.length);
      slot.buffer = left.length > 0 ? [left] : [];
      slot.buffered = left.length;
      slot.frontend.receive(chunk);
    }
  }

  /** QEMU's mux_set_focus: `mux-out` to the old frontend, `mux-in` to the new one. */
  #setFocus(place: number): void {
    const old = this.#slots[this.#focus];
    old?.frontend.event('mux-out');
    this.#focus = place;
    this.#slots[place]?.frontend.event('mux-in');
  }

  #broadcast(event: ChardevEvent): void {
    for (const slot of [...this.#slots]) slot?.frontend.event(event);
  }

  #freePlace(): number {
    for (let place = 0; place < MAX_MUX; place++) if (this.#slots[place] === undefined) return place;
    return -1;
  }

  /** The next occupied place after `place`, wrapping around; `place` itself if it is the only one; -1 when none. */
  #nextPlace(place: number): number {
    for (let step = 1; step <= MAX_MUX; step++) {
      const next = (place + step + MAX_MUX) % MAX_MUX;
      if (this.#slots[next] !== undefined) return next;
    }
    return -1;
  }
}

/**
 * The mux as its base's frontend. QEMU installs the mux's handlers on the
 * base only when the first frontend attaches to the mux: until then the
 * base reads nothing, its events are not seen and its frontend-open is false.
 */
class MuxBaseSide implements ChardevFrontend {
  #active = false;

  constructor(private readonly mux: MuxChardev) {}

  get frontendOpen(): boolean {
    return this.#active;
  }

  activate(): void {
    if (this.#active) return;
    this.#active = true;
    if (this.mux.base instanceof MuxChardev) this.mux.base.stackedMuxActivated(this);
  }

  receiveCapacity(): number {
    return this.#active ? this.mux.capacityFromBase() : 0;
  }

  receive(data: Buffer): void {
    this.mux.receiveFromBase(data);
  }

  event(event: ChardevEvent): void {
    if (this.#active) this.mux.eventFromBase(event);
  }

  drain(): void {
    this.mux.drainFromBase();
  }

  /** A mux's base is not handed over to a new backend (QEMU: "Chardev user does not support chardev hotswap"). */
  readonly changeBackend = undefined;
}

/** `-chardev mux,chardev=BASE` (chardev/char-mux.c); `mux=on` on another backend makes one too (registry.ts addMuxed). */
export const muxBackend: ChardevBackendDefinition<'mux'> = {
  kinds: ['mux'],
  options: { chardev: 'str' },
  parse(kind, opts) {
    const chardev = opts.get('chardev');
    if (chardev === undefined) throw opts.fail('chardev: mux: no chardev given');
    return { type: kind, data: { ...parseCommon(opts), chardev } };
  },
  create(id, backend, context) {
    const base = context.find?.(backend.data.chardev);
    if (base === undefined) throw new ChardevError(`mux: base chardev ${backend.data.chardev} not found`);
    return new MuxChardev(id, base, context.muxesOpened ?? true, context.muxEscapeChar);
  },
};
