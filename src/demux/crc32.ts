/**
 * CRC-32 as zlib's crc32() and Ethernet compute it (reflected polynomial
 * 0xEDB88320, initial value and final XOR 0xFFFFFFFF), so that a C peer
 * can use zlib. Slicing by eight: eight lookups per eight bytes, in one
 * table of 8 x 256 entries. A host with a native CRC-32 (Node's
 * zlib.crc32) passes it to the session instead (DemuxSessionOptions.crc32).
 */

/** A CRC-32 of a whole buffer. */
export type Crc32 = (bytes: Uint8Array) => number;

const TABLE: Int32Array = (() => {
  const table = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = table[n]!;
    for (let t = 1; t < 8; t++) {
      c = table[c & 0xff]! ^ (c >>> 8);
      table[t * 256 + n] = c;
    }
  }
  return table;
})();

export function crc32(bytes: Uint8Array): number {
  const t = TABLE;
  let c = -1;
  let i = 0;
  const end = bytes.length;
  for (const end8 = end - 7; i < end8; i += 8) {
    const lo = c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    c =
      t[1792 + (lo & 0xff)]! ^
      t[1536 + ((lo >>> 8) & 0xff)]! ^
      t[1280 + ((lo >>> 16) & 0xff)]! ^
      t[1024 + (lo >>> 24)]! ^
      t[768 + bytes[i + 4]!]! ^
      t[512 + bytes[i + 5]!]! ^
      t[256 + bytes[i + 6]!]! ^
      t[bytes[i + 7]!]!;
  }
  for (; i < end; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
