import { QemuOptsError } from './qemu-opts.js';

/**
 * QEMU's size syntax for options such as `size=640k` (util/cutils.c
 * do_strtosz, util/qemu-option.c parse_option_size): a decimal number with
 * an optional fraction, or a hex number, then an optional binary suffix
 * b/k/M/G/T/P/E (either case). A fraction needs a suffix other than b; `0.5k`
 * is 512 and halves round up. Results must fit in 64 bits.
 */

const SUFFIX_SHIFT: { readonly [suffix: string]: bigint } = { b: 0n, k: 10n, m: 20n, g: 30n, t: 40n, p: 50n, e: 60n };
const UINT64_LIMIT = 2n ** 64n;

/** Where QEMU would warn (it still accepts the value): a suffix on a hex number. */
export type SizeWarning = (message: string) => void;

/** Parses `value` as QEMU parses a size option named `name`. */
export function parseQemuSize(name: string, value: string, warn: SizeWarning = () => {}): bigint {
  const invalid = (): QemuOptsError =>
    new QemuOptsError(
      `Parameter '${name}' expects a non-negative number below 2^64\nOptional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\nand exabytes, respectively.`,
    );
  // strtoull skips leading white space and takes a sign; a '-' is refused afterwards.
  const match = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|\d+)(\.\d*)?(.*)$/s.exec(value);
  if (!match || match[1] === '-') throw invalid();
  const [, , digits = '', fractionText, rest = ''] = match;
  const hex = /^0[xX]/.test(digits);
  if (hex && fractionText !== undefined) throw invalid();
  const integer = BigInt(digits);
  if (integer >= UINT64_LIMIT) throw new QemuOptsError(`Value '${value}' is out of range for parameter '${name}'`);
  // A fraction with an exponent ("1.5e3") makes the whole value invalid.
  if (fractionText !== undefined && /^[eE]/.test(rest)) throw invalid();
  const fraction = fractionText !== undefined && fractionText.length > 1 ? Number(fractionText) : 0;

  let shift = 0n;
  let tail = rest;
  const suffix = SUFFIX_SHIFT[rest.charAt(0).toLowerCase()];
  if (suffix !== undefined) {
    if (hex) warn(`Using a multiplier suffix on hex numbers is deprecated: ${value}`);
    shift = suffix;
    tail = rest.slice(1);
  }
  if (tail !== '') throw invalid();
  if (shift === 0n) {
    if (fraction !== 0) throw invalid();
    return integer;
  }
  // 64.64 fixed point, as QEMU computes it, rounding a half upward.
  const fixedFraction = BigInt(Math.floor(fraction * 2 ** 64));
  const scaledFraction = fixedFraction << shift;
  const result = (integer << shift) + (scaledFraction >> 64n) + ((scaledFraction >> 63n) & 1n);
  if (result >= UINT64_LIMIT) throw new QemuOptsError(`Value '${value}' is out of range for parameter '${name}'`);
  return result;
}
