import { HEADER_SIZE, MAGIC_0, MAGIC_1 } from './codes.js';
import { type Crc32, crc32 } from './crc32.js';

/** A frame's header fields (docs/demux-protocol.md, "Frames"). */
export interface FrameHeader {
  readonly type: number;
  readonly flags: number;
  readonly channel: number;
  readonly length: number;
}

/** One frame: header and payload in one buffer, ready to write. */
export function encodeFrame(type: number, flags: number, channel: number, payload?: Uint8Array, crc: Crc32 = crc32): Uint8Array {
  const length = payload?.length ?? 0;
  const frame = new Uint8Array(HEADER_SIZE + length);
  if (payload !== undefined) frame.set(payload, HEADER_SIZE);
  const view = new DataView(frame.buffer, frame.byteOffset, HEADER_SIZE);
  frame[0] = MAGIC_0;
  frame[1] = MAGIC_1;
  frame[2] = type;
  frame[3] = flags;
  view.setUint32(4, channel);
  view.setUint32(8, length);
  view.setUint32(12, length === 0 ? 0 : crc(frame.subarray(HEADER_SIZE)));
  view.setUint32(16, crc(frame.subarray(0, 16)));
  return frame;
}

/** What a FrameDecoder finds in the byte stream. */
export interface FrameSink {
  /** A whole frame whose header and payload checksums hold; `payload` may be a view of the pushed bytes, valid during the call. */
  frame(header: FrameHeader, payload: Uint8Array): void;
  /** `count` bytes that started no valid header were skipped (told at the end of each push and before the next valid frame). */
  garbage(count: number): void;
  /** A valid header announced more than the limit: its payload is skipped, unread. */
  oversize(header: FrameHeader): void;
  /** A valid header whose payload failed its checksum: the frame is dropped. */
  corrupt(header: FrameHeader): void;
}

/**
 * Reads frames out of a byte stream pushed in pieces. A header counts only
 * when its magic and its CRC hold; anything else is skipped a byte at a
 * time up to the next magic byte, which is how the receiver finds the next
 * frame after noise (a console line on a serial port, a peer that
 * restarted mid-frame). Holds at most one header and one payload of
 * `maxPayload` bytes.
 */
export class FrameDecoder {
  /** Pieces of an incomplete frame, kept (copied) between pushes, joined once `#need` bytes are there. */
  #pending: Uint8Array[] = [];
  #pendingLength = 0;
  /** How many bytes the incomplete frame needs before it is worth looking at again. */
  #need = 0;
  /** Payload bytes still to skip after an oversize header. */
  #skip = 0;
  #garbage = 0;

  constructor(
    private readonly sink: FrameSink,
    public maxPayload: number,
    private readonly crc: Crc32 = crc32,
  ) {}

  /** Forgets a partial frame: the transport was lost. */
  reset(): void {
    this.#pending = [];
    this.#pendingLength = 0;
    this.#need = 0;
    this.#skip = 0;
    this.#garbage = 0;
  }

  push(chunk: Uint8Array): void {
    let bytes = chunk;
    if (this.#skip > 0) {
      const skipped = Math.min(this.#skip, bytes.length);
      this.#skip -= skipped;
      bytes = bytes.subarray(skipped);
    }
    if (this.#pendingLength > 0) {
      // Joining each small piece onto a large partial frame would copy it over and over: wait until the frame can be whole.
      this.#pending.push(bytes.slice());
      this.#pendingLength += bytes.length;
      if (this.#pendingLength < this.#need) return;
      bytes = concat(this.#pending, this.#pendingLength);
      this.#pending = [];
      this.#pendingLength = 0;
    }
    let at = 0;
    while (at < bytes.length) {
      if (this.#skip > 0) {
        const skipped = Math.min(this.#skip, bytes.length - at);
        this.#skip -= skipped;
        at += skipped;
        continue;
      }
      if (bytes[at] !== MAGIC_0) {
        const next = bytes.indexOf(MAGIC_0, at + 1);
        const end = next < 0 ? bytes.length : next;
        this.#addGarbage(end - at);
        at = end;
        continue;
      }
      if (bytes.length - at < HEADER_SIZE) {
        // A header needs its second magic byte to be worth waiting for.
        if (bytes.length - at >= 2 && bytes[at + 1] !== MAGIC_1) {
          this.#addGarbage(1);
          at++;
          continue;
        }
        this.#need = HEADER_SIZE;
        break;
      }
      const header = parseHeader(bytes, at, this.crc);
      if (header === undefined) {
        this.#addGarbage(1);
        at++;
        continue;
      }
      this.#flushGarbage();
      if (header.length > this.maxPayload) {
        at += HEADER_SIZE;
        this.#skip = header.length;
        this.sink.oversize(header);
        continue;
      }
      const end = at + HEADER_SIZE + header.length;
      if (end > bytes.length) {
        this.#need = HEADER_SIZE + header.length;
        break;
      }
      const payload = bytes.subarray(at + HEADER_SIZE, end);
      const expected = new DataView(bytes.buffer, bytes.byteOffset + at + 12, 4).getUint32(0);
      at = end;
      if (header.length > 0 && this.crc(payload) !== expected) this.sink.corrupt(header);
      else this.sink.frame(header, payload);
    }
    // Told per push at most, so that noise costs the peer one ERROR frame per read, not per byte.
    this.#flushGarbage();
    if (at < bytes.length) {
      // Kept as a copy: the pushed chunk belongs to the caller.
      this.#pending = [bytes.slice(at)];
      this.#pendingLength = bytes.length - at;
    }
  }

  #addGarbage(count: number): void {
    this.#garbage += count;
  }

  #flushGarbage(): void {
    if (this.#garbage === 0) return;
    const count = this.#garbage;
    this.#garbage = 0;
    this.sink.garbage(count);
  }
}

/** The header at `at` if its magic and CRC hold. */
function parseHeader(bytes: Uint8Array, at: number, crc: Crc32): FrameHeader | undefined {
  if (bytes[at] !== MAGIC_0 || bytes[at + 1] !== MAGIC_1) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, HEADER_SIZE);
  if (crc(bytes.subarray(at, at + 16)) !== view.getUint32(16)) return undefined;
  return { type: bytes[at + 2]!, flags: bytes[at + 3]!, channel: view.getUint32(4), length: view.getUint32(8) };
}

function concat(pieces: readonly Uint8Array[], length: number): Uint8Array {
  const joined = new Uint8Array(length);
  let at = 0;
  for (const piece of pieces) {
    joined.set(piece, at);
    at += piece.length;
  }
  return joined;
}
