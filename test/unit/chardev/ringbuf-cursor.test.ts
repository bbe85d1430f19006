import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { ByteRing } from '../../../src/chardev/byte-ring.js';
import { readByCursor } from '../../../src/chardev/ringbuf-cursor.js';

function ring(capacity: number, ...writes: (string | number[])[]): ByteRing {
  const r = new ByteRing(capacity);
  for (const w of writes) r.write(typeof w === 'string' ? Buffer.from(w, 'utf8') : Uint8Array.from(w));
  return r;
}

suite('ringbuf-read-cursor', () => {
  test('reads from a cursor without consuming, and returns where to go on', () => {
    const r = ring(16, 'hello world');
    assert.deepEqual(readByCursor(r, 'r', { cursor: 6 }), { data: 'world', cursor: 11, lost: 0, start: 0, end: 11 });
    assert.deepEqual(readByCursor(r, 'r', { cursor: 0, size: 5 }), { data: 'hello', cursor: 5, lost: 0, start: 0, end: 11 });
    assert.deepEqual(readByCursor(r, 'r', { cursor: 11 }), { data: '', cursor: 11, lost: 0, start: 0, end: 11 });
    assert.equal(r.unread, 11, 'the destructive reader still has everything');
  });

  test('without a cursor it reads from the oldest byte held', () => {
    const r = ring(8, 'abcdefghij');
    assert.deepEqual(readByCursor(r, 'r', {}), { data: 'cdefghij', cursor: 10, lost: 0, start: 2, end: 10 });
  });

  test('across wrap-around: cursors stay absolute, and an overwritten stretch is counted as lost', () => {
    const r = ring(8, 'abcdefgh', 'ijkl');
    assert.deepEqual(readByCursor(r, 'r', { cursor: 0 }), { data: 'efghijkl', cursor: 12, lost: 4, start: 4, end: 12 });
    assert.deepEqual(readByCursor(r, 'r', { cursor: 3, size: 3 }), { data: 'efg', cursor: 7, lost: 1, start: 4, end: 12 });
    assert.deepEqual(readByCursor(r, 'r', { cursor: 6 }), { data: 'ghijkl', cursor: 12, lost: 0, start: 4, end: 12 });
    r.write(Buffer.from('mnopqrstuvwxyz'));
    // A reader that had got to 12 missed 6 bytes of the 14 written since.
    assert.deepEqual(readByCursor(r, 'r', { cursor: 12 }), { data: 'stuvwxyz', cursor: 26, lost: 6, start: 18, end: 26 });
  });

  test('a reader following by cursor sees every byte exactly once while it keeps up', () => {
    const r = new ByteRing(16);
    let cursor = 0;
    let seen = '';
    for (let i = 0; i < 50; i++) {
      r.write(Buffer.from(`line ${i}\n`));
      const reply = readByCursor(r, 'r', { cursor, size: 7 });
      seen += reply.data;
      assert.equal(reply.lost, 0);
      cursor = reply.cursor;
      // Catch up with what the small size left behind.
      for (let more = readByCursor(r, 'r', { cursor }); more.data !== ''; more = readByCursor(r, 'r', { cursor })) {
        seen += more.data;
        cursor = more.cursor;
      }
    }
    assert.equal(seen, Array.from({ length: 50 }, (_, i) => `line ${i}\n`).join(''));
  });

  test('destructive ringbuf-read and cursor reads do not disturb each other', () => {
    const r = ring(8, 'abcdef');
    assert.equal(Buffer.from(r.read(4)).toString(), 'abcd');
    // Consumed bytes are still there for cursor readers until they are overwritten.
    assert.deepEqual(readByCursor(r, 'r', { cursor: 0 }), { data: 'abcdef', cursor: 6, lost: 0, start: 0, end: 6 });
    assert.equal(Buffer.from(r.read(10)).toString(), 'ef');
  });

  test('utf8 never cuts a character at the size limit: the cursor stops at its first byte', () => {
    const r = ring(64, 'a€b'); // € is E2 82 AC
    assert.deepEqual(readByCursor(r, 'r', { cursor: 0, size: 2 }), { data: 'a', cursor: 1, lost: 0, start: 0, end: 5 });
    assert.deepEqual(readByCursor(r, 'r', { cursor: 0, size: 3 }), { data: 'a', cursor: 1, lost: 0, start: 0, end: 5 });
    assert.deepEqual(readByCursor(r, 'r', { cursor: 1, size: 3 }), { data: '€', cursor: 4, lost: 0, start: 0, end: 5 });
    assert.deepEqual(readByCursor(r, 'r', { cursor: 0, size: 4 }), { data: 'a€', cursor: 4, lost: 0, start: 0, end: 5 });
    const emoji = ring(64, 'x😀'); // F0 9F 98 80
    for (const size of [2, 3, 4]) assert.equal(readByCursor(emoji, 'r', { cursor: 0, size }).cursor, 1);
    assert.equal(readByCursor(emoji, 'r', { cursor: 0, size: 5 }).data, 'x😀');
  });

  test('utf8 holds back a character whose last bytes are not written yet, and returns it whole later', () => {
    const r = ring(64, [0x78, 0xe2, 0x82]);
    assert.deepEqual(readByCursor(r, 'r', { cursor: 0 }), { data: 'x', cursor: 1, lost: 0, start: 0, end: 3 });
    assert.deepEqual(readByCursor(r, 'r', { cursor: 1 }), { data: '', cursor: 1, lost: 0, start: 0, end: 3 });
    r.write(Uint8Array.from([0xac]));
    assert.deepEqual(readByCursor(r, 'r', { cursor: 1 }), { data: '€', cursor: 4, lost: 0, start: 0, end: 4 });
  });

  test('utf8: a size too small for the one character at the cursor is an error, not a reply that never advances', () => {
    const r = ring(64, '€');
    assert.throws(() => readByCursor(r, 'r', { cursor: 0, size: 2 }), { message: "size 2 is too small for the 3-byte character at cursor 0 of 'r'" });
  });

  test('utf8: invalid bytes come out as U+FFFD and are never held back; NUL is U+0000', () => {
    assert.equal(readByCursor(ring(64, [0xff, 0x61]), 'r', {}).data, '\uFFFDa');
    // E2 followed by a letter is no character: nothing to wait for.
    assert.deepEqual(readByCursor(ring(64, [0x61, 0xe2, 0x62]), 'r', { size: 2 }), { data: 'a\uFFFD', cursor: 2, lost: 0, start: 0, end: 3 });
    assert.equal(readByCursor(ring(64, [0x61, 0x00, 0x62]), 'r', {}).data, 'a\u0000b');
    // The ring's oldest bytes can be the tail of an overwritten character.
    const cut = ring(4, 'a€', 'bc');
    assert.deepEqual(readByCursor(cut, 'r', { cursor: 0 }), { data: '\uFFFD\uFFFDbc', cursor: 6, lost: 2, start: 2, end: 6 });
  });

  test('base64 returns the exact bytes, cut anywhere', () => {
    const r = ring(8, [0x00, 0xff, 0xe2, 0x82, 0xac, 0x10]);
    assert.deepEqual(readByCursor(r, 'r', { cursor: 1, size: 2, format: 'base64' }), {
      data: Buffer.from([0xff, 0xe2]).toString('base64'),
      cursor: 3,
      lost: 0,
      start: 0,
      end: 6,
    });
    r.write(Buffer.from('abcd'));
    assert.deepEqual(readByCursor(r, 'r', { cursor: 0, format: 'base64' }), {
      data: Buffer.from([0xe2, 0x82, 0xac, 0x10, 0x61, 0x62, 0x63, 0x64]).toString('base64'),
      cursor: 10,
      lost: 2,
      start: 2,
      end: 10,
    });
  });

  test('refuses a cursor beyond the end, a negative or inexact cursor, and a size that is not positive', () => {
    const r = ring(8, 'abc');
    assert.throws(() => readByCursor(r, 'r', { cursor: 4 }), { message: "cursor 4 is beyond the end of 'r' (3 bytes written)" });
    assert.throws(() => readByCursor(r, 'r', { cursor: -1 }), { message: 'cursor must be between 0 and 9007199254740991' });
    assert.throws(() => readByCursor(r, 'r', { cursor: 2 ** 53 }), { message: 'cursor must be between 0 and 9007199254740991' });
    assert.throws(() => readByCursor(r, 'r', { cursor: 0, size: 0 }), { message: 'size must be greater than zero' });
    assert.throws(() => readByCursor(r, 'r', { cursor: 0, size: -3 }), { message: 'size must be greater than zero' });
  });
});
