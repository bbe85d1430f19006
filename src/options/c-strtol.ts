/**
 * C's `strtol(text, &end, 0)` on a 64-bit `long`, for options QEMU reads
 * that way (`-echr`): leading white space, an optional sign, then `0x`
 * for hex, a leading `0` for octal or decimal; the longest valid prefix
 * counts and the rest is ignored; out-of-range values clamp to
 * LONG_MIN/LONG_MAX. `digits` is false when no number was found, where C
 * leaves `end` at the start and returns 0.
 */
export function cStrtol(text: string): { value: bigint; digits: boolean } {
  const match = /^[ \t\n\v\f\r]*([+-]?)(0[xX](?=[0-9a-fA-F])[0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(text);
  if (match === null) return { value: 0n, digits: false };
  const [, sign, digits] = match as unknown as [string, string, string];
  const magnitude = /^0[xX]/.test(digits) ? BigInt(digits) : digits.length > 1 && digits.startsWith('0') ? BigInt(`0o${digits.slice(1)}`) : BigInt(digits);
  const value = sign === '-' ? -magnitude : magnitude;
  const LONG_MAX = (1n << 63n) - 1n;
  const LONG_MIN = -(1n << 63n);
  return { value: value > LONG_MAX ? LONG_MAX : value < LONG_MIN ? LONG_MIN : value, digits: true };
}
