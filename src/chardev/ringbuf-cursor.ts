import type { DataFormat, RingbufCursorRead } from '../generated/qapi-types.gen.js';
import type { ByteRing } from './byte-ring.js';
import { ChardevError } from './chardev-error.js';
import { qemuUtf8Text } from './ringbuf-data.js';

export interface CursorReadRequest {
  /** Where to start; undefined reads from the oldest byte held. */
  readonly cursor?: number | undefined;
  /** The most bytes to read; undefined reads everything held from the cursor on. */
  readonly size?: number | undefined;
  readonly format?: DataFormat | undefined;
}

/**
 * ringbuf-read-cursor (chardevd's extension): a non-destructive read of a
 * ring by absolute cursor. The ring's destructive reader (ringbuf-read)
 * does not move cursors: a cursor read sees every byte not yet
 * overwritten, consumed or not.
 *
 * In utf8 the reply never cuts a character: a multi-byte sequence that
 * does not fit within `size`, or whose last bytes are not written yet,
 * is left for the next read, and the returned cursor points at its first
 * byte. A size too small for the one character at the cursor is an
 * error rather than an empty reply that would never advance.
 */
export function readByCursor(ring: ByteRing, device: string, request: CursorReadRequest): RingbufCursorRead {
  const { start, end } = ring;
  const cursor = request.cursor ?? start;
  if (!Number.isSafeInteger(cursor) || cursor < 0) throw new ChardevError(`cursor must be between 0 and ${Number.MAX_SAFE_INTEGER}`);
  if (cursor > end) throw new ChardevError(`cursor ${cursor} is beyond the end of '${device}' (${end} bytes written)`);
  if (request.size !== undefined && request.size <= 0) throw new ChardevError('size must be greater than zero');
  const size = request.size ?? ring.capacity;
  if (request.format === 'base64') {
    const { data, next, lost } = ring.readFrom(cursor, size);
    return { data: Buffer.from(data).toString('base64'), cursor: next, lost, start, end };
  }
  // Up to three bytes more than asked for, to see whether a character at the size limit is whole.
  const { data, lost } = ring.readFrom(cursor, size + MAX_SEQUENCE - 1);
  const from = Math.max(cursor, start);
  const limit = Math.min(size, data.length);
  const length = wholeCharacters(data, limit);
  if (length === 0 && limit > 0) {
    const needed = sequenceLength(data[0]!);
    if (needed <= data.length) {
      throw new ChardevError(`size ${size} is too small for the ${needed}-byte character at cursor ${from} of '${device}'`);
    }
  }
  return { data: qemuUtf8Text(data.subarray(0, length)), cursor: from + length, lost, start, end };
}

/** The longest UTF-8 sequence. */
const MAX_SEQUENCE = 4;

/** How many bytes a sequence starting with `lead` has; 1 for ASCII and for bytes that cannot start one. */
function sequenceLength(lead: number): number {
  if (lead >= 0xc0 && lead < 0xe0) return 2;
  if (lead >= 0xe0 && lead < 0xf0) return 3;
  if (lead >= 0xf0 && lead < 0xf8) return 4;
  return 1;
}

/**
 * How many of the first `limit` bytes of `data` to return so that no
 * multi-byte sequence is cut: `limit`, or the start of a sequence that
 * begins before it and would end after it (or after the data, when its
 * last bytes are not written yet). Only a lead byte followed by the
 * right continuation bytes counts as a sequence; anything else is
 * invalid UTF-8, shown as U+FFFD, and is never held back.
 */
function wholeCharacters(data: Uint8Array, limit: number): number {
  for (let back = 1; back < MAX_SEQUENCE && back <= limit; back++) {
    const at = limit - back;
    const byte = data[at]!;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back for its lead
    const needed = sequenceLength(byte);
    if (needed <= back) return limit;
    // The sequence runs past the limit: hold it back if what follows it so far continues it.
    for (let i = at + 1; i < Math.min(at + needed, data.length); i++) {
      if ((data[i]! & 0xc0) !== 0x80) return limit;
    }
    return at;
  }
  return limit;
}
