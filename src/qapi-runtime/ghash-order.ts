/**
 * QEMU's input visitor tracks the members of an object it has not visited
 * yet in a GLib string hash table (qobject_input_start_struct), removes each
 * as it is visited, and reports the first one left when iterating the table
 * (qobject_input_check_struct). With several unexpected members, which one
 * QEMU names is decided by GLib's table layout, so we replay it: g_str_hash,
 * GLib 2.74's open addressing with quadratic probing, tombstones, and its
 * in-place resize (glib/ghash.c).
 */

const UNUSED_HASH = 0;
const TOMBSTONE_HASH = 1;
/** HASH_TABLE_MIN_SHIFT in glib/ghash.c: tables start with 8 buckets. */
const MIN_SHIFT = 3;
/** prime_mod[] in glib/ghash.c, indexed by shift. */
const PRIME_MOD = [
  1, 2, 3, 7, 13, 31, 61, 127, 251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071, 262139, 524287, 1048573, 2097143, 4194301, 8388593, 16777213, 33554393,
  67108859, 134217689, 268435399, 536870909, 1073741789, 2147483647,
];

/** g_str_hash(): djb2 over the bytes as *signed* chars. */
function gStrHash(key: string): number {
  let h = 5381;
  for (const byte of Buffer.from(key, 'utf8')) {
    const signed = byte >= 0x80 ? byte - 256 : byte;
    h = (Math.imul(h, 33) + signed) >>> 0;
  }
  // Hash values 0 and 1 mark empty and deleted buckets; GLib maps them to 2.
  return h < 2 ? 2 : h;
}

class GlibStringSet {
  #size = 0;
  #mod = 0;
  #mask = 0;
  #nnodes = 0;
  #noccupied = 0;
  #hashes: number[] = [];
  #keys: (string | undefined)[] = [];

  constructor() {
    this.#setShift(MIN_SHIFT);
    this.#hashes = new Array<number>(this.#size).fill(UNUSED_HASH);
    this.#keys = new Array<string | undefined>(this.#size).fill(undefined);
  }

  insert(key: string): void {
    const hash = gStrHash(key);
    const index = this.#lookup(key, hash);
    const current = this.#hashes[index]!;
    if (current >= 2) return;
    this.#hashes[index] = hash;
    this.#keys[index] = key;
    this.#nnodes++;
    if (current === UNUSED_HASH) {
      this.#noccupied++;
      this.#maybeResize();
    }
  }

  remove(key: string): void {
    const index = this.#lookup(key, gStrHash(key));
    if (this.#hashes[index]! < 2) return;
    this.#hashes[index] = TOMBSTONE_HASH;
    this.#keys[index] = undefined;
    this.#nnodes--;
    this.#maybeResize();
  }

  /** What g_hash_table_iter_next() yields first. */
  first(): string | undefined {
    for (let i = 0; i < this.#size; i++) if (this.#hashes[i]! >= 2) return this.#keys[i];
    return undefined;
  }

  #setShift(shift: number): void {
    this.#size = 1 << shift;
    this.#mod = PRIME_MOD[shift]!;
    this.#mask = this.#size - 1;
  }

  #hashToIndex(hash: number): number {
    // GLib multiplies by a small prime before the modulo to spread poor hashes.
    return Number((BigInt(hash) * 11n) % BigInt(this.#mod));
  }

  #lookup(key: string, hash: number): number {
    let index = this.#hashToIndex(hash);
    let nodeHash = this.#hashes[index]!;
    let firstTombstone: number | undefined;
    let step = 0;
    while (nodeHash !== UNUSED_HASH) {
      if (nodeHash === hash && this.#keys[index] === key) return index;
      if (nodeHash === TOMBSTONE_HASH && firstTombstone === undefined) firstTombstone = index;
      step++;
      index = (index + step) & this.#mask;
      nodeHash = this.#hashes[index]!;
    }
    return firstTombstone ?? index;
  }

  #maybeResize(): void {
    const size = this.#size;
    if ((size > this.#nnodes * 4 && size > 1 << MIN_SHIFT) || size <= this.#noccupied + Math.floor(this.#noccupied / 16)) this.#resize();
  }

  /** g_hash_table_resize() + resize_map(): relocates in place, evicting as it goes. */
  #resize(): void {
    const oldSize = this.#size;
    let shift = 0;
    for (let n = Math.trunc(this.#nnodes * 1.333); n !== 0; n >>= 1) shift++;
    this.#setShift(Math.max(shift, MIN_SHIFT));
    if (this.#size > oldSize) {
      for (let i = oldSize; i < this.#size; i++) {
        this.#hashes[i] = UNUSED_HASH;
        this.#keys[i] = undefined;
      }
    }
    const relocated = new Array<boolean>(Math.max(this.#size, oldSize)).fill(false);
    for (let i = 0; i < oldSize; i++) {
      let nodeHash = this.#hashes[i]!;
      if (nodeHash < 2) {
        this.#hashes[i] = UNUSED_HASH;
        continue;
      }
      if (relocated[i]) continue;
      this.#hashes[i] = UNUSED_HASH;
      let key = this.#keys[i];
      this.#keys[i] = undefined;
      for (;;) {
        let index = this.#hashToIndex(nodeHash);
        let step = 0;
        while (relocated[index]) {
          step++;
          index = (index + step) & this.#mask;
        }
        relocated[index] = true;
        const replacedHash = this.#hashes[index]!;
        const replacedKey = this.#keys[index];
        this.#hashes[index] = nodeHash;
        this.#keys[index] = key;
        if (replacedHash < 2) break;
        nodeHash = replacedHash;
        key = replacedKey;
      }
    }
    this.#hashes.length = this.#size;
    this.#keys.length = this.#size;
    this.#noccupied = this.#nnodes;
  }
}

/**
 * The member QEMU reports as unexpected: the table is filled with every
 * member in QDict order, the visited ones are removed in visit order, and
 * the first one left wins.
 */
export function firstUnvisitedMember(membersInQdictOrder: readonly string[], visitedInOrder: readonly string[]): string | undefined {
  const table = new GlibStringSet();
  for (const key of membersInQdictOrder) table.insert(key);
  for (const key of visitedInOrder) table.remove(key);
  return table.first();
}
