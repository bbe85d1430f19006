import { internalLeak } from '../support/internal-leak.js';

/**
 * What a QMP server may send: one JSON object a line, of QMP's shape. QEMU's
 * writer prints non-finite doubles as `inf`, `-inf` and `nan` (an `id` of
 * 1e400 comes back so), which JSON.parse does not take: outside strings they
 * are read as null here.
 */

const ERROR_CLASSES = new Set(['GenericError', 'CommandNotFound', 'DeviceNotFound', 'DeviceNotActive', 'KVMMissingCap']);

function parseQemuJson(line: string): unknown {
  let text = '';
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (inString) {
      text += c;
      if (c === '\\') text += line[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    const word = /^-?(?:inf|nan)/.exec(line.slice(i, i + 4));
    if (word !== null) {
      text += 'null';
      i += word[0].length - 1;
      continue;
    }
    if (c === '"') inString = true;
    text += c;
  }
  return JSON.parse(text);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function onlyKeys(value: Record<string, unknown>, allowed: readonly string[]): boolean {
  return Object.keys(value).every((key) => allowed.includes(key));
}

function short(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}

/**
 * Throws unless `line` (without its CRLF) is a QMP message: a success, an
 * error with a class and a desc that shows no stack trace or other
 * internals (see internal-leak.ts), or an event. `input` is what the
 * client sent, which a desc may quote. Returns the message.
 */
export function checkReply(line: string, input: string): Record<string, unknown> {
  let message: unknown;
  try {
    message = parseQemuJson(line);
  } catch {
    throw new Error(`a reply is no JSON: ${short(line)}`);
  }
  if (!isObject(message)) throw new Error(`a reply is no JSON object: ${short(line)}`);
  if ('return' in message) {
    if (!onlyKeys(message, ['return', 'id'])) throw new Error(`a success has other members: ${short(line)}`);
    // human-monitor-command returns the monitor's text, which must not show internals either.
    if (typeof message['return'] === 'string') checkText(message['return'], input, line);
  } else if ('error' in message) {
    const error = message['error'];
    if (!onlyKeys(message, ['error', 'id']) || !isObject(error) || !onlyKeys(error, ['class', 'desc'])) throw new Error(`an error of the wrong shape: ${short(line)}`);
    if (typeof error['class'] !== 'string' || !ERROR_CLASSES.has(error['class'])) throw new Error(`an error of an unknown class: ${short(line)}`);
    if (typeof error['desc'] !== 'string') throw new Error(`an error without a desc: ${short(line)}`);
    checkText(error['desc'], input, line);
  } else if ('event' in message) {
    const timestamp = message['timestamp'];
    if (typeof message['event'] !== 'string' || !onlyKeys(message, ['event', 'data', 'timestamp']) || !isObject(timestamp)) {
      throw new Error(`an event of the wrong shape: ${short(line)}`);
    }
  } else if (!('QMP' in message)) {
    throw new Error(`a reply that is no success, error, event or greeting: ${short(line)}`);
  }
  return message;
}

function checkText(text: string, input: string, line: string): void {
  const leak = internalLeak(text, input);
  if (leak !== undefined) throw new Error(`a reply shows internals (${JSON.stringify(leak)}): ${short(line)}`);
}
