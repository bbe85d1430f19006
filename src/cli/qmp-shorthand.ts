import { ChardevdError } from '../base/error.js';

/**
 * qmp-shell's command shorthand (QEMU's python/qemu/qmp/qmp_shell.py):
 * `chardev-add id=c0 backend.type=ringbuf backend.data.size=1024`, or a
 * whole request as JSON. Values become integers, booleans (`true`/`false`,
 * any case), JSON objects and arrays, or else strings; dotted keys build
 * nested objects. The error texts are qmp-shell's.
 */

/** A line or an argv the shorthand cannot express. */
export class ShorthandError extends ChardevdError {
  override readonly name = 'ShorthandError';
  readonly code = 'CLI_SHORTHAND_INVALID';
}

export interface QmpRequest {
  readonly execute: string;
  readonly arguments?: Record<string, unknown>;
}

/** qmp-shell's _parse_value: int, bool, JSON object/array, else the text itself. */
export function parseShorthandValue(text: string): unknown {
  // Python's int(): optional sign, decimal digits, underscores between digits.
  if (/^\s*[+-]?\d+(_\d+)*\s*$/.test(text)) {
    const digits = text.trim().replace(/_/g, '');
    const big = BigInt(digits);
    return Number.isSafeInteger(Number(big)) ? Number(big) : big;
  }
  if (text.toLowerCase() === 'true') return true;
  if (text.toLowerCase() === 'false') return false;
  if (text.startsWith('{') || text.startsWith('[')) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // qmp-shell then tries a Python literal; single-quoted JSON is the common case.
      try {
        return JSON.parse(fuzzyJson(text)) as unknown;
      } catch {
        return text;
      }
    }
  }
  return text;
}

/** Python-literal spellings qmp-shell's FuzzyJSON accepts: 'strings', True/False/None. */
function fuzzyJson(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'" || c === '"') {
      let j = i + 1;
      let body = '';
      while (j < text.length && text[j] !== c) {
        if (text[j] === '\\' && j + 1 < text.length) {
          body += text[j]! + text[j + 1]!;
          j += 2;
        } else {
          body += text[j] === '"' ? '\\"' : text[j]!;
          j++;
        }
      }
      out += `"${body}"`;
      i = j;
    } else if (/[A-Za-z]/.test(c)) {
      const word = /^[A-Za-z]+/.exec(text.slice(i))![0];
      out += { True: 'true', False: 'false', None: 'null' }[word] ?? word;
      i += word.length - 1;
    } else {
      out += c;
    }
  }
  return out;
}

/** Builds the arguments object from `key=value` tokens (qmp-shell's __cli_expr). */
export function shorthandArguments(tokens: readonly string[]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const token of tokens) {
    const eq = token.indexOf('=');
    if (eq < 0) throw new ShorthandError(`Expected a key=value pair, got '${token}'`);
    const key = token.slice(0, eq);
    const value = parseShorthandValue(token.slice(eq + 1));
    const path = key.split('.');
    let parent = root;
    const walked: string[] = [];
    for (const part of path.slice(0, -1)) {
      walked.push(part);
      const existing = Object.hasOwn(parent, part) ? parent[part] : {};
      if (typeof existing !== 'object' || existing === null || Array.isArray(existing)) {
        throw new ShorthandError(`Cannot use "${walked.join('.')}" as both leaf and non-leaf key`);
      }
      setOwn(parent, part, existing);
      parent = existing as Record<string, unknown>;
    }
    const leaf = path[path.length - 1]!;
    if (Object.hasOwn(parent, leaf)) {
      const existing = parent[leaf];
      if (typeof existing === 'object' && existing !== null && !Array.isArray(existing)) {
        throw new ShorthandError(`Cannot use "${key}" as both leaf and non-leaf key`);
      }
      throw new ShorthandError(`Cannot set "${key}" multiple times`);
    }
    setOwn(parent, leaf, value);
  }
  return root;
}

/** A member named `__proto__` stays a member. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * One request from words: `COMMAND key=value ...`, or a single word that is
 * a JSON request (`{"execute": "query-status"}`), the raw form.
 */
export function parseRequest(words: readonly string[]): QmpRequest {
  const first = words[0];
  if (first === undefined || first === '') throw new ShorthandError('no command given');
  if (first.trimStart().startsWith('{')) {
    let request: unknown;
    try {
      request = JSON.parse(words.join(' '));
    } catch (error: unknown) {
      throw new ShorthandError(`not a JSON request: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (typeof request !== 'object' || request === null || Array.isArray(request)) throw new ShorthandError('a raw request must be a JSON object');
    const r = request as Record<string, unknown>;
    if (typeof r['execute'] !== 'string') throw new ShorthandError("a raw request needs a string member 'execute'");
    const args = r['arguments'];
    if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))) throw new ShorthandError("'arguments' must be an object");
    return args === undefined ? { execute: r['execute'] } : { execute: r['execute'], arguments: args as Record<string, unknown> };
  }
  const args = shorthandArguments(words.slice(1));
  return Object.keys(args).length === 0 ? { execute: first } : { execute: first, arguments: args };
}

/** Splits a shell line into words the way qmp-shell's shlex.split does for the common cases: quotes and backslashes. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length && '"\\'.includes(line[i + 1]!)) word += line[++i]!;
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i]!;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== undefined) throw new ShorthandError('No closing quotation');
  if (inWord) words.push(word);
  return words;
}

/** JSON for people: two-space indent, 64-bit integers exact. */
export function formatJson(value: unknown, indent = 2): string {
  const marker = '\u0000bigint:';
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${marker}${v}` : v), indent) ?? 'null';
  return text.replace(/"\\u0000bigint:(-?\d+)"/g, '$1');
}
