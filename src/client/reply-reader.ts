import { StringDecoder } from 'node:string_decoder';
import { JsonDouble } from '../qobject/json-double.js';
import { JsonStreamParser } from '../qobject/json-stream-parser.js';
import type { JsonValue } from '../qobject/json-value.js';

export interface ReplyHandler {
  /** One message: plain objects and numbers (bigint beyond 2^53), as the caller of a client wants. */
  onMessage(message: unknown): void;
  onError(desc: string): void;
}

/**
 * Integers of 16 digits or more may exceed 2^53, where JSON.parse would
 * round them; a line holding such a digit run takes the exact parser.
 */
const LONG_INTEGER = /\d{16}/;
/** Text whose first non-blank character is not `{`. */
const NOT_AN_OBJECT = /^\s*[^\s{]/;

/**
 * The client's read side. QEMU (and chardevd) write one compact JSON
 * object per line, CRLF-terminated (monitor/qmp.c): such lines go through
 * JSON.parse, which is many times faster than a token parser and keeps the
 * client from being the bottleneck of a pipelined connection. Anything
 * else switches the connection to the exact streaming parser for good:
 * pretty-printed output (`-qmp-pretty`, messages over several lines), a
 * line JSON.parse refuses, and single lines with long integers (those
 * take the exact parser one by one, so 64-bit values survive).
 */
export class ClientReplyReader {
  readonly #decoder = new StringDecoder('utf8');
  readonly #stream: JsonStreamParser;
  readonly #maxMessageBytes: number;
  readonly #headBytes: number;
  #head = Buffer.alloc(0);
  #partial = '';
  #streaming = false;

  /** `headBytes`: how many of the first bytes to keep for `head`. */
  constructor(
    private readonly handler: ReplyHandler,
    maxMessageBytes: number,
    headBytes = 0,
  ) {
    this.#maxMessageBytes = maxMessageBytes;
    this.#headBytes = headBytes;
    this.#stream = new JsonStreamParser(
      {
        onValue: (value) => handler.onMessage(plain(value)),
        onError: (desc) => handler.onError(desc),
      },
      { maxMessageBytes },
    );
  }

  /**
   * The first bytes the server sent, whatever they were: when they are no
   * greeting, the error says what they were instead.
   */
  get head(): Buffer {
    return this.#head;
  }

  feed(chunk: Buffer): void {
    if (this.#head.length < this.#headBytes) this.#head = Buffer.concat([this.#head, chunk.subarray(0, this.#headBytes - this.#head.length)]);
    if (this.#streaming) {
      this.#stream.feed(chunk);
      return;
    }
    const text = this.#partial + this.#decoder.write(chunk);
    let start = 0;
    for (let end = text.indexOf('\n', start); end >= 0; end = text.indexOf('\n', start)) {
      const line = text.slice(start, end);
      start = end + 1;
      if (!this.#line(line)) {
        // From here on, everything (this line included) goes to the exact parser.
        this.#toStream(text.slice(start - line.length - 1));
        return;
      }
    }
    this.#partial = text.slice(start);
    // A line that does not open an object can be no compact message, whatever follows: the exact parser
    // takes it now rather than at its newline, which a server that is not QMP (a login prompt) may never send.
    if (NOT_AN_OBJECT.test(this.#partial)) {
      this.#toStream(this.#partial);
      return;
    }
    if (this.#partial.length > this.#maxMessageBytes) {
      this.#partial = '';
      this.handler.onError('JSON token size limit exceeded');
    }
  }

  #toStream(text: string): void {
    this.#streaming = true;
    this.#partial = '';
    this.#stream.feed(Buffer.from(text, 'utf8'));
  }

  /** Handles one line; false when it must go to the streaming parser. */
  #line(line: string): boolean {
    const trimmed = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (trimmed.trim() === '') return true;
    if (LONG_INTEGER.test(trimmed)) {
      this.#stream.feed(Buffer.from(`${trimmed}\n`, 'utf8'));
      return true;
    }
    let message: unknown;
    try {
      message = JSON.parse(trimmed);
    } catch {
      return false;
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) return false;
    this.handler.onMessage(message);
    return true;
  }
}

/**
 * What the exact parser builds, made plain: it keeps integral doubles as
 * JsonDouble (so a server can tell `1.0` from `1`) and builds
 * null-prototype objects; a client's caller wants plain numbers and
 * ordinary objects. A `__proto__` member stays an own property.
 */
export function plain(value: JsonValue): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof JsonDouble) return value.value;
  if (Array.isArray(value)) return value.map(plain);
  const out: Record<string, unknown> = {};
  for (const key in value) {
    const v = plain(value[key]!);
    if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    else out[key] = v;
  }
  return out;
}
