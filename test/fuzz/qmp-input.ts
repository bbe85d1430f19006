import fc from 'fast-check';
import type { JsonStreamParserLimits } from '../../src/qobject/json-stream-parser.js';
import { anyJson, argumentsFor } from './qmp-arguments.js';
import { anyToken, junkToken, numberToken, SAFE_COMMANDS, sometimes, stringToken, utf8 } from './json-tokens.js';

/**
 * Hostile QMP input: a few messages of different kinds one after the
 * other, as byte strings (one character per byte), cut into chunks at
 * arbitrary places before they are fed to a session.
 */

export interface QmpInput {
  /** What is sent first: nothing (negotiation pending), or qmp_capabilities with or without `oob`. */
  readonly negotiate: string;
  readonly messages: readonly string[];
  /** Where the bytes are cut into chunks (taken modulo the length). */
  readonly cuts: readonly number[];
}

const NEGOTIATIONS = ['', '{"execute": "qmp_capabilities"}', '{"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}}'];

/** An `id` of every JSON type, nested ones and odd numbers included. */
const idValue: fc.Arbitrary<string> = fc.oneof(
  anyJson,
  numberToken,
  stringToken,
  fc.constantFrom('null', 'true', '{}', '[]', '{"a": [1, {"b": null}]}', '1e400', '-0', '18446744073709551615', '"sync"'),
);

/** The members of a request for `command`, in some order: mostly a good envelope, now and then a bad member. */
function members(command: string): fc.Arbitrary<string[]> {
  const execute = fc.oneof({ arbitrary: fc.constant(JSON.stringify(command)), weight: 14 }, { arbitrary: anyJson, weight: 1 });
  return fc
    .tuple(
      sometimes(
        execute.map((v) => `"execute": ${v}`),
        90,
      ),
      // exec-oob may name any command, quit too: no command runs out of band, so none runs at all.
      sometimes(
        fc.oneof(execute, fc.constant('"quit"')).map((v) => `"exec-oob": ${v}`),
        8,
      ),
      sometimes(
        argumentsFor(command).map((v) => `"arguments": ${v}`),
        80,
      ),
      sometimes(
        idValue.map((v) => `"id": ${v}`),
        50,
      ),
      sometimes(
        fc.tuple(stringToken, anyJson).map(([k, v]) => `${k}: ${v}`),
        10,
      ),
      fc.nat(7),
    )
    .map(([execute, oob, args, id, stray, order]) => {
      const present = [execute, oob, args, id, stray].filter((m): m is string => m !== null);
      return present.map((_, i) => present[(i + order) % present.length]!);
    });
}

/** A request: an object of the envelope's members around a real (harmless) command, some of the wrong type. */
const request: fc.Arbitrary<string> = fc
  .constantFrom(...SAFE_COMMANDS)
  .chain(members)
  .map((list) => `{${list.join(', ')}}`);

/** Tokens in any order: unbalanced brackets, stray separators, bad strings and numbers. */
const tokenSoup: fc.Arbitrary<string> = fc
  .tuple(fc.array(anyToken, { maxLength: 40 }), fc.constantFrom('', ' ', '\n'))
  .map(([tokens, separator]) => tokens.join(separator));

/** Bytes of any value. */
const rawBytes: fc.Arbitrary<string> = fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes).toString('latin1'));

/** Nesting around the parser's depth limit: arrays or objects, closed or not, with or without a request inside. */
function deepNesting(limits: JsonStreamParserLimits): fc.Arbitrary<string> {
  return fc
    .tuple(fc.integer({ min: -3, max: 3 }), fc.constantFrom('[', '{"a": '), fc.integer({ min: -2, max: 1 }), fc.constantFrom('1', '{"execute": "query-version"}', ''))
    .map(([offset, open, closeOffset, inner]) => {
      const depth = Math.max(1, limits.maxNesting + offset);
      const close = open === '[' ? ']' : '}';
      return `${open.repeat(depth)}${inner}${close.repeat(Math.max(0, depth + closeOffset))}`;
    });
}

/** Strings and messages around the parser's size and token-count limits. */
function nearLimits(limits: JsonStreamParserLimits, maxBytes: number): fc.Arbitrary<string> {
  const bytes = Math.min(limits.maxMessageBytes, maxBytes);
  const tokens = Math.min(limits.maxTokens, maxBytes / 2);
  return fc.oneof(
    fc.integer({ min: -40, max: 8 }).map((offset) => `{"execute": "query-version", "id": "${'x'.repeat(Math.max(0, bytes + offset - 40))}"}`),
    fc.integer({ min: -4, max: 4 }).map((offset) => `[${'1,'.repeat(Math.max(0, tokens / 2 + offset - 1))}1]`),
    fc
      .integer({ min: -40, max: 8 })
      .map((offset) => `"${'é'.repeat(Math.max(0, (bytes + offset) / 2))}`)
      .map(utf8),
  );
}

/**
 * Hostile input for a session whose parser has `limits`; `maxBytes` bounds
 * the messages built to reach a size limit (a real daemon's 64 MiB is not
 * worth sending hundreds of times).
 */
export function qmpInput(limits: JsonStreamParserLimits, maxBytes: number): fc.Arbitrary<QmpInput> {
  const message = fc.oneof(
    { arbitrary: request, weight: 12 },
    { arbitrary: tokenSoup, weight: 4 },
    { arbitrary: anyJson, weight: 2 },
    { arbitrary: rawBytes, weight: 1 },
    { arbitrary: junkToken, weight: 1 },
    { arbitrary: deepNesting(limits), weight: 1 },
    { arbitrary: nearLimits(limits, maxBytes), weight: 1 },
  );
  return fc.record({
    negotiate: fc.oneof({ arbitrary: fc.constant(NEGOTIATIONS[0]!), weight: 1 }, { arbitrary: fc.constantFrom(...NEGOTIATIONS.slice(1)), weight: 4 }),
    messages: fc.array(message, { minLength: 1, maxLength: 8 }),
    cuts: fc.array(fc.nat(), { maxLength: 6 }),
  });
}

/** The input's bytes cut into chunks: the negotiation alone, then the messages cut at `cuts`. */
export function inputChunks(input: QmpInput): Buffer[] {
  const bytes = Buffer.from(input.messages.join(''), 'latin1');
  const at = [...new Set(input.cuts.map((cut) => (bytes.length === 0 ? 0 : cut % bytes.length)))].sort((a, b) => a - b);
  const chunks: Buffer[] = input.negotiate === '' ? [] : [Buffer.from(input.negotiate, 'latin1')];
  let start = 0;
  for (const end of [...at, bytes.length]) {
    if (end > start) chunks.push(bytes.subarray(start, end));
    start = end;
  }
  return chunks;
}

/**
 * Ends whatever the input left open and asks for the version: a 0xFF byte
 * is an error token wherever the lexer stands (inside a string too), which
 * drops any partial message, so the request after it is read on its own.
 * Answered in every state, before negotiation as CommandNotFound, always with its id.
 */
export function syncRequest(id: string): Buffer {
  return Buffer.from(`\xff{"execute": "query-version", "id": "${id}"}`, 'latin1');
}
