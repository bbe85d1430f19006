import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { JsonDouble } from '../../../src/qobject/json-double.js';
import { JsonStreamParser, type JsonStreamParserLimits } from '../../../src/qobject/json-stream-parser.js';
import type { JsonValue } from '../../../src/qobject/json-value.js';

type Output = { value: JsonValue } | { error: string };

function parse(input: string | Buffer | Buffer[], limits: Partial<JsonStreamParserLimits> = {}): Output[] {
  const out: Output[] = [];
  const parser = new JsonStreamParser({ onValue: (value) => out.push({ value }), onError: (error) => out.push({ error }) }, limits);
  const chunks = Array.isArray(input) ? input : [typeof input === 'string' ? Buffer.from(input, 'latin1') : input];
  for (const chunk of chunks) parser.feed(chunk);
  return out;
}

function errors(input: string): string[] {
  return parse(input).map((o) => ('error' in o ? o.error : `value ${JSON.stringify(o.value)}`));
}

// Every error text below was answered by QEMU 7.2 to the same bytes.
suite('JsonStreamParser', () => {
  test('parses objects sent back to back without newlines', () => {
    assert.deepEqual(
      parse('{"a":1}{"b":2}\r\n {"c":3}').map((o) => ('value' in o ? { ...(o.value as object) } : o)),
      [{ a: 1 }, { b: 2 }, { c: 3 }],
    );
  });

  test('parses an object split at every byte boundary', () => {
    const text = Buffer.from('{"execute": "x", "arguments": {"s": "caf\u00e9 \ud83d\ude00", "n": [1, -2.5, true, null]}, \'id\': \'q\'}');
    for (let cut = 1; cut < text.length; cut++) {
      const out = parse([text.subarray(0, cut), text.subarray(cut)]);
      assert.equal(out.length, 1, `cut at ${cut}`);
      assert.deepEqual(JSON.parse(JSON.stringify(out[0])), { value: { execute: 'x', arguments: { s: 'café 😀', n: [1, -2.5, true, null] }, id: 'q' } });
    }
  });

  test('gives parsed objects a null prototype so that __proto__ is a plain member', () => {
    const [out] = parse('{"__proto__": 1}');
    assert.ok(out !== undefined && 'value' in out);
    assert.equal(Object.getPrototypeOf(out.value), null);
    assert.equal((out.value as { [k: string]: JsonValue })['__proto__'], 1);
  });

  test('keeps 64-bit integers exact and marks integral doubles', () => {
    const [out] = parse('[12345678901234567890, -9223372036854775808, 1.5e3, -0.0, 0.1, 1e400, 123456789012345678901234, -0]');
    assert.ok(out !== undefined && 'value' in out);
    assert.deepEqual(out.value, [12345678901234567890n, -9223372036854775808n, new JsonDouble(1500), new JsonDouble(-0), 0.1, Infinity, 1.2345678901234568e23, 0]);
  });

  test('decodes escapes, surrogate pairs, single quotes and NUL', () => {
    const [out] = parse(String.raw`['it\'s', "\"\\\/\b\f\n\r\t", "\u00e9\ud83d\ude00", "a\u0000b"]`);
    assert.ok(out !== undefined && 'value' in out);
    assert.deepEqual(out.value, ["it's", '"\\/\b\f\n\r\t', 'é😀', 'a\0b']);
  });

  test("reads the overlong C0 80 as NUL, as QEMU's modified UTF-8 does", () => {
    assert.deepEqual(parse(Buffer.from([0x22, 0x61, 0xc0, 0x80, 0x22])), [{ value: 'a\0' }]);
  });

  test("reports malformed input with QEMU's messages", () => {
    assert.deepEqual(errors('{"execute": nul}'), ["JSON parse error, invalid keyword 'nul'"]);
    assert.deepEqual(errors('{"a" 1}'), ['JSON parse error, missing : in object pair']);
    assert.deepEqual(errors('{1:2}'), ['JSON parse error, key is not a string in object']);
    assert.deepEqual(errors('{"a":}'), ['JSON parse error, expecting value']);
    assert.deepEqual(errors('[1,]'), ['JSON parse error, expecting value']);
    assert.deepEqual(errors('{"a":1 "b":2}'), ['JSON parse error, expected separator in dict']);
    assert.deepEqual(errors('[1 2]'), ['JSON parse error, expected separator in list']);
    assert.deepEqual(errors('{"a":1,"a":2}'), ['JSON parse error, duplicate key']);
    assert.deepEqual(errors('"\\x"'), ['JSON parse error, invalid escape sequence in string']);
    assert.deepEqual(errors('"\\ud800"'), ['JSON parse error, \\ud800 is not a valid Unicode character']);
    assert.deepEqual(errors('"\xed\xa0\x80"'), ['JSON parse error, invalid UTF-8 sequence in string']);
  });

  test('a bad \\u escape quotes the escape and the four bytes after \\u: a short one shows the closing quote', () => {
    const desc = (input: string): string[] => errors(input).map((e) => e.replace(/^JSON parse error, (.*) is not a valid Unicode character$/s, '$1'));
    assert.deepEqual(desc('"\\u12"'), ['\\u12"']);
    assert.deepEqual(desc('"\\u"'), ['\\u"']);
    assert.deepEqual(desc("'\\u1'"), ["\\u1'"]);
    assert.deepEqual(desc('"\\u12G4"'), ['\\u12G4']);
    assert.deepEqual(desc('"\\uD800\\u12"'), ['\\uD800']);
    // The bytes are shown as QEMU's writer shows them: characters, U+FFFD for a cut sequence, C0 80 as NUL.
    assert.deepEqual(desc('"\\u12\xc3\xa9"'), ['\\u12\u00e9']);
    assert.deepEqual(desc('"\\u123\xc3\xa9"'), ['\\u123\ufffd']);
    assert.deepEqual(desc('"\\u\xc0\x80"'), ['\\u\u0000"']);
  });

  test('reports stray bytes as they appear, then resynchronises', () => {
    assert.deepEqual(errors('\x01'), ["JSON parse error, stray '\x01'"]);
    assert.deepEqual(errors('01'), ["JSON parse error, stray '01'"]);
    // The closing quote is skipped by recovery, which only stops at structural or control bytes.
    assert.deepEqual(errors('"\x01"'), ["JSON parse error, stray '\"\x01'"]);
    // The NUL byte ends the C string QEMU formats the message with.
    assert.deepEqual(errors('\x00'), ["JSON parse error, stray ''"]);
    // Recovery skips to the next structural character.
    assert.deepEqual(errors('\xffgarbage{"ok":1}'), ["JSON parse error, stray '\ufffd'", 'value {"ok":1}']);
  });

  test('answers a complete object, then the garbage after it', () => {
    assert.deepEqual(errors('{"execute":"x","id":1} trailing'), ['value {"execute":"x","id":1}']);
    assert.deepEqual(errors('{"execute":"x","id":1} trailing '), ['value {"execute":"x","id":1}', "JSON parse error, invalid keyword 'trailing'"]);
  });

  test('answers stray closing brackets one by one, as QEMU 7.2 does', () => {
    assert.deepEqual(errors(']]'), ['JSON parse error, expecting value', 'JSON parse error, expecting value']);
  });

  test('accepts 1024 levels of nesting and refuses 1025, then one error per leftover bracket', () => {
    assert.equal(parse(`${'['.repeat(1024)}${']'.repeat(1024)}`).length, 1);
    const out = errors(`${'['.repeat(1025)}${']'.repeat(1025)}`);
    assert.equal(out[0], 'JSON nesting depth limit exceeded');
    assert.equal(out.length, 1026);
    assert.ok(out.slice(1).every((e) => e === 'JSON parse error, expecting value'));
  });

  test('refuses a message over the size limit without buffering the rest of it', () => {
    assert.deepEqual(
      parse(`{"a":"${'x'.repeat(100)}"}{"b":1}`, { maxMessageBytes: 64 })
        .map((o) => ('error' in o ? o.error : 'value'))
        .slice(0, 1),
      ['JSON token size limit exceeded'],
    );
    const out = parse(`[${'1,'.repeat(20)}1] {"ok":1}`, { maxTokens: 10 });
    assert.equal((out[0] as { error: string }).error, 'JSON token count limit exceeded');
    assert.deepEqual(JSON.parse(JSON.stringify(out[out.length - 1])), { value: { ok: 1 } });
  });

  test('parses tokens carried over many reads into one reused buffer, as a connection reader delivers them', () => {
    const long = 'b'.repeat(90_000);
    const input = Buffer.from(`{"s": "${long}", "n": 42} {"t": "${long.slice(7)}x"}{"u": "short"}`);
    const out: Output[] = [];
    const parser = new JsonStreamParser({ onValue: (value) => out.push({ value }), onError: (error) => out.push({ error }) });
    const reused = Buffer.alloc(4096);
    for (const size of [4096, 1000, 7]) {
      out.length = 0;
      for (let at = 0; at < input.length; at += size) {
        const read = input.copy(reused, 0, at, Math.min(at + size, input.length));
        assert.equal(parser.feed(reused.subarray(0, read)), read);
        // The reader reads into the same memory again: nothing fed before may be looked at later.
        reused.fill(0x7b);
      }
      assert.equal(out.length, 3, `reads of ${size} bytes`);
      const [first, second, third] = out.map((o) => ('value' in o ? (o.value as Record<string, unknown>) : {}));
      assert.ok(first!['s'] === long && first!['n'] === 42, `reads of ${size} bytes: first message`);
      assert.ok(second!['t'] === `${long.slice(7)}x`, `reads of ${size} bytes: second message`);
      assert.equal(third!['u'], 'short');
    }
  });

  test('waits for more input when a message is incomplete', () => {
    assert.deepEqual(parse('{"execute": "qmp_capa'), []);
  });

  test('keeps messages larger than its first token queue intact, and the ones after them', () => {
    const words = Array.from({ length: 5000 }, (_, i) => `w${i}-${'y'.repeat(i % 17)}`);
    const out = parse(`{"list": ${JSON.stringify(words)}, "n": [${'7,'.repeat(3000)}8]} {"after": 'small'}`);
    assert.equal(out.length, 2);
    const [big, small] = JSON.parse(JSON.stringify(out)) as [{ value: { list: string[]; n: number[] } }, { value: unknown }];
    assert.deepEqual(big.value.list, words);
    assert.equal(big.value.n.length, 3001);
    assert.deepEqual(small.value, { after: 'small' });
  });

  test('pause() from a callback ends feed() after that message; the rest fed later gives the same output', () => {
    const input = Buffer.from(`{"a": 1} ]\x01 [1, 2] {"b": "x\\"y"} 'unterminated ${'1,'.repeat(5)}]]] {"c": 3} 12 tr`, 'latin1');
    const whole = parse(input);
    for (const every of [1, 2, 3]) {
      const out: Output[] = [];
      let messages = 0;
      const parser = new JsonStreamParser({
        onValue: (value) => {
          out.push({ value });
          if (++messages % every === 0) parser.pause();
        },
        onError: (error) => {
          out.push({ error });
          if (++messages % every === 0) parser.pause();
        },
      });
      let rest = input;
      let feeds = 0;
      while (rest.length > 0) {
        const used = parser.feed(rest);
        assert.ok(used > 0 && used <= rest.length);
        rest = rest.subarray(used);
        feeds++;
      }
      assert.deepEqual(JSON.parse(JSON.stringify(out)), JSON.parse(JSON.stringify(whole)), `pausing every ${every} message(s)`);
      assert.ok(feeds >= Math.floor(whole.length / every), `${feeds} feeds for ${whole.length} messages`);
    }
  });

  test('a message cut off at the token count limit holds about 2 bytes a token', () => {
    // QEMU's limit is 2 Mi tokens; as one object and one Buffer view each, 1 Mi took 150 MiB of heap.
    const count = 1 << 20;
    const input = Buffer.from(`[${'1,'.repeat(count / 2)}1]`);
    const before = process.memoryUsage();
    const out: string[] = [];
    let peak = 0;
    const parser = new JsonStreamParser(
      {
        onValue: () => out.push('value'),
        onError: (error) => {
          if (out.length === 0) {
            const now = process.memoryUsage();
            peak = now.heapUsed + now.arrayBuffers - before.heapUsed - before.arrayBuffers;
          }
          out.push(error);
        },
      },
      { maxTokens: count },
    );
    parser.feed(input);
    // The token after the limit is refused with what was collected; the two after it are messages of their own.
    assert.deepEqual(out, ['JSON token count limit exceeded', 'value', 'JSON parse error, expecting value']);
    assert.ok(peak < 16 << 20, `${(peak / 2 ** 20).toFixed(1)} MiB held for ${count} tokens`);
  });
});
