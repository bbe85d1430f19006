import { ChardevError } from './chardev-error.js';

/** Base64 characters decoded at a time into the shared scratch buffer: 48 KiB of bytes. */
const PIECE_CHARS = 64 << 10;
/** Where ringbuf-write's data is decoded to on its way into the ring: one buffer, not one per write. */
const scratch = Buffer.allocUnsafeSlow((PIECE_CHARS / 4) * 3);

/**
 * Hands `sink` the bytes of ringbuf-write's `data` in utf8 format, valid
 * only during the call: in the shared scratch buffer when they fit (no
 * buffer per write), else in one of their own. QEMU writes the string's
 * bytes as its JSON parser stored them, where `\u0000` became the two
 * bytes C0 80; chardevd writes the NUL byte itself, so that what comes
 * back out of ringbuf-read is what went in (docs/compatibility.md).
 */
export function encodeUtf8(text: string, sink: (bytes: Uint8Array) => void): void {
  // A UTF-16 unit takes at most 3 bytes (a surrogate pair, 2 units, takes 4), so this never truncates.
  if (text.length * 3 > scratch.length) return sink(Buffer.from(text, 'utf8'));
  sink(scratch.subarray(0, scratch.write(text, 0, 'utf8')));
}

/**
 * The text of ringbuf-read's utf8 reply. QEMU hands the bytes to its JSON
 * writer as a C string, which decodes them with mod_utf8_codepoint
 * (util/unicode.c) and writes U+FFFD for each sequence it rejects; this
 * decodes the same way, sequence by sequence, so the replies are equal.
 * One difference: QEMU's reply ends at the first NUL byte and the rest of
 * what was read is lost; here a NUL byte is U+0000 and nothing is lost.
 */
export function qemuUtf8Text(bytes: Uint8Array): string {
  let text = '';
  let p = 0;
  while (p < bytes.length) {
    const [cp, next] = decodeOne(bytes, p);
    text += cp < 0 ? '\uFFFD' : String.fromCodePoint(cp);
    p = next;
  }
  return text;
}

/** The smallest code point each sequence length may encode (shorter forms are overlong). */
const MIN_CODE_POINT = [0x80, 0x800, 0x10000, 0x200000, 0x4000000];

/** One step of mod_utf8_codepoint: the code point (or -1) and where the next sequence starts. */
function decodeOne(bytes: Uint8Array, start: number): [number, number] {
  let p = start;
  let byte = bytes[p++] as number;
  if (byte < 0x80) return [byte, p];
  // 0xFE and 0xFF never occur in UTF-8; a continuation byte cannot start a sequence.
  if (byte >= 0xfe || (byte & 0x40) === 0) return [-1, p];
  let length = 0;
  let mask = 0x80;
  for (; byte & mask; mask >>= 1) length++;
  let cp = byte & (mask - 1);
  // QEMU reads at most 6 bytes and treats the string's end (its NUL) as a missing continuation.
  for (let i = 1; i < length; i++) {
    byte = p < bytes.length && i < 6 ? (bytes[p] as number) : 0;
    if ((byte & 0xc0) !== 0x80) return [-1, p];
    p++;
    cp = (cp << 6) | (byte & 0x3f);
  }
  if (!isValidCodePoint(cp)) return [-1, p];
  // Overlong forms are refused, except C0 80: QEMU's own encoding of NUL.
  if (cp < (MIN_CODE_POINT[length - 2] as number) && !(cp === 0 && length === 2)) return [-1, p];
  return [cp, p];
}

function isValidCodePoint(cp: number): boolean {
  if (cp > 0x10ffff) return false;
  if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe) return false; // noncharacters
  return !(cp >= 0xd800 && cp <= 0xdfff); // surrogates
}

/** Base64 characters and the newline, the only ones qbase64_decode (util/base64.c) lets through. */
const BASE64_ALLOWED = /^[A-Za-z0-9+/=\n]*$/;

/** The 6-bit value of each base64 character; '=' counts as 0, as in GLib. */
const BASE64_RANK: ReadonlyMap<string, number> = new Map(
  [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].map((c, i) => [c, i] as [string, number]).concat([['=', 0]]),
);

/** Canonical base64: whole groups of four, '=' only as the last one or two characters, newlines anywhere. */
const CANONICAL_BASE64 = /^[A-Za-z0-9+/\n]*(?:[A-Za-z0-9+/]={1,2}\n*)?$/;

/**
 * Decodes ringbuf-write's base64 `data` as QEMU does: qbase64_decode
 * refuses any other character, then GLib's g_base64_decode decodes
 * leniently, four characters at a time, dropping an incomplete group and
 * one output byte per '=' among a group's last two characters.
 *
 * Canonical input (what every encoder writes) decodes the same with
 * Node's decoder, which makes no garbage on the JavaScript heap; only
 * unusual input (an incomplete group, '=' inside) takes the slow path.
 */
export function qemuBase64Bytes(text: string): Buffer {
  const pieces: Buffer[] = [];
  decodeQemuBase64(text, (piece) => pieces.push(Buffer.from(piece)));
  return Buffer.concat(pieces);
}

/**
 * Decodes like qemuBase64Bytes and hands the bytes to `sink` in order, in
 * pieces that are only valid during the call. Canonical input without
 * newlines (what encoders write) is decoded into one shared buffer, so a
 * large ringbuf-write leaves no decoded copy behind for the garbage
 * collector and the allocator to fragment memory with.
 */
export function decodeQemuBase64(text: string, sink: (piece: Uint8Array) => void): void {
  if (!BASE64_ALLOWED.test(text)) throw new ChardevError('Base64 data contains invalid characters');
  if (CANONICAL_BASE64.test(text)) {
    const newlines = countNewlines(text);
    if ((text.length - newlines) % 4 === 0) {
      if (newlines > 0) return sink(Buffer.from(text, 'base64'));
      for (let at = 0; at < text.length; at += PIECE_CHARS) {
        const length = scratch.write(text.slice(at, at + PIECE_CHARS), 0, 'base64');
        sink(scratch.subarray(0, length));
      }
      return;
    }
  }
  sink(lenientBase64(text));
}

/** GLib's g_base64_decode for what is not canonical. */
function lenientBase64(text: string): Buffer {
  const out = Buffer.allocUnsafe(Math.floor((text.length * 3) / 4));
  let length = 0;
  let value = 0;
  let count = 0;
  let last0 = '';
  let last1 = '';
  for (const c of text) {
    const rank = BASE64_RANK.get(c);
    if (rank === undefined) continue; // newline
    last1 = last0;
    last0 = c;
    value = ((value << 6) | rank) & 0xffffff;
    if (++count === 4) {
      out[length++] = value >> 16;
      if (last1 !== '=') out[length++] = (value >> 8) & 0xff;
      if (last0 !== '=') out[length++] = value & 0xff;
      count = 0;
    }
  }
  return out.subarray(0, length);
}

function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
