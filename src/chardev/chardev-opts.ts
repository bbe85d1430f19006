import type { ChardevCommon, ChardevHostdev } from '../generated/qapi-types.gen.js';
import { parseOnOff } from '../options/qemu-opts.js';
import { ChardevOptionError } from './option-error.js';

/** The types of QEMU's option lists (QemuOptType): what a `-chardev` option's value must parse as. */
export type ChardevOptionType = 'str' | 'bool' | 'num' | 'size';

/** One option as given, its value checked against its type. */
export interface ParsedOpt {
  readonly name: string;
  readonly text: string;
  readonly bool?: boolean;
  readonly uint?: bigint;
}

const UINT32_MAX = 0xffffffffn;

/**
 * The options of one `-chardev` (QEMU's QemuOpts), as a backend's `parse`
 * reads them: a repeated name's last value wins (qemu_opt_find searches
 * backwards), and an absent option reads as its listed default.
 */
export class ChardevOpts {
  readonly #opts: ParsedOpt[] = [];

  constructor(
    /** Options whose absence reads as a value (QemuOptDesc def_value_str). */
    private readonly defaults: ReadonlyMap<string, string>,
    /** The warnings so far, which an error carries (ChardevOptionError.warnings). */
    private readonly warnings: readonly string[],
  ) {}

  add(opt: ParsedOpt): void {
    this.#opts.push(opt);
  }

  /** qemu_opt_find: given explicitly (a default does not count). */
  has(name: string): boolean {
    return this.#find(name) !== undefined;
  }

  /** qemu_opt_get: the text, or the list's default. */
  get(name: string): string | undefined {
    return this.#find(name)?.text ?? this.defaults.get(name);
  }

  getBool(name: string, fallback: boolean): boolean {
    const opt = this.#find(name);
    if (opt !== undefined) return opt.bool!;
    const text = this.defaults.get(name);
    return text === undefined ? fallback : parseOnOff(name, text);
  }

  /** qemu_opt_get_number / qemu_opt_get_size: a uint64. */
  getUint(name: string, fallback: bigint): bigint {
    return this.#find(name)?.uint ?? fallback;
  }

  /** The error for QEMU's refusal `message`, with the warnings printed before it. */
  fail(message: string): ChardevOptionError {
    return new ChardevOptionError(message, [...this.warnings]);
  }

  #find(name: string): ParsedOpt | undefined {
    for (let i = this.#opts.length - 1; i >= 0; i--) {
      const opt = this.#opts[i]!;
      if (opt.name === name) return opt;
    }
    return undefined;
  }
}

/** A uint64 stored into a C int64_t, as QEMU's parse functions do. */
export function asInt64(value: bigint): number {
  return Number(BigInt.asIntN(64, value));
}

/** A uint64 stored into a C int (ringbuf size, vc geometry): the low 32 bits, signed. */
export function asCInt(value: bigint): number {
  return Number(BigInt.asIntN(32, value));
}

/** A chardevd uint32 member; out of range is what the QMP input visitor says for the same member. */
export function asUint32(name: string, value: bigint, opts: ChardevOpts): number {
  if (value > UINT32_MAX) throw opts.fail(`Parameter '${name}' expects uint32`);
  return Number(value);
}

/**
 * qemu_chr_parse_common: logfile when given, logappend always (false by
 * default); plus chardevd's log rotation members when given.
 */
export function parseCommon(opts: ChardevOpts): ChardevCommon {
  const common: ChardevCommon = {};
  const logfile = opts.get('logfile');
  if (logfile !== undefined) common.logfile = logfile;
  common.logappend = opts.getBool('logappend', false);
  // A number, as the QMP input visitor gives a 'size' member (exact up to 2^53).
  if (opts.has('logsize')) common.logsize = Number(opts.getUint('logsize', 0n));
  if (opts.has('logbackups')) common.logbackups = asUint32('logbackups', opts.getUint('logbackups', 0n), opts);
  return common;
}

/**
 * The ChardevHostdev of pipe, serial and parallel (char-pipe.c,
 * char-serial.c, char-parallel.c): `path` is the device; `label` names the
 * backend in the error for a missing one.
 */
export function parseHostdev(label: string, opts: ChardevOpts): ChardevHostdev {
  const device = opts.get('path');
  if (device === undefined) throw opts.fail(`chardev: ${label}: no device path given`);
  return { ...parseCommon(opts), device };
}
