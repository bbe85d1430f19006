import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { ClientReplyReader } from '../../../src/client/reply-reader.js';

function reader(): { feed(text: string | Buffer): void; messages: unknown[]; errors: string[] } {
  const messages: unknown[] = [];
  const errors: string[] = [];
  const r = new ClientReplyReader({ onMessage: (m) => messages.push(m), onError: (e) => errors.push(e) }, 1024);
  return { feed: (text) => r.feed(typeof text === 'string' ? Buffer.from(text) : text), messages, errors };
}

suite('ClientReplyReader', () => {
  test('reads CRLF-terminated compact messages, whole, several per chunk, or split anywhere', () => {
    const r = reader();
    const wire = '{"return": {}, "id": 1}\r\n{"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 2}}\r\n{"return": "h\\u00E9", "id": 2}\r\n';
    for (let i = 0; i < wire.length; i += 7) r.feed(wire.slice(i, i + 7));
    assert.deepEqual(r.messages, [
      { return: {}, id: 1 },
      { event: 'STOP', timestamp: { seconds: 1, microseconds: 2 } },
      { return: 'hé', id: 2 },
    ]);
    assert.deepEqual(r.errors, []);
  });

  test('a multi-byte character split between chunks survives', () => {
    const r = reader();
    const bytes = Buffer.from('{"return": "é"}\n');
    r.feed(bytes.subarray(0, 13));
    r.feed(bytes.subarray(13));
    assert.deepEqual(r.messages, [{ return: 'é' }]);
  });

  test('integers beyond 2^53 stay exact, and integral doubles become numbers', () => {
    const r = reader();
    r.feed('{"return": {"big": 18446744073709551615, "neg": -9223372036854775808, "d": 1.0}}\r\n');
    assert.deepEqual(r.messages, [{ return: { big: 18446744073709551615n, neg: -9223372036854775808n, d: 1 } }]);
    assert.equal(Object.getPrototypeOf(r.messages[0]), Object.prototype, 'an ordinary object');
  });

  test('pretty-printed output (-qmp-pretty) switches to the streaming parser and loses nothing', () => {
    const r = reader();
    r.feed('{\r\n    "QMP": {\r\n        "capabilities": [\r\n        ]\r\n    }\r\n}\r\n{\r\n    "return": {\r\n    }\r\n}\r\n');
    r.feed('{"return": 5}\r\n');
    assert.deepEqual(r.messages, [{ QMP: { capabilities: [] } }, { return: {} }, { return: 5 }]);
  });

  test('a member named __proto__ is data on both paths', () => {
    const r = reader();
    r.feed('{"return": {"__proto__": {"x": 1}}}\n{"return": {"__proto__": 12345678901234567890}}\n');
    for (const message of r.messages as { return: object }[]) {
      assert.ok(Object.hasOwn(message.return, '__proto__'));
      assert.equal(Object.getPrototypeOf(message.return), Object.prototype);
    }
  });

  test('text that cannot start a message is an error at once, newline or not (a login prompt)', () => {
    const r = reader();
    r.feed('login: ');
    assert.deepEqual(r.errors, ["JSON parse error, invalid keyword 'login'", 'JSON parse error, expecting value']);
    const blank = reader();
    blank.feed('\r\n  ');
    blank.feed(' {"return": {}}\r\n');
    assert.deepEqual(blank.messages, [{ return: {} }]);
    assert.deepEqual(blank.errors, []);
  });

  test('head keeps the first bytes, up to the number asked for', () => {
    const r = new ClientReplyReader({ onMessage: () => {}, onError: () => {} }, 1024, 8);
    r.feed(Buffer.from('{"return"'));
    r.feed(Buffer.from(': {}}\n'));
    assert.equal(r.head.toString(), '{"return');
  });

  test('an unterminated line longer than the limit is an error, not a growing buffer', () => {
    const r = reader();
    r.feed(`{"return": "${'x'.repeat(2000)}`);
    assert.deepEqual(r.errors, ['JSON token size limit exceeded']);
  });
});
