import { TokenType } from './json-lexer.js';

/** Room for a command's tokens and bytes; a queue that grew past four times this is given back when emptied. */
const INITIAL_TOKENS = 128;
const INITIAL_BYTES = 2048;
/**
 * Texts grown up to this are kept when emptied: a client writing 64 KiB
 * ringbufs sends 87 KB strings one command after another, and a buffer
 * given back and grown again per command is garbage waiting for the
 * collector and holes in the allocator's memory.
 */
const KEPT_TEXT_BYTES = 256 << 10;

/** Tokens whose bytes the parser reads; the others are known by their type. */
function hasText(type: TokenType): boolean {
  return type === TokenType.String || type === TokenType.Integer || type === TokenType.Float || type === TokenType.Keyword;
}

/**
 * The tokens of the message being collected (json-streamer.c's token
 * queue), packed: a byte of type per token, and the bytes of strings,
 * numbers and keywords one after another, each after its length. QEMU lets
 * one message have 2 Mi tokens (and 64 MiB); as one object and one Buffer
 * view each, that many took about 300 MiB of heap for a client sending
 * `[1,1,1,...`, packed it takes 2 bytes a token besides the bytes themselves.
 * The parser reads the message front to back once, so the texts are read
 * in order too.
 */
export class JsonTokenQueue {
  #types = new Uint8Array(INITIAL_TOKENS);
  #count = 0;
  /** Each text as its length (LEB128) then its bytes. */
  #texts = Buffer.allocUnsafe(INITIAL_BYTES);
  #textBytes = 0;
  /** Where nextText() reads. */
  #cursor = 0;

  get length(): number {
    return this.#count;
  }

  push(type: TokenType, text: Buffer, start: number, end: number): void {
    if (this.#count === this.#types.length) {
      const types = new Uint8Array(this.#count * 2);
      types.set(this.#types);
      this.#types = types;
    }
    this.#types[this.#count++] = type;
    if (!hasText(type)) return;
    let size = end - start;
    const needed = this.#textBytes + 5 + size;
    if (needed > this.#texts.length) {
      const texts = Buffer.allocUnsafe(Math.max(this.#texts.length * 2, needed));
      this.#texts.copy(texts, 0, 0, this.#textBytes);
      this.#texts = texts;
    }
    for (; size >= 0x80; size >>>= 7) this.#texts[this.#textBytes++] = (size & 0x7f) | 0x80;
    this.#texts[this.#textBytes++] = size;
    this.#textBytes += text.copy(this.#texts, this.#textBytes, start, end);
  }

  /** The type of token `index`, or undefined past the last one. */
  type(index: number): TokenType | undefined {
    return index < this.#count ? this.#types[index] : undefined;
  }

  /** The bytes of the next string, number or keyword: a view, valid until the queue is cleared. */
  nextText(): Buffer {
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const b = this.#texts[this.#cursor++]!;
      size += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
    }
    const text = this.#texts.subarray(this.#cursor, this.#cursor + size);
    this.#cursor += size;
    return text;
  }

  clear(): void {
    this.#count = 0;
    this.#textBytes = 0;
    this.#cursor = 0;
    // An idle connection keeps only a small queue, whatever its largest message was.
    if (this.#types.length > 4 * INITIAL_TOKENS) this.#types = new Uint8Array(INITIAL_TOKENS);
    if (this.#texts.length > KEPT_TEXT_BYTES) this.#texts = Buffer.allocUnsafe(INITIAL_BYTES);
  }
}
