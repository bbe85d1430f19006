import { parseOnOff, QemuOptsError } from '../options/qemu-opts.js';
import { parseQemuSize } from '../options/qemu-size.js';
import { CHARDEV_BACKENDS } from './backends.js';
import type { ChardevOptionError } from './option-error.js';
import type { ChardevOptionType, ParsedOpt } from './chardev-opts.js';

/**
 * The options of every backend: the backend's name, `mux=on`, and the log
 * file (qemu_chr_parse_common). `debug` is in QEMU's list, and no backend
 * here reads it. logsize and logbackups are chardevd's extensions (schema
 * feature chardevd-extension), which QEMU 7.2 refuses as "Invalid parameter".
 */
const COMMON_OPTIONS: Readonly<Record<string, ChardevOptionType>> = {
  backend: 'str',
  mux: 'bool',
  debug: 'num',
  logfile: 'str',
  logappend: 'bool',
  logsize: 'size',
  logbackups: 'num',
};

/**
 * Every `-chardev` option name and its type: QEMU 7.2's `qemu_chardev_opts`
 * (chardev/char.c) and chardevd's extensions. QEMU keeps one list for all
 * backends, so every backend accepts every name and ignores what it does
 * not read; here the list is the common options and what each backend
 * declares.
 */
export const OPTION_TYPES: ReadonlyMap<string, ChardevOptionType> = ((): ReadonlyMap<string, ChardevOptionType> => {
  const types = new Map(Object.entries(COMMON_OPTIONS));
  for (const backend of CHARDEV_BACKENDS) {
    for (const [name, type] of Object.entries(backend.options ?? {})) {
      const known = types.get(name);
      if (known !== undefined && known !== type) throw new TypeError(`chardev option '${name}' is declared as ${known} and as ${type}`);
      types.set(name, type);
    }
  }
  return types;
})();

/** Options whose absence reads as a value (QemuOptDesc def_value_str). */
export const OPTION_DEFAULTS: ReadonlyMap<string, string> = new Map(CHARDEV_BACKENDS.flatMap((backend) => Object.entries(backend.optionDefaults ?? {})));

/** An option's type: a listed one, or one a backend takes by pattern. */
function optionType(name: string): ChardevOptionType | undefined {
  const listed = OPTION_TYPES.get(name);
  if (listed !== undefined) return listed;
  for (const backend of CHARDEV_BACKENDS) {
    const type = backend.optionType?.(name);
    if (type !== undefined) return type;
  }
  return undefined;
}

/** opt_validate: the option must be in the list, and its value must parse as the listed type. */
export function validateOption(name: string, value: string, warnings: string[], fail: (message: string) => ChardevOptionError): ParsedOpt {
  const type = optionType(name);
  if (type === undefined) throw fail(`Invalid parameter '${name}'`);
  try {
    switch (type) {
      case 'str':
        return { name, text: value };
      case 'bool':
        return { name, text: value, bool: parseOnOff(name, value) };
      case 'num':
        return { name, text: value, uint: parseOptionNumber(name, value) };
      case 'size':
        return { name, text: value, uint: parseQemuSize(name, value, (message) => warnings.push(`warning: ${message}`)) };
    }
  } catch (error: unknown) {
    if (error instanceof QemuOptsError) throw fail(error.message);
    throw error;
  }
}

/**
 * A number option (util/qemu-option.c parse_option_number): strtoull in
 * base 0, so hex `0x10` and octal `010` too, leading white space and a
 * sign allowed, a negative number wrapping modulo 2^64 as strtoull does,
 * and nothing may follow. qemu-opts.ts has no number parser, hence this one.
 */
function parseOptionNumber(name: string, value: string): bigint {
  const match = /^[ \t\n\v\f\r]*([+-]?)(?:0[xX]([0-9a-fA-F]+)|0([0-7]*)|([1-9][0-9]*))$/.exec(value);
  if (match === null) throw new QemuOptsError(`Parameter '${name}' expects a number`);
  const [, sign, hex, octal, decimal] = match;
  const magnitude = hex !== undefined ? BigInt(`0x${hex}`) : octal !== undefined ? BigInt(`0o${octal || '0'}`) : BigInt(decimal ?? '0');
  if (magnitude > 2n ** 64n - 1n) throw new QemuOptsError(`Value '${value}' is too large for parameter '${name}'`);
  return sign === '-' ? BigInt.asUintN(64, -magnitude) : magnitude;
}
