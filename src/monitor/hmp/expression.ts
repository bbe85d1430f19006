import { ChardevdError } from '../../base/error.js';

/**
 * The integer expressions HMP accepts wherever a command takes a number
 * (monitor/hmp.c get_expr): decimal, octal (`010`) and hex (`0x10`)
 * literals, character constants (`'a'`), unary `+ - ~`, parentheses, and
 * the binary operators in QEMU's unusual precedence: `* / %` bind
 * tightest, then `& | ^`, then `+ -`. Arithmetic is 64-bit two's
 * complement, as in C. Registers (`$pc`) need a CPU, which chardevd does
 * not have, so every register is unknown.
 */

/** An expression QEMU refuses; the message is QEMU's text (expr_error). */
export class HmpExpressionError extends ChardevdError {
  override readonly name = 'HmpExpressionError';
  readonly code = 'HMP_EXPRESSION_INVALID';
}

const UINT64_MAX = (1n << 64n) - 1n;

/** C's isspace in the "C" locale, which the monitor's parser uses for every skip. */
export function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
}

/** Evaluates the expression at `start` of `text`; returns its value and where parsing stopped. */
export function evaluateExpression(text: string, start: number): { value: bigint; end: number } {
  const parser = new ExpressionParser(text, start);
  parser.skipSpaces();
  const value = parser.sum();
  return { value, end: parser.pos };
}

class ExpressionParser {
  constructor(
    private readonly text: string,
    public pos: number,
  ) {}

  get current(): string | undefined {
    return this.text[this.pos];
  }

  skipSpaces(): void {
    while (isSpace(this.current)) this.pos++;
  }

  /** QEMU's next(): step over the current character, then over spaces. */
  next(): void {
    if (this.current === undefined) return;
    this.pos++;
    this.skipSpaces();
  }

  sum(): bigint {
    let value = this.logic();
    for (;;) {
      const op = this.current;
      if (op !== '+' && op !== '-') return value;
      this.next();
      const right = this.logic();
      value = BigInt.asIntN(64, op === '+' ? value + right : value - right);
    }
  }

  logic(): bigint {
    let value = this.product();
    for (;;) {
      const op = this.current;
      if (op !== '&' && op !== '|' && op !== '^') return value;
      this.next();
      const right = this.product();
      value = op === '&' ? value & right : op === '|' ? value | right : value ^ right;
    }
  }

  product(): bigint {
    let value = this.unary();
    for (;;) {
      const op = this.current;
      if (op !== '*' && op !== '/' && op !== '%') return value;
      this.next();
      const right = this.unary();
      if (op === '*') {
        value = BigInt.asIntN(64, value * right);
        continue;
      }
      if (right === 0n) throw new HmpExpressionError('division by zero');
      // BigInt division truncates toward zero, as C's does.
      value = BigInt.asIntN(64, op === '/' ? value / right : value % right);
    }
  }

  unary(): bigint {
    const c = this.current;
    switch (c) {
      case '+':
        this.next();
        return this.unary();
      case '-':
        this.next();
        return BigInt.asIntN(64, -this.unary());
      case '~':
        this.next();
        return ~this.unary();
      case '(': {
        this.next();
        const value = this.sum();
        if (this.current !== ')') throw new HmpExpressionError("')' expected");
        this.next();
        return value;
      }
      case "'": {
        this.pos++;
        const ch = this.current;
        if (ch === undefined) throw new HmpExpressionError('character constant expected');
        this.pos++;
        if (this.current !== "'") throw new HmpExpressionError("missing terminating ' character");
        this.next();
        return BigInt(ch.codePointAt(0)!);
      }
      case '$':
        this.pos++;
        while (/[A-Za-z0-9_.]/.test(this.current ?? '')) this.pos++;
        this.skipSpaces();
        throw new HmpExpressionError('unknown register');
      case undefined:
        throw new HmpExpressionError('unexpected end of expression');
      default:
        return this.number(c);
    }
  }

  /** strtoull(p, &end, 0): the base from the prefix, digits as far as they go. */
  number(first: string): bigint {
    const rest = this.text.slice(this.pos);
    let match: RegExpExecArray | null;
    let digits: string;
    let radix: bigint;
    if ((match = /^0[xX]([0-9a-fA-F]+)/.exec(rest)) !== null) {
      digits = match[1]!;
      radix = 16n;
    } else if ((match = /^0([0-7]*)/.exec(rest)) !== null) {
      digits = match[1] === '' ? '0' : match[1]!;
      radix = 8n;
    } else if ((match = /^[0-9]+/.exec(rest)) !== null) {
      digits = match[0];
      radix = 10n;
    } else {
      throw new HmpExpressionError(`invalid char '${first}' in expression`);
    }
    let value = 0n;
    for (const d of digits) value = value * radix + BigInt(Number.parseInt(d, 16));
    if (value > UINT64_MAX) throw new HmpExpressionError('number too large');
    this.pos += match[0].length;
    this.skipSpaces();
    return BigInt.asIntN(64, value);
  }
}
