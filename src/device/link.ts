import type { Chardev, ChardevFrontend } from '../chardev/chardev.js';
import type { ReadLease } from '../chardev/read-buffer.js';

/**
 * The most a link takes from one chardev before the write to the other
 * side reports whether it may go on: one socket read's worth, so a
 * receiving side that is full stops the sender within one chunk.
 */
export const LINK_CHUNK = 64 << 10;

/**
 * A reader of what one side of a link receives, beside the other side:
 * lossy (a hub of web viewers), so that it never holds the link back.
 */
export interface LinkTap {
  /** A copy of what the side received; lent input is the tap's to copy before it returns. */
  copy(data: Buffer, lease: ReadLease | undefined): void;
  /** The link let go of its chardevs: nothing more comes. */
  unlinked(): void;
}

/**
 * One side of a link: the frontend of one chardev, writing what that
 * chardev receives to the chardev of the other side. When the other
 * side's write says "wait", this side takes nothing more (capacity 0),
 * so its chardev pauses its source and the bytes wait in the kernel; the
 * other side's drain lets it go on.
 */
class LinkEnd implements ChardevFrontend {
  readonly frontendOpen = true;
  /** Bytes received from this side's chardev that the other side took. */
  forwarded = 0;
  /** Bytes received from this side's chardev that the other side dropped, unable to write them. */
  lost = 0;
  /** This side's chardev asked the writer to wait; cleared by its drain. */
  #outputFull = false;
  /** Where a copy of what this side's chardev receives goes too. */
  tap: LinkTap | undefined;
  #other!: LinkEnd;

  constructor(public chardev: Chardev) {}

  pairWith(other: LinkEnd): void {
    this.#other = other;
  }

  receiveCapacity(): number {
    return this.#other.#outputFull ? 0 : LINK_CHUNK;
  }

  receive(data: Buffer, lease?: ReadLease): void {
    const other = this.#other;
    // A sink that cannot write drops within write(): those bytes are lost, not moved.
    const lostBefore = other.chardev.outputLost;
    if (!other.chardev.write(data, lease)) other.#outputFull = true;
    const lost = other.chardev.outputLost - lostBefore;
    this.forwarded += data.length - lost;
    this.lost += lost;
    this.tap?.copy(data, lease);
  }

  /** Lent input goes to the other side with its lease: that chardev copies or keeps what it holds on to. */
  receiveLent(data: Buffer, lease: ReadLease): void {
    this.receive(data, lease);
  }

  /** Bytes wait in the link: read from this side and not yet delivered, or held back until the other side drains. */
  get busy(): boolean {
    return this.#outputFull || this.chardev.heldInput > 0;
  }

  /** Open, close and break stay on their side: a link carries bytes, as a null-modem cable without control lines. */
  event(): void {}

  drain(): void {
    this.#outputFull = false;
    this.#other.chardev.acceptInput();
  }

  /** chardev-change under a link: write to the new backend from now on. */
  readonly changeBackend = (chardev: Chardev): boolean => {
    this.chardev = chardev;
    this.drain();
    return true;
  };
}

/**
 * The link device: two chardevs back to back, each the other's frontend,
 * bytes flowing both ways with backpressure. It is how a guest-facing
 * socket feeds a ringbuf or a hub, and how chardevd relays a serial line
 * to a TCP port as ser2net or socat do.
 */
export class LinkDevice {
  readonly #ends: readonly [LinkEnd, LinkEnd];

  /** Attaches to both chardevs; the caller has checked that both are free. */
  constructor(
    readonly id: string | undefined,
    readonly path: string,
    chardev: Chardev,
    peer: Chardev,
  ) {
    const ends = [new LinkEnd(chardev), new LinkEnd(peer)] as const;
    ends[0].pairWith(ends[1]);
    ends[1].pairWith(ends[0]);
    this.#ends = ends;
    chardev.attach(ends[0]);
    peer.attach(ends[1]);
  }

  get chardev(): Chardev {
    return this.#ends[0].chardev;
  }

  get peer(): Chardev {
    return this.#ends[1].chardev;
  }

  /** Bytes moved from `chardev` to `peer`, and from `peer` to `chardev`. */
  get forwarded(): { readonly chardevToPeer: number; readonly peerToChardev: number } {
    return { chardevToPeer: this.#ends[0].forwarded, peerToChardev: this.#ends[1].forwarded };
  }

  /** Bytes the receiving side dropped, unable to write them, each way. */
  get lost(): { readonly chardevToPeer: number; readonly peerToChardev: number } {
    return { chardevToPeer: this.#ends[0].lost, peerToChardev: this.#ends[1].lost };
  }

  /** Every byte received so far, either way: it stands still once the sources have nothing more. */
  get received(): number {
    return this.#ends.reduce((sum, end) => sum + end.forwarded + end.lost, 0);
  }

  /** Whether bytes wait in the link (see LinkEnd.busy). */
  get busy(): boolean {
    return this.#ends.some((end) => end.busy);
  }

  /** Copies what `side` (this link's chardev or its peer) receives to `tap` as well, or stops copying (undefined). */
  setTap(side: Chardev, tap: LinkTap | undefined): void {
    for (const end of this.#ends) if (end.chardev === side) end.tap = tap;
  }

  /** Lets go of both chardevs; they stop reading until another frontend comes. A tap hears that nothing more comes. */
  detach(): void {
    for (const end of this.#ends) {
      const tap = end.tap;
      end.tap = undefined;
      end.chardev.detach(end);
      tap?.unlinked();
    }
  }
}
