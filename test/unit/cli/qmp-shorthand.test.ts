import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { formatJson, parseRequest, parseShorthandValue, shorthandArguments, splitWords } from '../../../src/cli/qmp-shorthand.js';

suite('qmp-shell shorthand', () => {
  test('values become integers, booleans in any case, JSON objects and arrays, or else strings', () => {
    assert.equal(parseShorthandValue('42'), 42);
    assert.equal(parseShorthandValue('-7'), -7);
    assert.equal(parseShorthandValue('1_000'), 1000);
    assert.equal(parseShorthandValue('12345678901234567890'), 12345678901234567890n);
    assert.equal(parseShorthandValue('TRUE'), true);
    assert.equal(parseShorthandValue('False'), false);
    assert.deepEqual(parseShorthandValue('{"a": [1, null]}'), { a: [1, null] });
    assert.deepEqual(parseShorthandValue("{'a': True, 'b': None}"), { a: true, b: null });
    assert.equal(parseShorthandValue('1.5'), '1.5');
    assert.equal(parseShorthandValue('{broken'), '{broken');
    assert.equal(parseShorthandValue(''), '');
  });

  test('dotted keys build nested objects', () => {
    assert.deepEqual(shorthandArguments(['id=c0', 'backend.type=socket', 'backend.data.addr.type=unix', 'backend.data.addr.data.path=/x', 'backend.data.server=true']), {
      id: 'c0',
      backend: { type: 'socket', data: { addr: { type: 'unix', data: { path: '/x' } }, server: true } },
    });
  });

  test("refuses what qmp-shell refuses, with qmp-shell's words", () => {
    assert.throws(() => shorthandArguments(['novalue']), { message: "Expected a key=value pair, got 'novalue'" });
    assert.throws(() => shorthandArguments(['a=1', 'a=2']), { message: 'Cannot set "a" multiple times' });
    assert.throws(() => shorthandArguments(['a=1', 'a.b=2']), { message: 'Cannot use "a" as both leaf and non-leaf key' });
    assert.throws(() => shorthandArguments(['a.b=2', 'a=1']), { message: 'Cannot use "a" as both leaf and non-leaf key' });
  });

  test('a member named __proto__ stays a member', () => {
    const args = shorthandArguments(['__proto__.x=1']);
    assert.ok(Object.hasOwn(args, '__proto__'));
    assert.equal(Object.getPrototypeOf(args), Object.prototype);
  });

  test('a request is a command with shorthand arguments, or one raw JSON request', () => {
    assert.deepEqual(parseRequest(['query-status']), { execute: 'query-status' });
    assert.deepEqual(parseRequest(['ringbuf-read', 'device=rb', 'size=10']), { execute: 'ringbuf-read', arguments: { device: 'rb', size: 10 } });
    assert.deepEqual(parseRequest(['{"execute": "stop"}']), { execute: 'stop' });
    assert.throws(() => parseRequest(['{"arguments": {}}']), { message: "a raw request needs a string member 'execute'" });
  });

  test('shell lines split on blanks, with quotes and backslashes', () => {
    assert.deepEqual(splitWords(`ringbuf-write device=rb data="two words" x='it''s' y=a\\ b`), ['ringbuf-write', 'device=rb', 'data=two words', 'x=its', 'y=a b']);
    assert.throws(() => splitWords('a="open'), { message: 'No closing quotation' });
  });

  test('output JSON keeps 64-bit integers exact', () => {
    assert.equal(formatJson({ big: 18446744073709551615n, s: 'x' }, 0), '{"big":18446744073709551615,"s":"x"}');
  });
});
