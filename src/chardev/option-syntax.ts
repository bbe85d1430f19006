/**
 * The text syntax of one `-chardev` value as QEMU 7.2 reads it
 * (util/qemu-option.c): `name=value` pairs separated by commas, `,,` for a
 * comma inside a value, bare words for booleans, and an implied first name.
 */

export interface Token {
  readonly name: string;
  readonly value: string;
  /** Set for a bare word such as `server` or `nowait`: "" or "no", the prefix QEMU stripped. */
  readonly shortForm: '' | 'no' | undefined;
  /** A bare `help` or `?`. */
  readonly help: boolean;
  /** Where the next option starts. */
  readonly next: number;
}

/**
 * One option from `text` at `pos`, as util/qemu-option.c get_opt_name_value
 * reads it. A name ends at the first `=` or `,` and has no escapes; only
 * values (and the implied first value) turn `,,` into a comma. So
 * `a,,b=c` is the bare word `a`, then an empty bare word, then `b=c`:
 * splitQemuOpts, which unescapes the whole text first, reads it as one
 * option `a,b=c`, which is why it is not used here.
 */
export function nextToken(text: string, pos: number, implied: string | undefined): Token {
  let end = pos;
  while (end < text.length && text[end] !== '=' && text[end] !== ',') end++;
  let name: string;
  let value: string;
  let shortForm: Token['shortForm'];
  let help = false;
  let p: number;
  if (text[end] !== '=') {
    if (implied !== undefined) {
      name = implied;
      [value, p] = readValue(text, pos);
    } else {
      // A bare word is a boolean: `word` is word=on, `noword` is word=off.
      const word = text.slice(pos, end);
      p = end;
      if (word.startsWith('no')) {
        name = word.slice(2);
        value = 'off';
        shortForm = 'no';
      } else {
        name = word;
        value = 'on';
        help = word === 'help' || word === '?';
        shortForm = help ? undefined : '';
      }
    }
  } else {
    name = text.slice(pos, end);
    [value, p] = readValue(text, end + 1);
  }
  if (text[p] === ',') p++;
  return { name, value, shortForm, help, next: p };
}

/** A value up to the first single comma, `,,` standing for one comma (get_opt_value). */
function readValue(text: string, pos: number): [string, number] {
  let value = '';
  let p = pos;
  for (;;) {
    const comma = text.indexOf(',', p);
    if (comma < 0) return [value + text.slice(p), text.length];
    if (text[comma + 1] !== ',') return [value + text.slice(p, comma), comma];
    value += text.slice(p, comma + 1);
    p = comma + 2;
  }
}

/** opts_parse_id: the first `id` option's value, read without an implied first name. */
export function scanId(text: string): string | undefined {
  for (let pos = 0; pos < text.length; ) {
    const token = nextToken(text, pos, undefined);
    if (token.name === 'id') return token.value;
    pos = token.next;
  }
  return undefined;
}

/** QEMU 6.0's deprecation warning for a bare boolean word (get_opt_name_value). */
export function shortFormWarning(name: string, value: string, prefix: '' | 'no'): string {
  // `delay` is the negation of `nodelay`, so QEMU names the replacement by nodelay.
  const replacement = name === 'delay' ? `nodelay=${prefix === 'no' ? 'on' : 'off'}` : `${name}=${value}`;
  return `warning: short-form boolean option '${prefix}${name}' deprecated\nPlease use ${replacement} instead`;
}
