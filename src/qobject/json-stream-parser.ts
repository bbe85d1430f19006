import { ChardevdError } from '../base/error.js';
import { JsonDouble } from './json-double.js';
import { JsonLexer, TokenType } from './json-lexer.js';
import { JsonTokenQueue } from './json-token-queue.js';
import type { JsonObject, JsonValue } from './json-value.js';

/** Per-message limits (qobject/json-streamer.c); the messages are QEMU's. */
export interface JsonStreamParserLimits {
  /** MAX_TOKEN_SIZE: bytes of all tokens of one message ("JSON token size limit exceeded"). */
  readonly maxMessageBytes: number;
  /** MAX_TOKEN_COUNT: tokens of one message ("JSON token count limit exceeded"). */
  readonly maxTokens: number;
  /** MAX_NESTING: open `{` plus `[` ("JSON nesting depth limit exceeded"). */
  readonly maxNesting: number;
}

export const JSON_PARSER_DEFAULTS: JsonStreamParserLimits = {
  maxMessageBytes: 64 << 20,
  maxTokens: 2 << 20,
  maxNesting: 1 << 10,
};

export interface JsonStreamHandler {
  onValue(value: JsonValue): void;
  /** `desc` is the error description QEMU sends, e.g. "JSON parse error, expecting value". */
  onError(desc: string): void;
}

/** A message the parser refuses; caught in this file, reported as "JSON parse error, MESSAGE". */
class ParseError extends ChardevdError {
  readonly code = 'JSON_PARSE_FAILED';
}

/**
 * QMP's input side: a byte stream in, one callback per complete JSON value
 * or error out, with QEMU 7.2's json-streamer semantics. Tokens are
 * collected until braces and brackets balance, then parsed as one message;
 * an error anywhere drops what was collected and the next token starts a new
 * message (7.2 has no smarter recovery, so a rejected deep message is
 * followed by one error per leftover closing bracket, exactly as QEMU sends).
 * The consumer may pause() it from a callback, to take the rest of a chunk
 * when it has caught up (one chunk can make millions of errors).
 */
export class JsonStreamParser {
  readonly #lexer: JsonLexer;
  readonly #limits: JsonStreamParserLimits;
  readonly #tokens = new JsonTokenQueue();
  #tokenBytes = 0;
  #braces = 0;
  #brackets = 0;

  constructor(
    private readonly handler: JsonStreamHandler,
    limits: Partial<JsonStreamParserLimits> = {},
  ) {
    this.#limits = { ...JSON_PARSER_DEFAULTS, ...limits };
    this.#lexer = new JsonLexer({ token: (type, text, start, end) => this.#token(type, text, start, end) }, this.#limits.maxMessageBytes);
  }

  /** Parses `chunk` up to its end or until pause(); returns the bytes consumed, the rest is to be fed again later. */
  feed(chunk: Buffer): number {
    return this.#lexer.feed(chunk);
  }

  /** Called from onValue or onError: the current feed() returns after this message. */
  pause(): void {
    this.#lexer.stop();
  }

  /** Forgets any partial message (QEMU re-initialises the parser when a client disconnects). */
  reset(): void {
    this.#lexer.reset();
    this.#clear();
  }

  #clear(): void {
    this.#tokens.clear();
    this.#tokenBytes = 0;
    this.#braces = 0;
    this.#brackets = 0;
  }

  #fail(desc: string): void {
    this.#clear();
    this.handler.onError(desc);
  }

  /** json_message_process_token(). */
  #token(type: TokenType, text: Buffer, start: number, end: number): void {
    switch (type) {
      case TokenType.LCurly:
        this.#braces++;
        break;
      case TokenType.RCurly:
        this.#braces--;
        break;
      case TokenType.LSquare:
        this.#brackets++;
        break;
      case TokenType.RSquare:
        this.#brackets--;
        break;
      case TokenType.Error:
        return this.#fail(`JSON parse error, stray '${cString(text.subarray(start, end))}'`);
      default:
        break;
    }
    if (this.#tokenBytes + (end - start) + 1 > this.#limits.maxMessageBytes) return this.#fail('JSON token size limit exceeded');
    if (this.#tokens.length + 1 > this.#limits.maxTokens) return this.#fail('JSON token count limit exceeded');
    if (this.#braces + this.#brackets > this.#limits.maxNesting) return this.#fail('JSON nesting depth limit exceeded');
    this.#tokens.push(type, text, start, end);
    this.#tokenBytes += end - start;
    if ((this.#braces > 0 || this.#brackets > 0) && this.#braces >= 0 && this.#brackets >= 0) return;

    let value: JsonValue;
    try {
      value = new TokenParser(this.#tokens).parseMessage();
    } catch (error: unknown) {
      this.#clear();
      if (error instanceof ParseError) {
        this.handler.onError(`JSON parse error, ${error.message}`);
        return;
      }
      throw error;
    }
    // The queue is reused: the message's tokens go only once it is parsed.
    this.#clear();
    this.handler.onValue(value);
  }
}

/** Error texts print the token as a C string: it ends at the first NUL byte. */
function cString(text: Buffer): string {
  const nul = text.indexOf(0);
  return (nul < 0 ? text : text.subarray(0, nul)).toString('utf8');
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** json-parser.c: recursive descent over one message's tokens; the first error wins. */
class TokenParser {
  #pos = 0;

  constructor(private readonly tokens: JsonTokenQueue) {}

  parseMessage(): JsonValue {
    return this.#value();
  }

  /** The next token's type, undefined at the end. */
  #peek(): TokenType | undefined {
    return this.tokens.type(this.#pos);
  }

  #pop(): TokenType {
    const type = this.tokens.type(this.#pos++);
    if (type === undefined) throw new ParseError('premature EOI');
    return type;
  }

  #value(): JsonValue {
    const type = this.#peek();
    if (type === undefined) throw new ParseError('premature EOI');
    switch (type) {
      case TokenType.LCurly:
        return this.#object();
      case TokenType.LSquare:
        return this.#array();
      // A token with text is consumed here or ends the parse with an error, so texts are taken in order.
      case TokenType.String:
        this.#pos++;
        return parseString(this.tokens.nextText());
      case TokenType.Integer:
        this.#pos++;
        return parseInteger(this.tokens.nextText().toString('latin1'));
      case TokenType.Float:
        this.#pos++;
        return double(Number(this.tokens.nextText().toString('latin1')));
      case TokenType.Keyword: {
        this.#pos++;
        const word = this.tokens.nextText().toString('latin1');
        if (word === 'true') return true;
        if (word === 'false') return false;
        if (word === 'null') return null;
        throw new ParseError(`invalid keyword '${word}'`);
      }
      default:
        throw new ParseError('expecting value');
    }
  }

  #object(): JsonObject {
    this.#pos++; // {
    const object: JsonObject = Object.create(null) as JsonObject;
    if (this.#peek() === undefined) throw new ParseError('premature EOI');
    if (this.#peek() === TokenType.RCurly) {
      this.#pos++;
      return object;
    }
    this.#pair(object);
    let token = this.#pop();
    while (token !== TokenType.RCurly) {
      if (token !== TokenType.Comma) throw new ParseError('expected separator in dict');
      this.#pair(object);
      token = this.#pop();
    }
    return object;
  }

  #pair(object: JsonObject): void {
    if (this.#peek() === undefined) throw new ParseError('premature EOI');
    const key = this.#value();
    if (typeof key !== 'string') throw new ParseError('key is not a string in object');
    if (this.#pop() !== TokenType.Colon) throw new ParseError('missing : in object pair');
    // An absent value after the colon reports "expecting value" first (the first error wins).
    const value = this.#value();
    // QEMU compares keys as C strings; an embedded NUL ends the comparison.
    if (Object.hasOwn(object, key) || (key.includes('\0') && Object.keys(object).some((k) => k.split('\0')[0] === key.split('\0')[0]))) {
      throw new ParseError('duplicate key');
    }
    object[key] = value;
  }

  #array(): JsonValue[] {
    this.#pos++; // [
    const list: JsonValue[] = [];
    if (this.#peek() === undefined) throw new ParseError('premature EOI');
    if (this.#peek() === TokenType.RSquare) {
      this.#pos++;
      return list;
    }
    list.push(this.#value());
    let token = this.#pop();
    while (token !== TokenType.RSquare) {
      if (token !== TokenType.Comma) throw new ParseError('expected separator in list');
      list.push(this.#value());
      token = this.#pop();
    }
    return list;
  }
}

/** Integral doubles stay doubles (JsonDouble); see json-double.ts. */
function double(value: number): JsonValue {
  return Number.isInteger(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER ? new JsonDouble(value) : value;
}

/** parse_literal(): int64 if it fits, else uint64, else a double. */
function parseInteger(text: string): JsonValue {
  if (text.length < 16) {
    const n = Number(text);
    return n === 0 ? 0 : n; // "-0" is the integer 0
  }
  const big = BigInt(text);
  if ((big >= INT64_MIN && big <= INT64_MAX) || (big >= 0n && big <= UINT64_MAX)) {
    const n = Number(big);
    return Number.isSafeInteger(n) ? n : big;
  }
  return double(Number(text));
}

/** is_valid_codepoint() in util/unicode.c: no surrogates, no noncharacters, nothing beyond U+10FFFF. */
function isValidCodepoint(cp: number): boolean {
  if (cp > 0x10ffff || cp < 0) return false;
  if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe) return false;
  return !(cp >= 0xd800 && cp <= 0xdfff);
}

function hexValue(b: number | undefined): number {
  if (b === undefined) return -1;
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x41 + 10;
  if (b >= 0x61 && b <= 0x66) return b - 0x61 + 10;
  return -1;
}

/** cvt4hex(): four hex digits, or -1. */
function cvt4hex(text: Buffer, at: number): number {
  let cp = 0;
  for (let i = 0; i < 4; i++) {
    const h = hexValue(text[at + i]);
    if (h < 0) return -1;
    cp = (cp << 4) | h;
  }
  return cp;
}

const ESCAPES: { readonly [b: number]: string } = { 0x22: '"', 0x27: "'", 0x5c: '\\', 0x2f: '/', 0x62: '\b', 0x66: '\f', 0x6e: '\n', 0x72: '\r', 0x74: '\t' };

/**
 * parse_string(): decodes escapes and QEMU's "modified UTF-8" (the overlong
 * C0 80 is a NUL character, overlong forms otherwise and surrogates are
 * refused). A JS string with U+0000 stands for QEMU's NUL.
 */
function parseString(text: Buffer): string {
  const end = text.length - 1; // closing quote
  // Fast path: printable ASCII without escapes.
  let plain = true;
  for (let i = 1; i < end; i++) {
    const b = text[i]!;
    if (b >= 0x80 || b === 0x5c) {
      plain = false;
      break;
    }
  }
  if (plain) return text.toString('latin1', 1, end);

  let out = '';
  let i = 1;
  while (i < end) {
    const b = text[i]!;
    if (b === 0x5c) {
      const begin = i;
      const escape = text[i + 1]!;
      i += 2;
      const simple = ESCAPES[escape];
      if (simple !== undefined) {
        out += simple;
        continue;
      }
      if (escape !== 0x75) throw new ParseError('invalid escape sequence in string');
      let cp = cvt4hex(text, i);
      i += 4;
      if (cp >= 0xd800 && cp <= 0xdbff && text[i] === 0x5c && text[i + 1] === 0x75) {
        const trailing = cvt4hex(text, i + 2);
        if (trailing >= 0xdc00 && trailing <= 0xdfff) {
          cp = 0x10000 + ((cp & 0x3ff) << 10) + (trailing & 0x3ff);
          i += 6;
        } else {
          cp = -1;
        }
      }
      // QEMU prints the escape and the four bytes after `\u` with "%.*s" (its end may pass the token's NUL),
      // so a short escape shows the closing quote: `\u12"`.
      if (!isValidCodepoint(cp)) throw new ParseError(`${asQemuPrints(text, begin, Math.min(i, text.length))} is not a valid Unicode character`);
      out += String.fromCodePoint(cp);
      continue;
    }
    const [cp, next] = modUtf8Codepoint(text, i, end);
    if (cp < 0) throw new ParseError('invalid UTF-8 sequence in string');
    out += String.fromCodePoint(cp);
    i = next;
  }
  return out;
}

/**
 * Input bytes quoted in an error, as QEMU's JSON writer will show them:
 * the characters they encode, U+FFFD for each bad sequence.
 */
function asQemuPrints(text: Buffer, begin: number, stop: number): string {
  let out = '';
  for (let i = begin; i < stop; ) {
    const [cp, next] = modUtf8Codepoint(text, i, stop);
    out += cp < 0 ? '\uFFFD' : String.fromCodePoint(cp);
    i = next;
  }
  return out;
}

/** Minimum code point of a 2..6 byte sequence, to refuse overlong forms. */
const MIN_CODEPOINT = [0x80, 0x800, 0x10000, 0x200000, 0x4000000];

/** mod_utf8_codepoint(): [code point or -1, index after the sequence]. */
function modUtf8Codepoint(text: Buffer, at: number, end: number): [number, number] {
  const first = text[at]!;
  if (first < 0x80) return [first, at + 1];
  if (first >= 0xfe || (first & 0x40) === 0) return [-1, at + 1];
  let length = 0;
  let mask = 0x80;
  for (; first & mask; mask >>= 1) length++;
  let cp = first & (mask - 1);
  let p = at + 1;
  for (let k = 1; k < length; k++) {
    const b = p < end ? text[p]! : 0;
    if ((b & 0xc0) !== 0x80) return [-1, p];
    p++;
    cp = cp * 64 + (b & 0x3f);
  }
  if (!isValidCodepoint(cp)) return [-1, p];
  if (cp < MIN_CODEPOINT[length - 2]! && !(cp === 0 && length === 2)) return [-1, p];
  return [cp, p];
}
