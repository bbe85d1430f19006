import assert from 'node:assert/strict';

const hex = (data: Buffer): string => data.toString('hex').replace(/(..)/g, '$1 ').trim();

/**
 * Byte-exact comparison that names the lengths and the first difference
 * instead of dumping megabytes into the log. Text is compared as Latin-1,
 * one byte per character.
 */
export function sameBytes(actual: Uint8Array | string, expected: Uint8Array | string, what: string): void {
  const a = typeof actual === 'string' ? Buffer.from(actual, 'latin1') : Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
  const e = typeof expected === 'string' ? Buffer.from(expected, 'latin1') : Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  if (a.equals(e)) return;
  const n = Math.min(a.length, e.length);
  let i = 0;
  while (i < n && a[i] === e[i]) i++;
  assert.fail(
    `${what}: got ${a.length} bytes, expected ${e.length}; first difference at offset ${i}: ` +
      `got [${hex(a.subarray(i, i + 16))}], expected [${hex(e.subarray(i, i + 16))}]`,
  );
}
