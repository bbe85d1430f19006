import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { JsonDouble } from '../../../src/qobject/json-double.js';
import { JsonStreamParser } from '../../../src/qobject/json-stream-parser.js';
import type { JsonValue } from '../../../src/qobject/json-value.js';
import { formatDouble, formatQmpJson } from '../../../src/qobject/json-writer.js';

// Expected strings are what QEMU 7.2 printed for the same values.
suite('formatQmpJson', () => {
  test("prints the compact form with QEMU's separators and member order", () => {
    assert.equal(
      formatQmpJson({ return: { qemu: { major: 7, minor: 2, micro: 22 }, package: '' }, id: 1 }),
      '{"return": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": ""}, "id": 1}',
    );
    assert.equal(formatQmpJson({ error: { class: 'GenericError', desc: 'x' }, id: [1, {}] }), '{"id": [1, {}], "error": {"class": "GenericError", "desc": "x"}}');
    assert.equal(formatQmpJson([]), '[]');
  });

  test('escapes to ASCII with uppercase hex and surrogate pairs', () => {
    assert.equal(formatQmpJson('é\u0001\u007f😀"\\/\b\f\n\r\t'), '"\\u00E9\\u0001\\u007F\\uD83D\\uDE00\\"\\\\/\\b\\f\\n\\r\\t"');
    assert.equal(formatQmpJson('a\0b'), '"a\\u0000b"');
  });

  test("prints what QEMU's UTF-8 decoder refuses as U+FFFD", () => {
    assert.equal(formatQmpJson('\ud800x\ufffe'), '"\\uFFFDx\\uFFFD"');
  });

  test('prints integers exactly and doubles as %.17g', () => {
    assert.equal(
      formatQmpJson([1500, new JsonDouble(1500), 0.1, 12345678901234567890n, new JsonDouble(-0), 1e20, Infinity, -Infinity]),
      '[1500, 1500, 0.10000000000000001, 12345678901234567890, -0, 1e+20, inf, -inf]',
    );
    assert.equal(formatDouble(123456789012345678901234), '1.2345678901234569e+23');
    assert.equal(formatDouble(1e-5), '1.0000000000000001e-05');
    assert.equal(formatDouble(0.0001), '0.0001');
    assert.equal(formatDouble(2.5), '2.5');
  });

  test('leaves out members whose value is undefined', () => {
    assert.equal(formatQmpJson({ a: 1, b: undefined } as unknown as JsonValue), '{"a": 1}');
  });

  test('prints the pretty form as -qmp-pretty does, empty containers on two lines', () => {
    assert.equal(formatQmpJson({ return: {}, id: [1, 2] }, true), '{\n    "return": {\n    },\n    "id": [\n        1,\n        2\n    ]\n}');
  });

  test('round-trips random values through the parser', () => {
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const gen = (depth: number): JsonValue => {
      const r = random();
      if (depth > 3 || r < 0.3) return [null, true, false, Math.floor(random() * 1e6) - 5e5, 'x\u00e9\n"' + String(random()), 0.5][Math.floor(random() * 6)]!;
      if (r < 0.6) return Array.from({ length: Math.floor(random() * 4) }, () => gen(depth + 1));
      const o: { [k: string]: JsonValue } = {};
      for (let i = 0; i < Math.floor(random() * 4); i++) o[`k${Math.floor(random() * 100)}`] = gen(depth + 1);
      return o;
    };
    for (let i = 0; i < 200; i++) {
      const value = gen(0);
      const parsed: JsonValue[] = [];
      new JsonStreamParser({ onValue: (v) => parsed.push(v), onError: (e) => assert.fail(e) }).feed(Buffer.from(`${formatQmpJson(value)} `)); // a bare number ends at the next byte
      assert.deepEqual(JSON.parse(JSON.stringify(parsed[0])), JSON.parse(JSON.stringify(value)));
    }
  });
});
