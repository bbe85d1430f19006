import type { ChardevHub, ChardevHubInfo, ChardevHubMemberInfo } from '../generated/qapi-types.gen.js';
import type { ChardevBackendDefinition } from './backend-definition.js';
import { ByteRing } from './byte-ring.js';
import { Chardev, type ChardevContext, type ChardevEvent, type ChardevFrontend } from './chardev.js';
import { ChardevError } from './chardev-error.js';
import { asUint32, parseCommon } from './chardev-opts.js';
import { HubMember, type MemberHub } from './hub-member.js';
import { STALL_TIMEOUT_MAX } from './stall-watch.js';

/**
 * The most members a hub takes. QEMU's MAX_HUB is 4; chardevd lifts it
 * to this, which also bounds the `chardevs.N` names -chardev accepts.
 */
export const HUB_MEMBER_LIMIT = 256;

/** What one member's queue holds by default before its oldest bytes are dropped. */
export const HUB_DEFAULT_QUEUE_SIZE = 1 << 20;

/** The largest `queue-size` a hub accepts. */
export const HUB_MAX_QUEUE_SIZE = 64 << 20;

/** The output history a hub keeps by default for members that ask for a replay. */
export const HUB_DEFAULT_HISTORY = 64 << 10;

/** The largest `history` a hub accepts. */
export const HUB_MAX_HISTORY = 16 << 20;

/**
 * Several chardevs behind one frontend (QEMU 10.0's chardev/char-hub.c):
 * input from every member goes to the frontend, output of the frontend
 * goes to every open member, and the frontend sees the hub open while at
 * least one member is open.
 *
 * Where QEMU returns the minimum any member accepted, so that the
 * slowest member paces the frontend and every other member, chardevd by
 * default gives each member its own queue: a member whose backend asks
 * to wait gets the following output queued, up to `queue-size`, and
 * beyond that loses its oldest queued bytes, counted and reported
 * (HUB_MEMBER_DROPPED, query-chardev). Lossless sinks (ringbuf, file)
 * lose nothing; one that falls a whole queue behind holds the frontend
 * back instead. `backpressure` restores QEMU's behaviour: any member
 * that is behind holds the frontend back. `stall-timeout` does the same
 * for members that read, and cuts loose one that takes nothing for that
 * long while the frontend waits on it (StallWatch), so that viewers that
 * read lose nothing and one that does not read cannot stop the others.
 *
 * Members can join and leave while the hub runs (hub-add-member,
 * hub-remove-member), and a joining member can ask for the most recent
 * output from the hub's history before the live output.
 */
export class HubChardev extends Chardev implements MemberHub {
  readonly kind = 'hub';
  override readonly multiplexer = true;
  // QEMU 10's text (qmp_chardev_change); 7.2, which has no hub, says "Mux device hotswap not supported yet".
  override readonly hotswapRefusal = 'For mux or hub device hotswap is not supported yet';
  override readonly closesFirst = true;
  readonly backpressure: boolean;
  readonly queueSize: number;
  readonly stallTimeoutMs: number | undefined;
  readonly historySize: number;
  readonly #history: ByteRing | undefined;
  readonly #members: HubMember[] = [];
  readonly #memberIds: readonly string[];
  #openMembers = 0;
  /** write() returned false; the frontend waits for drain(). */
  #frontendWaiting = false;

  constructor(
    id: string,
    options: ChardevHub,
    private readonly context: ChardevContext,
    /** Members only join at run time (withoutMembers): no list to check. */
    joinedOnly = false,
  ) {
    super(id);
    this.#memberIds = options.chardevs;
    this.backpressure = options.backpressure ?? false;
    this.queueSize = options['queue-size'] ?? HUB_DEFAULT_QUEUE_SIZE;
    this.historySize = options.history ?? HUB_DEFAULT_HISTORY;
    this.stallTimeoutMs = options['stall-timeout'];
    // QEMU checks the list first (qemu_chr_open_hub).
    if (this.#memberIds.length === 0 && !joinedOnly) throw new ChardevError("hub: 'chardevs' list is not defined");
    if (!Number.isSafeInteger(this.queueSize) || this.queueSize < 1 || this.queueSize > HUB_MAX_QUEUE_SIZE) {
      throw new ChardevError(`hub: 'queue-size' must be between 1 and ${HUB_MAX_QUEUE_SIZE}`);
    }
    if (!Number.isSafeInteger(this.historySize) || this.historySize > HUB_MAX_HISTORY) {
      throw new ChardevError(`hub: 'history' must not exceed ${HUB_MAX_HISTORY}`);
    }
    if (this.stallTimeoutMs !== undefined) {
      if (this.stallTimeoutMs < 1 || this.stallTimeoutMs > STALL_TIMEOUT_MAX) {
        throw new ChardevError(`hub: 'stall-timeout' must be between 1 and ${STALL_TIMEOUT_MAX}`);
      }
      if (this.backpressure) throw new ChardevError("hub: 'backpressure' and 'stall-timeout' are mutually exclusive");
    }
    this.#history = this.historySize > 0 ? new ByteRing(2 ** Math.ceil(Math.log2(this.historySize))) : undefined;
  }

  /**
   * A hub with the default options and no members, which members join at
   * run time only (the web console makes one for a chardev that has no
   * frontend). Nothing creates it from a list, so QEMU's check that the
   * list is not empty does not apply; it needs no open().
   */
  static withoutMembers(id: string, context: ChardevContext): HubChardev {
    return new HubChardev(id, { chardevs: [] }, context, true);
  }

  get filename(): string {
    return 'hub';
  }

  /** Attaches the members in the order given, stopping at the first that fails, as QEMU's open does. */
  async open(): Promise<void> {
    try {
      for (const memberId of this.#memberIds) this.addMember(memberId);
    } catch (error: unknown) {
      // QEMU's finalize lets go of the members attached before the failure.
      this.#releaseMembers();
      this.#history?.release();
      throw error;
    }
  }

  /** A second frontend gets QEMU 10's text (qemu_chr_fe_init), as the hub is QEMU 10's. */
  override attach(frontend: ChardevFrontend): void {
    if (this.frontend !== undefined) throw new ChardevError(`chardev '${this.id}' is already in use`);
    super.attach(frontend);
  }

  /**
   * Adds the chardev `memberId` as a member, with QEMU's checks and texts
   * in QEMU's order: it must exist, must not be a hub or a mux, the hub
   * must have room, and the chardev must be free. `replay` bytes of
   * history go to it first, once it is open.
   */
  addMember(memberId: string, replay = 0): void {
    const chardev = this.context.find?.(memberId);
    if (chardev === undefined || chardev.closed) throw new ChardevError(`hub: chardev can't be found by id '${memberId}'`);
    this.join(chardev, replay);
  }

  /** Throws what join() would for a new member because the hub is full. */
  checkJoin(): void {
    if (this.#members.length >= HUB_MEMBER_LIMIT) throw new ChardevError(`hub: too many uses of chardevs '${this.id}' (maximum is ${HUB_MEMBER_LIMIT})`);
  }

  /** Adds `chardev`, found by the caller, as a member: addMember's checks after the lookup. */
  join(chardev: Chardev, replay = 0): void {
    const memberId = chardev.id;
    if (chardev.multiplexer) {
      throw new ChardevError(
        `hub: multiplexers and hub devices can't be stacked, check chardev '${memberId}', chardev should not be a hub device or have 'mux=on' enabled`,
      );
    }
    this.checkJoin();
    if (chardev.frontend !== undefined) throw new ChardevError(`chardev '${memberId}' is already in use`);
    const member = new HubMember(this, chardev);
    member.pendingReplay = Math.max(0, Math.min(replay, this.historySize));
    this.#members.push(member);
    // An open member reports `opened` from inside attach, which counts it and sends the replay.
    chardev.attach(member);
  }

  /** Takes a member out; the chardev stays, free. The frontend hears `closed` if it was the last open one. */
  removeMember(memberId: string): void {
    const chardev = this.#members.find((member) => member.chardev.id === memberId)?.chardev;
    if (chardev === undefined) throw new ChardevError(`Chardev '${memberId}' is not a member of hub '${this.id}'`);
    this.leave(chardev);
  }

  /** Takes the member `chardev` out, as removeMember does; nothing happens if it is not one. */
  leave(chardev: Chardev): void {
    const index = this.#members.findIndex((member) => member.chardev === chardev);
    if (index < 0) return;
    const member = this.#members[index]!;
    this.#members.splice(index, 1);
    member.chardev.detach(member);
    member.dispose();
    if (member.countedOpen) {
      member.countedOpen = false;
      if (--this.#openMembers === 0) this.setOpen(false);
    }
    this.memberProgressed();
  }

  /** The members' chardevs, in the order they joined. */
  get members(): readonly Chardev[] {
    return this.#members.map((member) => member.chardev);
  }

  /** What query-chardev shows for the hub. */
  info(): ChardevHubInfo {
    const now = Date.now();
    const stall = this.stallTimeoutMs;
    return {
      backpressure: this.backpressure,
      'queue-size': this.queueSize,
      history: this.historySize,
      ...(stall === undefined ? {} : { 'stall-timeout': stall }),
      members: this.#members.map(
        (member): ChardevHubMemberInfo => ({
          id: member.chardev.id,
          open: member.chardev.isOpen,
          lossless: member.lossless,
          written: member.written,
          queued: member.queued,
          'lag-ms': member.lagMs(now),
          dropped: member.dropped,
          ...(stall === undefined ? {} : { 'cut-loose': member.cutLoose }),
        }),
      ),
    };
  }

  /**
   * What members that lose nothing (lossless ones; every one with
   * backpressure; with stall-timeout, every one not cut loose) still
   * have queued: a graceful stop waits for it.
   */
  override get outputBacklog(): number {
    return this.#members.reduce((sum, member) => sum + (member.lossless || this.backpressure || member.pacing ? member.queued : 0), 0);
  }

  /** Input room for every member: the frontend's, and none while the hub still holds input (QEMU delegates can_read to the frontend). */
  inputRoom(): number {
    const frontend = this.frontend;
    if (frontend === undefined || this.closed || this.heldInput > 0) return 0;
    return frontend.receiveCapacity();
  }

  memberInput(data: Buffer): void {
    this.receive(data);
  }

  /** The frontend has room again: so do the members, whose sources may have paused. */
  override acceptInput(): void {
    super.acceptInput();
    for (const member of this.#members) member.chardev.acceptInput();
  }

  /**
   * QEMU's hub_chr_event: the frontend hears `opened` when the first
   * member opens and `closed` when the last open one closes; other
   * events (a break) pass through.
   */
  memberEvent(member: HubMember, event: ChardevEvent): void {
    if (!this.#members.includes(member)) return;
    if (event === 'opened') {
      if (!member.countedOpen) {
        member.countedOpen = true;
        if (this.#openMembers++ === 0) this.setOpen(true);
      }
      this.#replay(member);
    } else if (event === 'closed') {
      member.forget();
      if (member.countedOpen) {
        member.countedOpen = false;
        if (--this.#openMembers === 0) this.setOpen(false);
      }
      this.memberProgressed();
    } else if (event === 'break') {
      this.sendBreak();
    }
  }

  #replay(member: HubMember): void {
    const size = member.pendingReplay;
    if (size === 0 || this.#history === undefined) return;
    member.pendingReplay = 0;
    const { data } = this.#history.readFrom(this.#history.end - size, size);
    if (data.length > 0) member.send(Buffer.from(data.buffer, data.byteOffset, data.length));
  }

  protected writeToBackend(data: Buffer): boolean {
    this.#history?.write(data);
    let more = true;
    for (const member of this.#members) {
      // QEMU skips closed backends; they catch up from the current position when they open.
      if (!member.chardev.isOpen) continue;
      member.send(data);
      if (member.pacing) more = false;
    }
    if (!more) this.#frontendWaiting = true;
    return more;
  }

  /** A member moved bytes or left: if nobody holds the frontend back any more, it may write again. */
  memberProgressed(): void {
    if (!this.#frontendWaiting) return;
    if (this.#members.some((member) => member.chardev.isOpen && member.pacing)) return;
    this.#frontendWaiting = false;
    this.drained();
  }

  reportDrops(member: HubMember): void {
    this.context.events?.emit('HUB_MEMBER_DROPPED', { hub: this.id, member: member.chardev.id, dropped: member.dropped, queued: member.queued });
  }

  #releaseMembers(): void {
    for (const member of this.#members.splice(0)) {
      member.chardev.detach(member);
      member.dispose();
    }
    this.#openMembers = 0;
  }

  /** Lets go of every member (QEMU's char_hub_finalize); the members stay, free. */
  protected async closeBackend(): Promise<void> {
    this.#releaseMembers();
    this.#history?.release();
  }
}

/**
 * `-chardev hub,chardevs.0=A,chardevs.1=B,...` (QEMU 10.0's
 * chardev/char-hub.c), plus chardevd's backpressure, queue-size, history
 * and stall-timeout.
 * QEMU names the members chardevs.0 to chardevs.3; chardevd takes up to
 * chardevs.255 (HUB_MEMBER_LIMIT), listing QEMU's four in the help.
 */
export const hubBackend: ChardevBackendDefinition<'hub'> = {
  kinds: ['hub'],
  options: {
    'chardevs.0': 'str',
    'chardevs.1': 'str',
    'chardevs.2': 'str',
    'chardevs.3': 'str',
    backpressure: 'bool',
    'queue-size': 'size',
    history: 'size',
    'stall-timeout': 'num',
  },
  optionType(name) {
    const member = /^chardevs\.(0|[1-9][0-9]{0,3})$/.exec(name);
    return member !== null && Number(member[1]) < HUB_MEMBER_LIMIT ? 'str' : undefined;
  },
  parse(kind, opts) {
    // char-hub.c qemu_chr_parse_hub: chardevs.0, chardevs.1, ... up to the first one missing.
    const chardevs: string[] = [];
    for (let i = 0; i < HUB_MEMBER_LIMIT; i++) {
      const member = opts.get(`chardevs.${i}`);
      if (member === undefined) break;
      chardevs.push(member);
    }
    const data: ChardevHub = { ...parseCommon(opts), chardevs };
    if (opts.has('backpressure')) data.backpressure = opts.getBool('backpressure', false);
    if (opts.has('queue-size')) data['queue-size'] = Number(opts.getUint('queue-size', 0n));
    if (opts.has('history')) data.history = Number(opts.getUint('history', 0n));
    if (opts.has('stall-timeout')) data['stall-timeout'] = asUint32('stall-timeout', opts.getUint('stall-timeout', 0n), opts);
    return { type: kind, data };
  },
  create: (id, backend, context) => new HubChardev(id, backend.data, context),
  // query-chardev-backends and the daemon's `-chardev help` do not name the hub.
  listed: false,
};
