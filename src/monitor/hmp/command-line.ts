import { ChardevdError } from '../../base/error.js';
import { evaluateExpression, HmpExpressionError, isSpace } from './expression.js';

/**
 * The lexical rules of QEMU's human monitor (monitor/hmp.c): how a line
 * splits into a command name and arguments, and how each argument type of
 * a command's `args_type` string is read, with QEMU's messages.
 */

/** The end of the command name that starts at or after `start` (get_command_name), or undefined for a blank rest. */
export function commandNameAt(line: string, start: number): { name: string; end: number } | undefined {
  let p = start;
  while (isSpace(line[p])) p++;
  if (p >= line.length) return undefined;
  const begin = p;
  // A name ends at a space or at '/', where x's and p's /fmt would start.
  while (p < line.length && line[p] !== '/' && !isSpace(line[p])) p++;
  return { name: line.slice(begin, p), end: p };
}

/**
 * One string argument at `start` (get_str): a run of non-space characters,
 * or a double-quoted string with the escapes \n \r \\ \' \". Returns
 * undefined where QEMU fails: nothing left, an unknown escape, a missing
 * closing quote. (QEMU prints the last two reasons on its own standard
 * output, not to the monitor, so the monitor shows only the caller's message.)
 */
export function stringAt(line: string, start: number): { value: string; end: number } | undefined {
  let p = start;
  while (isSpace(line[p])) p++;
  if (p >= line.length) return undefined;
  let value = '';
  if (line[p] === '"') {
    p++;
    while (p < line.length && line[p] !== '"') {
      if (line[p] === '\\') {
        const escaped = line[p + 1];
        p += 2;
        if (escaped === 'n') value += '\n';
        else if (escaped === 'r') value += '\r';
        else if (escaped === '\\' || escaped === "'" || escaped === '"') value += escaped;
        else return undefined;
      } else {
        value += line[p];
        p++;
      }
    }
    if (line[p] !== '"') return undefined;
    return { value, end: p + 1 };
  }
  const begin = p;
  while (p < line.length && !isSpace(line[p])) p++;
  return { value: line.slice(begin, p), end: p };
}

/** QEMU's MAX_ARGS: a line of more words than this is not split at all (parse_cmdline). */
export const MAX_WORDS = 16;

/** The words of a line, each read as a string argument (parse_cmdline), or undefined where QEMU gives up. */
export function splitWords(line: string): string[] | undefined {
  const words: string[] = [];
  let p = 0;
  for (;;) {
    while (isSpace(line[p])) p++;
    if (p >= line.length) return words;
    if (words.length >= MAX_WORDS) return undefined;
    const word = stringAt(line, p);
    if (word === undefined) return undefined;
    words.push(word.value);
    p = word.end;
  }
}

/** Parsed arguments by key: strings, and integers as 64-bit values. */
export type HmpArguments = ReadonlyMap<string, string | bigint>;

/** Arguments QEMU refuses; `message` is the line it prints before "Try \"help ...\"". */
export class HmpArgumentError extends ChardevdError {
  override readonly name = 'HmpArgumentError';
  readonly code = 'HMP_ARGUMENT_INVALID';
}

/**
 * Reads `line` from `start` as the arguments of command `command` described
 * by `argsType` (monitor_parse_arguments). The types chardevd's commands
 * use: `s` one string, `S` the rest of the line, `i` a 32-bit integer
 * expression; a `?` after the type makes the argument optional.
 */
export function parseArguments(command: string, argsType: string, line: string, start: number): HmpArguments {
  const args = new Map<string, string | bigint>();
  let p = start;
  for (const spec of argsType === '' ? [] : argsType.split(',')) {
    const colon = spec.indexOf(':');
    const key = spec.slice(0, colon);
    const type = spec[colon + 1];
    const optional = spec[colon + 2] === '?';
    while (isSpace(line[p])) p++;
    if (optional && p >= line.length) continue;
    switch (type) {
      case 's': {
        const word = stringAt(line, p);
        if (word === undefined) throw new HmpArgumentError(`${command}: string expected`);
        args.set(key, word.value);
        p = word.end;
        break;
      }
      case 'S':
        if (p >= line.length) throw new HmpArgumentError(`${command}: string expected`);
        args.set(key, line.slice(p));
        p = line.length;
        break;
      case 'i': {
        let result;
        try {
          result = evaluateExpression(line, p);
        } catch (error: unknown) {
          if (error instanceof HmpExpressionError) throw new HmpArgumentError(error.message);
          throw error;
        }
        // QEMU checks (val >> 32) & 0xffffffff: anything outside 0..2^32-1, negatives included.
        if (result.value >> 32n !== 0n) throw new HmpArgumentError(`'${command}' has failed: integer is for 32-bit values`);
        args.set(key, result.value);
        p = result.end;
        break;
      }
      default:
        throw new Error(`${command}: unknown type '${type}'`);
    }
  }
  while (isSpace(line[p])) p++;
  if (p < line.length) throw new HmpArgumentError(`${command}: extraneous characters at the end of line`);
  return args;
}
