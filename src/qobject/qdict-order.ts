/**
 * QEMU serialises a QDict by walking its hash buckets in order, newest entry
 * first within a bucket (qobject/qdict.c: 512 buckets, tdb_hash, QLIST_INSERT_HEAD).
 * Every object QEMU prints therefore has a member order fixed by the member
 * names, e.g. `{"return": ..., "id": ...}` but `{"id": ..., "error": ...}`, and
 * the first "unexpected" parameter it reports is the first in that order.
 * Reproducing the order makes our output byte-identical to QEMU's.
 */

/** QDICT_BUCKET_MAX in include/qapi/qmp/qdict.h. */
const QDICT_BUCKET_COUNT = 512;

const bucketCache = new Map<string, number>();

/** QEMU's tdb_hash() of the member name's UTF-8 bytes, modulo the bucket count. */
export function qdictBucket(key: string): number {
  let bucket = bucketCache.get(key);
  if (bucket !== undefined) return bucket;
  const bytes = Buffer.from(key, 'utf8');
  let value = Math.imul(0x238f13af, bytes.length) >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    value = (value + (bytes[i]! << ((i * 5) % 24))) >>> 0;
  }
  bucket = ((Math.imul(1103515243, value) + 12345) >>> 0) % QDICT_BUCKET_COUNT;
  if (bucketCache.size < 65536) bucketCache.set(key, bucket);
  return bucket;
}

/**
 * The keys of an object in the order QEMU would iterate a QDict built by
 * inserting them in the given order.
 */
export function qdictOrder(keys: readonly string[]): string[] {
  if (keys.length < 2) return keys.slice();
  const entries = keys.map((key, index) => ({ key, index, bucket: qdictBucket(key) }));
  // Same bucket: the later insertion comes first (list head insertion).
  entries.sort((a, b) => a.bucket - b.bucket || b.index - a.index);
  return entries.map((e) => e.key);
}
