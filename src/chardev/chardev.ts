import { closeFds } from '../base/fd-passing.js';
import type { QmpEvents } from '../generated/qapi-events.gen.js';
import type { ChardevBackendKind, ChardevHubInfo, ChardevSinkInfo } from '../generated/qapi-types.gen.js';
import type { EventSink } from '../qapi-runtime/index.js';
import type { TlsObjects } from '../objects/object-registry.js';
import type { ChardevLog } from './chardev-log.js';
import type { FdsetSource } from './path-opener.js';
import { ChardevError } from './chardev-error.js';
import type { ReadLease } from './read-buffer.js';

/**
 * What a chardev tells its frontend besides data (QEMU's QEMUChrEvent):
 * `opened`/`closed` follow the backend's connection (a socket client
 * arriving or leaving), `break` is a serial break (telnet IAC BREAK,
 * chardev-send-break), `mux-in`/`mux-out` are focus changes on a mux.
 */
export type ChardevEvent = 'opened' | 'closed' | 'break' | 'mux-in' | 'mux-out';

/**
 * The user of a chardev: in QEMU a guest device, in chardevd a link, a
 * console or a viewer. A chardev has at most one (QEMU's CharBackend).
 */
export interface ChardevFrontend {
  /**
   * How many bytes the frontend takes now (QEMU's can_read). At zero the
   * chardev stops reading its source until the frontend calls
   * `chardev.acceptInput()`, so input waits in the kernel, not in memory.
   */
  receiveCapacity(): number;
  /** Input from the backend, never more than the last `receiveCapacity()`. */
  receive(data: Buffer): void;
  /**
   * As `receive()`, for input lent by the backend's reader (see
   * ReadLease): the frontend copies or keeps what it needs after
   * returning. Without it, lent input reaches the frontend as a copy.
   */
  receiveLent?(data: Buffer, lease: ReadLease): void;
  event(event: ChardevEvent): void;
  /** Called after `write()` returned false, once the backend can take more. */
  drain?(): void;
  /**
   * Descriptors passed with the input that comes next (SCM_RIGHTS on a
   * unix socket), the frontend's to own (QEMU's qemu_chr_fe_get_msgfd,
   * for a monitor's getfd). A socket chardev reads its unix connections
   * with recvmsg() only for a frontend that has this; without it, what
   * a peer passes is closed by the kernel.
   */
  receiveDescriptors?(fds: readonly number[]): void;
  /** Whether the frontend declared itself open (query-chardev's frontend-open). */
  readonly frontendOpen: boolean;
  /**
   * Re-points the frontend at a new chardev during chardev-change; false
   * refuses the change. Frontends without it refuse every change.
   */
  changeBackend?: ((chardev: Chardev) => boolean) | undefined;
}

/**
 * Input a chardev holds for its frontend. QEMU reads no more than the
 * frontend's can_read, so it holds nothing; a Node source stops only
 * after the read in progress, so the chardev keeps what came after its
 * frontend filled up (one read of each source: 64 KiB for a socket, one
 * WebSocket message) and pauses the source. Beyond this limit a source
 * that goes on delivering while paused loses the excess, counted in
 * `droppedInput`.
 */
export const INPUT_HOLD_LIMIT = 2 << 20;

/**
 * Input a monitor (human or QMP) on a chardev takes per delivery. QEMU's
 * monitor_can_read offers one byte at a time while the monitor is not
 * suspended; taking up to this much at once is the same stream in fewer
 * calls, and a monitor that pauses still stops the chardev's source.
 */
export const MONITOR_INPUT_CHUNK = 4096;

/** How a chardev is told about the world around it when created. */
export interface ChardevContext {
  /** Messages for the daemon's log (stderr), e.g. a reconnecting client's failures. */
  readonly log: (message: string) => void;
  /** The chardevs that exist now, by id: how a hub finds its members and a mux its base (the registry supplies it). */
  readonly find?: ((id: string) => Chardev | undefined) | undefined;
  /** Where a chardev's QMP events go (a hub's HUB_MEMBER_DROPPED); none outside a daemon. */
  readonly events?: EventSink<QmpEvents> | undefined;
  /** Whether a new mux counts as open at once; false while startup holds mux events back (QEMU's suspend_mux_open). */
  readonly muxesOpened?: boolean | undefined;
  /** The byte that starts a mux escape command (QEMU's `-echr`); Ctrl-A when not given. */
  readonly muxEscapeChar?: number | undefined;
  /** Where a socket finds its tls-creds and tls-authz (the daemon's objects); without it, no id is known. */
  readonly objects?: TlsObjects | undefined;
  /** The fd sets of add-fd, which paths `/dev/fdset/N` open; none outside a daemon. */
  readonly fdsets?: FdsetSource | undefined;
  /**
   * The monitor whose command creates the chardev (QEMU's monitor_cur()):
   * a socket's `fd` address names one of its descriptors. Undefined on the
   * command line, where the address is a descriptor number.
   */
  readonly monitor?: MonitorDescriptors | undefined;
}

/** The descriptors a monitor connection was given with getfd. */
export interface MonitorDescriptors {
  /** Takes the descriptor named `name`, now the caller's to close (monitor_get_fd); undefined when there is none. */
  take(name: string): number | undefined;
}

/** A monitor that holds no descriptors (human-monitor-command's): every name is unknown. */
export const MONITOR_WITHOUT_DESCRIPTORS: MonitorDescriptors = { take: () => undefined };

/**
 * The base of every backend (QEMU's Chardev). It owns the frontend link,
 * the open state, input flow control and the log file; subclasses only
 * move bytes.
 *
 * Input: a backend pushes what it read with `receive()`. Bytes beyond what
 * the frontend can take are held (at most INPUT_HOLD_LIMIT) and the
 * backend is told to pause its source; `acceptInput()` hands them over
 * and resumes it. Without a frontend the source stays paused, as QEMU
 * stops polling a chardev nobody reads. A closed chardev reads nothing
 * and delivers nothing.
 *
 * Output: `write()` takes every byte and returns false when the backend's
 * queue is above its mark; the frontend then waits for `drain()`.
 */
export abstract class Chardev {
  /** The backend kind as requested (`memory` stays `memory`). */
  abstract readonly kind: ChardevBackendKind;
  /**
   * Whether every byte written gets where it goes without a peer to wait
   * for (a ringbuf, a file, null): as a hub member it never loses output,
   * and holds the hub's frontend back instead when it falls behind.
   */
  readonly losslessSink: boolean = false;
  /** A multiplexer (mux, hub), which QEMU does not stack: a hub refuses it as a member. */
  readonly multiplexer: boolean = false;
  /** Why chardev-change refuses to give this chardev a new backend, in QEMU's words; undefined where it does not. */
  readonly hotswapRefusal: string | undefined = undefined;
  /** Closed before every other chardev at shutdown, so that it lets go of the chardevs it holds (a hub's members) before they close. */
  readonly closesFirst: boolean = false;
  #frontend: ChardevFrontend | undefined;
  #open = false;
  #held: Buffer | undefined;
  /** The lease of `#held` while it is a view of a reader's buffer, during that reader's delivery. */
  #heldLease: ReadLease | undefined;
  #paused = true;
  #closed = false;
  #droppedInput = 0;
  #bytesIn = 0;
  #bytesOut = 0;
  #log: ChardevLog | undefined;
  /**
   * The hub its viewers share, while viewers made one for it (the web
   * console's viewers of a chardev that had no frontend, or that a link
   * joins to a chardev that is no hub): that hub is registered nowhere,
   * so query-chardev (`viewers`) and /metrics find its members, their
   * queues and drops, here.
   */
  viewers: { info(): ChardevHubInfo } | undefined;

  constructor(readonly id: string) {}

  /** What query-chardev shows as `filename`, in QEMU's notation. */
  abstract get filename(): string;

  /** Whether the backend is connected (QEMU's be_open). */
  get isOpen(): boolean {
    return this.#open;
  }

  get frontend(): ChardevFrontend | undefined {
    return this.#frontend;
  }

  /** Whether a frontend holds this chardev, so that it cannot be removed (QEMU's qemu_chr_is_busy). */
  get busy(): boolean {
    return this.#frontend !== undefined;
  }

  /** Whether `attach()` would take one more frontend (a mux takes several). */
  get acceptsFrontend(): boolean {
    return this.#frontend === undefined && !this.#closed;
  }

  /**
   * Starts the backend: opens files, binds sockets. Throws a ChardevError
   * with QEMU's text on failure. Called once, before anything else.
   */
  abstract open(): Promise<void>;

  /** Sets the log every frontend write is copied to (ChardevCommon logfile). */
  setLog(log: ChardevLog): void {
    this.#log = log;
  }

  /**
   * Attaches `frontend`. As in QEMU, a frontend that arrives on an open
   * backend is told `opened` at once.
   */
  attach(frontend: ChardevFrontend): void {
    if (this.#frontend !== undefined) throw new ChardevError(`Device '${this.id}' is in use`);
    this.#frontend = frontend;
    if (this.#open) frontend.event('opened');
    this.acceptInput();
  }

  /** Detaches `frontend` (no event, as clearing QEMU's handlers sends none). */
  detach(frontend: ChardevFrontend): void {
    if (this.#frontend !== frontend) return;
    this.#frontend = undefined;
    this.#pause();
  }

  /**
   * Writes `data` to the backend and the log. Returns false when the
   * caller should wait for its frontend's `drain()` before writing more.
   * A closed chardev drops `data` and returns true: there is nothing to
   * wait for (QEMU's write to a gone backend fails and the bytes are lost).
   * With a `lease`, `data` is lent (see ReadLease) and the backend copies
   * or keeps what it holds on to; the log writes synchronously.
   */
  write(data: Buffer, lease?: ReadLease): boolean {
    if (this.#closed) return true;
    this.#bytesOut += data.length;
    const more = lease === undefined ? this.writeToBackend(data) : this.writeLentToBackend(data, lease);
    this.#log?.write(data);
    return more;
  }

  /** The backend's share of `write()`: take all of `data`, false when its queue is full. */
  protected abstract writeToBackend(data: Buffer): boolean;

  /**
   * Bytes `write()` took and the backend then dropped because it could
   * not write them (a full disk, a reader gone, a close): what a link
   * does not count as moved. Backends whose writes cannot fail so (a
   * ringbuf), or that count their drops otherwise, report none.
   */
  get outputLost(): number {
    return 0;
  }

  /**
   * Output a lossless sink took and has not written yet: what a graceful
   * stop waits for. A backend that is not a lossless sink (a viewer that
   * does not read) reports none, so that it cannot hold the stop up.
   */
  get outputBacklog(): number {
    return 0;
  }

  /** How the backend's writes fare, for one whose writes can fail (file, pipe): query-chardev's `sink`. */
  get sinkInfo(): ChardevSinkInfo | undefined {
    return undefined;
  }

  /** Graceful stop: take no new connections (a socket server); those there go on until close(). */
  stopAccepting(): void {}

  /** The backend's share of `write()` for lent data; backends that may hold on to it get a copy. */
  protected writeLentToBackend(data: Buffer, _lease: ReadLease): boolean {
    return this.writeToBackend(Buffer.from(data));
  }

  /** Tells the frontend that it may write again. */
  protected drained(): void {
    this.#frontend?.drain?.();
  }

  /** Sends a serial break to the frontend (chardev-send-break, telnet IAC BREAK). */
  sendBreak(): void {
    this.#frontend?.event('break');
  }

  /**
   * Marks the backend connected or not; the frontend hears `opened`, or
   * `closed` if it had been open (QEMU's qemu_chr_be_event bookkeeping).
   */
  protected setOpen(open: boolean): void {
    if (open === this.#open) return;
    this.#open = open;
    this.#frontend?.event(open ? 'opened' : 'closed');
  }

  /**
   * Input from the backend's source, for the frontend; ignored once
   * closed. With a `lease`, `data` is lent (see ReadLease): what the
   * frontend does not take at once is kept.
   */
  protected receive(data: Buffer, lease?: ReadLease): void {
    if (this.#closed || data.length === 0) return;
    this.#bytesIn += data.length;
    if (this.#held === undefined) {
      this.#held = data;
      this.#heldLease = lease;
    } else {
      this.#held = Buffer.concat([this.#held, data]);
    }
    this.#deliver();
    if (this.#heldLease !== undefined) {
      if (this.#held !== undefined) this.#heldLease.keep();
      this.#heldLease = undefined;
    }
    const held = this.#held;
    if (held !== undefined && held.length > INPUT_HOLD_LIMIT) {
      this.#droppedInput += held.length - INPUT_HOLD_LIMIT;
      // A copy, so that the rest of a large chunk is not kept alive by the slice.
      this.#held = Buffer.from(held.subarray(0, INPUT_HOLD_LIMIT));
    }
  }

  /** Bytes the backend read from its source (a guest, a peer) for the frontend, since creation. */
  get bytesIn(): number {
    return this.#bytesIn;
  }

  /** Bytes the frontend wrote to the backend, since creation. */
  get bytesOut(): number {
    return this.#bytesOut;
  }

  /** Whether the frontend takes descriptors passed with the input (receiveDescriptors). */
  protected get frontendTakesDescriptors(): boolean {
    return this.#frontend?.receiveDescriptors !== undefined;
  }

  /** Descriptors that came with the input about to be received: the frontend's if it takes them, else closed. */
  protected receiveDescriptors(fds: readonly number[]): void {
    const frontend = this.#frontend;
    if (!this.#closed && frontend?.receiveDescriptors !== undefined) frontend.receiveDescriptors(fds);
    else closeFds(fds);
  }

  /** Bytes read but not yet taken by the frontend. */
  get heldInput(): number {
    return this.#held?.length ?? 0;
  }

  /** Bytes a source delivered beyond INPUT_HOLD_LIMIT while paused, and lost. */
  get droppedInput(): number {
    return this.#droppedInput;
  }

  /** The frontend has room again (QEMU's qemu_chr_fe_accept_input). */
  acceptInput(): void {
    this.#deliver();
  }

  #deliver(): void {
    const frontend = this.#frontend;
    while (frontend !== undefined && this.#held !== undefined && this.#frontend === frontend) {
      const room = frontend.receiveCapacity();
      if (room <= 0) break;
      const chunk = this.#held.length <= room ? this.#held : this.#held.subarray(0, room);
      this.#held = chunk === this.#held ? undefined : this.#held.subarray(room);
      const lease = this.#heldLease;
      if (lease === undefined) frontend.receive(chunk);
      else if (frontend.receiveLent !== undefined) frontend.receiveLent(chunk, lease);
      else frontend.receive(Buffer.from(chunk));
    }
    if (this.#frontend !== undefined && this.#held === undefined && this.#frontend.receiveCapacity() > 0) this.#resume();
    else this.#pause();
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.pauseInput();
  }

  #resume(): void {
    if (!this.#paused || this.#closed) return;
    this.#paused = false;
    this.resumeInput();
  }

  /** Whether the backend should be reading its source now. */
  protected get inputPaused(): boolean {
    return this.#paused;
  }

  /** Stop reading the source (default: the backend has none). */
  protected pauseInput(): void {}

  /** Start or continue reading the source. */
  protected resumeInput(): void {}

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Releases everything the backend holds. The frontend should be gone;
   * one still attached gets no more input. The source is paused first,
   * so nothing is read while the backend closes.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#pause();
    this.#closed = true;
    this.#held = undefined;
    this.#heldLease = undefined;
    try {
      await this.closeBackend();
    } finally {
      this.#log?.close();
    }
  }

  /** The backend's share of `close()`. */
  protected abstract closeBackend(): Promise<void>;
}
