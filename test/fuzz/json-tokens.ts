import fc from 'fast-check';

/**
 * Pieces of hostile QMP input. Every text here is a byte string: one
 * character per byte (Latin-1), so that invalid UTF-8, NUL bytes and 0xFF
 * can be written; `utf8` turns ordinary text into that form.
 */

export function utf8(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** `arbitrary`'s value in `percent` of the cases, else null. */
export function sometimes<T>(arbitrary: fc.Arbitrary<T>, percent: number): fc.Arbitrary<T | null> {
  return fc.oneof({ arbitrary, weight: percent }, { arbitrary: fc.constant(null), weight: 100 - percent });
}

/** Bytes that are no valid UTF-8 inside a string, or that QEMU's decoder treats specially. */
const BAD_UTF8 = [
  '\xc0\x80', // QEMU's "modified UTF-8" NUL
  '\xc3', // a lead byte without its continuation
  '\x80', // a continuation without a lead
  '\xe0\x80\x80', // overlong
  '\xed\xa0\x80', // a surrogate
  '\xf4\x90\x80\x80', // beyond U+10FFFF
  '\xef\xb7\x90', // the noncharacter U+FDD0
  '\xef\xbf\xbf', // U+FFFF
  '\xf8\x88\x80\x80\x80', // a five-byte form
  '\xfe',
  '\xff',
];

const ESCAPES = [
  '\\n',
  '\\t',
  '\\"',
  "\\'",
  '\\\\',
  '\\/',
  '\\b',
  '\\f',
  '\\r',
  '\\u0041',
  '\\u00e9',
  '\\u0000',
  '\\uD83D\\uDE00',
  '\\ud800',
  '\\udc00',
  '\\ud800\\u0041',
  '\\uFFFF',
  '\\uFDD0',
  // Too few hex digits, or none, or no hex at all.
  '\\u',
  '\\u1',
  '\\u12',
  '\\u123',
  '\\uZZZZ',
  '\\u12G4',
  '\\x41',
  '\\0',
  '\\a',
  '\\',
];

const UNICODE = ['é', 'ü', '€', '😀', '\u2028', '\u0301', '中文', '\ufeff'];

/** One piece of a string body: plain text, an escape, raw control or bad bytes, UTF-8. */
const stringPiece: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 6 }), weight: 4 },
  { arbitrary: fc.constantFrom(...ESCAPES), weight: 3 },
  { arbitrary: fc.constantFrom(...BAD_UTF8), weight: 2 },
  { arbitrary: fc.constantFrom('\x00', '\x01', '\x1f', '\x7f', '\t', '\n', '\r'), weight: 1 },
  { arbitrary: fc.constantFrom(...UNICODE).map(utf8), weight: 2 },
  { arbitrary: fc.constantFrom('execute', 'arguments', 'query-version', 'TypeError', '    at x (file.js:1:2)'), weight: 1 },
);

/** A string token: double or single quoted (QEMU's extension), now and then unterminated. */
export const stringToken: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom('"', '"', "'"), fc.array(stringPiece, { maxLength: 6 }), fc.boolean(), fc.integer({ min: 0, max: 19 }))
  .map(([quote, pieces, escapeQuotes, unterminated]) => {
    const body = pieces.join('');
    // Mostly keep the quote character out of the body, so the token is one token.
    const safe = escapeQuotes ? body : body.split(quote).join(`\\${quote}`);
    return `${quote}${safe}${unterminated === 0 ? '' : quote}`;
  });

const INT64_EDGES = [
  '0',
  '-0',
  '1',
  '-1',
  '2147483647',
  '2147483648',
  '4294967295',
  '4294967296',
  '9007199254740991',
  '9007199254740993',
  '9223372036854775807',
  '9223372036854775808',
  '-9223372036854775808',
  '-9223372036854775809',
  '18446744073709551615',
  '18446744073709551616',
  '1e3',
  '1E+308',
  '1e309',
  '-1e309',
  '1e-400',
  '0.1',
  '1.0',
  '-0.0',
  '4.9e-324',
  '1.7976931348623157e308',
];

/** Numbers and what merely looks like one (the lexer refuses `01`, `1.`, `0x10`, `+1`, `.5`). */
export const numberToken: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...INT64_EDGES), weight: 4 },
  { arbitrary: fc.integer().map(String), weight: 2 },
  { arbitrary: fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String), weight: 2 },
  { arbitrary: fc.double().map(String), weight: 2 },
  { arbitrary: fc.integer({ min: 20, max: 400 }).map((n) => '9'.repeat(n)), weight: 1 },
  { arbitrary: fc.constantFrom('01', '1.', '1e', '1e+', '-', '--1', '0x10', '+1', '.5', '1.5.5', '0e', 'Infinity', 'NaN', '-Infinity'), weight: 2 },
);

export const keywordToken: fc.Arbitrary<string> = fc.constantFrom('true', 'false', 'null', 'tru', 'nul', 'nulll', 'inf', 'nan', 'undefined', 'True', 'NULL');

export const structuralToken: fc.Arbitrary<string> = fc.constantFrom('{', '}', '[', ']', ':', ',');

/** Names a request is made of, and commands that do nothing harmful to the process running them. */
export const SAFE_COMMANDS = [
  'qmp_capabilities',
  'query-version',
  'query-commands',
  'query-qmp-schema',
  'query-chardev',
  'query-chardev-backends',
  'query-links',
  'ringbuf-write',
  'ringbuf-read',
  'ringbuf-read-cursor',
  'chardev-add',
  'chardev-change',
  'chardev-remove',
  'chardev-send-break',
  'hub-add-member',
  'hub-remove-member',
  'device_add',
  'device_del',
  'human-monitor-command',
] as const;

/** Strings of the protocol as quoted tokens: member names and command names (never `quit`, which would end the daemon). */
export const nameToken: fc.Arbitrary<string> = fc
  .constantFrom('execute', 'exec-oob', 'arguments', 'id', 'enable', 'oob', 'control', ...SAFE_COMMANDS, 'no-such-command', '')
  .map((name) => JSON.stringify(name));

/** Bytes outside any token: white space, control characters, 0xFE/0xFF, garbage. */
export const junkToken: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(' ', '\n', '\r\n', '\t', '\x00', '\x1b', '\x7f', '\xfe', '\xff', '@', '#', '\\', '/', '`', 'é', '\xc3'),
  fc.uint8Array({ maxLength: 8 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
);

/** Any token the lexer knows, and some it does not. */
export const anyToken: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: structuralToken, weight: 6 },
  { arbitrary: stringToken, weight: 3 },
  { arbitrary: nameToken, weight: 3 },
  { arbitrary: numberToken, weight: 2 },
  { arbitrary: keywordToken, weight: 1 },
  { arbitrary: junkToken, weight: 1 },
);

/** A string of user-ish text with the corners that break parsers, as a JS string (not yet encoded). */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  {
    arbitrary: fc.constantFrom(
      '',
      ' ',
      'a',
      'r0',
      'h0',
      'n0',
      'x,y',
      'a,,b',
      '\u0000',
      'a\u0000b',
      '\n',
      'é',
      '😀',
      '\ud800',
      '\uffff',
      'undefined',
      'null',
      'NaN',
      '__proto__',
      'constructor',
      'toString',
      '-1',
      '0x10',
      '1k',
      'on',
      'off',
    ),
    weight: 4,
  },
  { arbitrary: fc.string({ maxLength: 10 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 6 }), weight: 1 },
  { arbitrary: fc.integer({ min: 100, max: 5000 }).map((n) => 'x'.repeat(n)), weight: 1 },
);
