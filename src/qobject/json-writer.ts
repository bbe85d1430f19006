import { qdictOrder } from './qdict-order.js';
import { JsonDouble } from './json-double.js';
import type { JsonValue } from './json-value.js';

/**
 * Serialises a value exactly as QEMU 7.2's JSON writer does
 * (qobject/json-writer.c): `", "` and `": "` separators, ASCII only with
 * uppercase `\uXXXX` escapes, doubles as C's "%.17g", object members in
 * QDict order (qdict-order.ts), and in pretty mode a newline plus 4 spaces
 * per level before every member and closing bracket. The caller ends the
 * message: the monitor adds "\n" and turns every "\n" into "\r\n".
 * Members whose value is undefined are left out, as absent optional members are.
 */
export function formatQmpJson(value: JsonValue, pretty = false): string {
  const out: string[] = [];
  writeValue(out, value, pretty, 0);
  return out.join('');
}

function newline(out: string[], pretty: boolean, depth: number): void {
  if (pretty) out.push(`\n${' '.repeat(depth * 4)}`);
}

function writeValue(out: string[], value: JsonValue, pretty: boolean, depth: number): void {
  switch (typeof value) {
    case 'string':
      out.push(quote(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'bigint':
      out.push(value.toString());
      return;
    case 'number':
      out.push(Number.isSafeInteger(value) ? String(value) : formatDouble(value));
      return;
    default:
      break;
  }
  if (value === null) {
    out.push('null');
  } else if (value instanceof JsonDouble) {
    out.push(formatDouble(value.value));
  } else if (Array.isArray(value)) {
    out.push('[');
    value.forEach((element, i) => {
      out.push(i > 0 ? (pretty ? ',' : ', ') : '');
      newline(out, pretty, depth + 1);
      writeValue(out, element, pretty, depth + 1);
    });
    newline(out, pretty, depth);
    out.push(']');
  } else {
    out.push('{');
    let first = true;
    for (const key of qdictOrder(Object.keys(value))) {
      const member = value[key];
      if (member === undefined) continue;
      out.push(first ? '' : pretty ? ',' : ', ');
      first = false;
      newline(out, pretty, depth + 1);
      out.push(quote(key), ': ');
      writeValue(out, member, pretty, depth + 1);
    }
    newline(out, pretty, depth);
    out.push('}');
  }
}

const SIMPLE_ESCAPES: { readonly [c: number]: string } = { 0x22: '\\"', 0x5c: '\\\\', 0x08: '\\b', 0x0c: '\\f', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t' };

/** Printable ASCII except `"` and `\`: copied as is. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}

/** quoted_str(): code points QEMU's UTF-8 decoder would reject (surrogates, noncharacters) become U+FFFD. */
function quote(text: string): string {
  if (PLAIN.test(text)) return `"${text}"`;
  let out = '"';
  for (const ch of text) {
    let cp = ch.codePointAt(0)!;
    const simple = SIMPLE_ESCAPES[cp];
    if (simple !== undefined) {
      out += simple;
      continue;
    }
    if ((cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe) cp = 0xfffd;
    if (cp > 0xffff) {
      out += `\\u${hex4(0xd800 + ((cp - 0x10000) >> 10))}\\u${hex4(0xdc00 + ((cp - 0x10000) & 0x3ff))}`;
    } else if (cp < 0x20 || cp >= 0x7f) {
      out += `\\u${hex4(cp)}`;
    } else {
      out += String.fromCharCode(cp);
    }
  }
  return `${out}"`;
}

/** C's printf("%.17g") as glibc prints it, including "inf", "-inf", "nan" and "-0". */
export function formatDouble(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const sign = value < 0 ? '-' : '';
  const [mantissa = '', exponentText = '0'] = Math.abs(value).toExponential(16).split('e');
  const exponent = Number(exponentText);
  const digits = mantissa.replace('.', '');
  if (exponent < -4 || exponent >= 17) {
    const fraction = digits.slice(1).replace(/0+$/, '');
    const exp = `${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
    return `${sign}${digits[0]}${fraction === '' ? '' : `.${fraction}`}e${exp}`;
  }
  let integer: string;
  let fraction: string;
  if (exponent >= 0) {
    integer = digits.slice(0, exponent + 1);
    fraction = digits.slice(exponent + 1);
  } else {
    integer = '0';
    fraction = '0'.repeat(-exponent - 1) + digits;
  }
  fraction = fraction.replace(/0+$/, '');
  return `${sign}${integer}${fraction === '' ? '' : `.${fraction}`}`;
}
