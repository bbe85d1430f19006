/**
 * QEMU 7.2's JSON lexer (qobject/json-lexer.c) as a byte-at-a-time state
 * machine: the same token classes, the same extensions (single-quoted
 * strings, `\'`), the same notion of an error token (everything since the
 * token began, including the offending byte) and the same recovery (after an
 * error, skip to a structural character, a control character or 0xFE/0xFF).
 * Strings are not decoded here; the parser does that, as QEMU's does.
 */

export const enum TokenType {
  LCurly,
  RCurly,
  LSquare,
  RSquare,
  Colon,
  Comma,
  Integer,
  Float,
  Keyword,
  String,
  /** A byte sequence that cannot start or continue a token. */
  Error,
  /** A single token grew beyond the size limit (QEMU passes its lexer state). */
  Oversized,
}

export interface JsonTokenSink {
  /**
   * The raw token bytes are `text[start, end)` (a range, so that no view is made of a token the sink
   * only counts); for Error, everything up to and including the bad byte. The range is valid during the call.
   */
  token(type: TokenType, text: Buffer, start: number, end: number): void;
}

const enum State {
  Start,
  Recovery,
  DqString,
  DqEscape,
  SqString,
  SqEscape,
  Zero,
  Sign,
  Digits,
  Mantissa,
  MantissaDigits,
  ExpE,
  ExpSign,
  ExpDigits,
  Keyword,
}

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

/** The first size of the buffer a token's bytes are carried over chunks in. */
const CARRY_INITIAL_BYTES = 4096;

/** The largest carry buffer kept for the next token: room for a 64 KiB ringbuf-write's base64 string (87 KiB) and more. */
const CARRY_KEPT_BYTES = 256 << 10;

export class JsonLexer {
  #state = State.Start;
  /**
   * Bytes of the current token from earlier chunks, copied: the chunks are
   * a reader's buffer, read into again once feed() returns. One buffer,
   * grown as needed and kept for the next token (as QEMU's lexer keeps its
   * token GString), so that a long string arriving in many reads (a 64 KiB
   * ringbuf-write is 87 KB of base64) is copied once and leaves no garbage.
   */
  #carry: Buffer = Buffer.allocUnsafe(0);
  #carryBytes = 0;
  /** stop() was called during the current feed(). */
  #stopping = false;

  constructor(
    private readonly sink: JsonTokenSink,
    /** MAX_TOKEN_SIZE in json-lexer.c: one token may not exceed 64 MiB. */
    private readonly maxTokenBytes: number,
  ) {}

  /** Drops a partial token (the connection was reset). */
  reset(): void {
    this.#state = State.Start;
    this.#carry = Buffer.allocUnsafe(0);
    this.#carryBytes = 0;
  }

  /** Ends the current feed() after the token just delivered; feed() returns how far it got. */
  stop(): void {
    this.#stopping = true;
  }

  /** Lexes `chunk` up to its end or until stop(); returns the bytes consumed, the rest is for a later feed(). */
  feed(chunk: Buffer): number {
    this.#stopping = false;
    let start = 0; // where the current token begins in this chunk
    let i = 0;
    const n = chunk.length;
    while (i < n && !this.#stopping) {
      const b = chunk[i]!;
      switch (this.#state) {
        case State.Start:
          start = i;
          switch (b) {
            case 0x20:
            case 0x09:
            case 0x0d:
            case 0x0a:
              i++;
              continue;
            case 0x7b:
              this.#emit(TokenType.LCurly, chunk, i, ++i);
              continue;
            case 0x7d:
              this.#emit(TokenType.RCurly, chunk, i, ++i);
              continue;
            case 0x5b:
              this.#emit(TokenType.LSquare, chunk, i, ++i);
              continue;
            case 0x5d:
              this.#emit(TokenType.RSquare, chunk, i, ++i);
              continue;
            case 0x3a:
              this.#emit(TokenType.Colon, chunk, i, ++i);
              continue;
            case 0x2c:
              this.#emit(TokenType.Comma, chunk, i, ++i);
              continue;
            case 0x22:
              this.#state = State.DqString;
              break;
            case 0x27:
              this.#state = State.SqString;
              break;
            case 0x30:
              this.#state = State.Zero;
              break;
            case 0x2d:
              this.#state = State.Sign;
              break;
            default:
              if (b >= 0x31 && b <= 0x39) this.#state = State.Digits;
              else if (b >= 0x61 && b <= 0x7a) this.#state = State.Keyword;
              else {
                this.#error(chunk, start, i);
                i++;
                continue;
              }
          }
          i++;
          break;
        case State.Recovery:
          // Skip until something that can start a fresh token; that byte is
          // then read again in the start state.
          if ((b < 0x20 && b !== 0x09) || b >= 0xfe || b === 0x5b || b === 0x5d || b === 0x7b || b === 0x7d || b === 0x3a || b === 0x2c) {
            this.#state = State.Start;
          } else {
            i++;
          }
          break;
        case State.DqString:
        case State.SqString: {
          // Fast path through the body of a string.
          const quote = this.#state === State.DqString ? 0x22 : 0x27;
          while (i < n) {
            const c = chunk[i]!;
            if (c === quote || c === 0x5c || c < 0x20 || c >= 0xfe) break;
            i++;
          }
          if (i === n) break;
          const c = chunk[i]!;
          if (c === quote) {
            this.#emit(TokenType.String, chunk, start, ++i);
          } else if (c === 0x5c) {
            this.#state = quote === 0x22 ? State.DqEscape : State.SqEscape;
            i++;
          } else {
            this.#error(chunk, start, i);
            i++;
          }
          break;
        }
        case State.DqEscape:
        case State.SqEscape:
          if (b >= 0x20 && b <= 0xfd) {
            this.#state = this.#state === State.DqEscape ? State.DqString : State.SqString;
            i++;
          } else {
            this.#error(chunk, start, i);
            i++;
          }
          break;
        case State.Zero:
          if (isDigit(b)) {
            this.#error(chunk, start, i);
            i++;
          } else if (b === 0x2e) {
            this.#state = State.Mantissa;
            i++;
          } else {
            this.#emit(TokenType.Integer, chunk, start, i);
          }
          break;
        case State.Sign:
          if (b === 0x30) this.#state = State.Zero;
          else if (b >= 0x31 && b <= 0x39) this.#state = State.Digits;
          else {
            this.#error(chunk, start, i);
          }
          i++;
          break;
        case State.Digits:
          if (isDigit(b)) i++;
          else if (b === 0x65 || b === 0x45) {
            this.#state = State.ExpE;
            i++;
          } else if (b === 0x2e) {
            this.#state = State.Mantissa;
            i++;
          } else this.#emit(TokenType.Integer, chunk, start, i);
          break;
        case State.Mantissa:
          if (isDigit(b)) this.#state = State.MantissaDigits;
          else this.#error(chunk, start, i);
          i++;
          break;
        case State.MantissaDigits:
          if (isDigit(b)) i++;
          else if (b === 0x65 || b === 0x45) {
            this.#state = State.ExpE;
            i++;
          } else this.#emit(TokenType.Float, chunk, start, i);
          break;
        case State.ExpE:
          if (b === 0x2d || b === 0x2b) this.#state = State.ExpSign;
          else if (isDigit(b)) this.#state = State.ExpDigits;
          else this.#error(chunk, start, i);
          i++;
          break;
        case State.ExpSign:
          if (isDigit(b)) this.#state = State.ExpDigits;
          else this.#error(chunk, start, i);
          i++;
          break;
        case State.ExpDigits:
          if (isDigit(b)) i++;
          else this.#emit(TokenType.Float, chunk, start, i);
          break;
        case State.Keyword:
          if (b >= 0x61 && b <= 0x7a) i++;
          else this.#emit(TokenType.Keyword, chunk, start, i);
          break;
      }
      if (this.#carryBytes + (i - start) > this.maxTokenBytes && this.#state !== State.Start && this.#state !== State.Recovery) {
        // json_lexer_feed_char(): a token this large is handed on as is and
        // the lexer starts afresh; the streamer refuses it for its size.
        const from = start;
        start = i;
        this.#deliver(TokenType.Oversized, State.Start, chunk, from, i);
      }
    }
    // Keep the unfinished token's bytes for the next chunk (stop() comes between tokens, so then there are none).
    if (this.#state !== State.Start && this.#state !== State.Recovery && start < i) {
      this.#append(chunk, start, i);
    }
    return i;
  }

  /** Hands on `chunk[start, end)`, preceded by the token's bytes from earlier chunks. */
  #deliver(type: TokenType, next: State, chunk: Buffer, start: number, end: number): void {
    this.#state = next;
    if (this.#carryBytes === 0) {
      this.sink.token(type, chunk, start, end);
      return;
    }
    this.#append(chunk, start, end);
    const length = this.#carryBytes;
    this.#carryBytes = 0;
    this.sink.token(type, this.#carry, 0, length);
    // A token beyond what a ringbuf-write of a large ring takes is rare: its buffer is not kept.
    if (this.#carry.length > CARRY_KEPT_BYTES) this.#carry = Buffer.allocUnsafe(0);
  }

  #append(chunk: Buffer, start: number, end: number): void {
    const needed = this.#carryBytes + (end - start);
    if (needed > this.#carry.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(needed, 2 * this.#carry.length, CARRY_INITIAL_BYTES));
      this.#carry.copy(grown, 0, 0, this.#carryBytes);
      this.#carry = grown;
    }
    this.#carryBytes += chunk.copy(this.#carry, this.#carryBytes, start, end);
  }

  #emit(type: TokenType, chunk: Buffer, start: number, end: number): void {
    this.#deliver(type, State.Start, chunk, start, end);
  }

  /** The error token includes the byte at `bad`; then recovery starts after it. */
  #error(chunk: Buffer, start: number, bad: number): void {
    this.#deliver(TokenType.Error, State.Recovery, chunk, start, bad + 1);
  }
}
