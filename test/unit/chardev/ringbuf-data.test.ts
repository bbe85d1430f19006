import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { suite, test } from 'node:test';
import { encodeUtf8, qemuBase64Bytes } from '../../../src/chardev/ringbuf-data.js';

suite("qemuBase64Bytes: ringbuf-write's base64 as QEMU 7.2 decodes it", () => {
  test('what an encoder writes comes back byte for byte, with newlines anywhere (every length 0..300)', () => {
    for (let length = 0; length <= 300; length++) {
      const bytes = randomBytes(length);
      const text = bytes.toString('base64');
      assert.deepEqual(qemuBase64Bytes(text), bytes);
      const wrapped = text.replace(/(.{7})/g, '$1\n');
      assert.deepEqual(qemuBase64Bytes(wrapped), bytes, JSON.stringify(wrapped));
    }
  });

  test('a long text decodes the same in pieces as at once (several 64 KiB pieces of base64)', () => {
    const bytes = randomBytes(150_001);
    assert.deepEqual(qemuBase64Bytes(bytes.toString('base64')), bytes);
  });

  // Each expected value is what QEMU 7.2 stores for the same ringbuf-write (checked with ringbuf-read in base64).
  test("GLib's leniency: an incomplete last group is dropped, '=' inside a group counts as zero bits", () => {
    assert.deepEqual(qemuBase64Bytes('QQ'), Buffer.alloc(0));
    assert.deepEqual(qemuBase64Bytes('QUJDRA'), Buffer.from('ABC'));
    assert.deepEqual(qemuBase64Bytes('QUI='), Buffer.from('AB'));
    assert.deepEqual(qemuBase64Bytes('QQ=A'), Buffer.from([0x41, 0x00]));
    assert.deepEqual(qemuBase64Bytes('=QUJ'), Buffer.from([1, 5, 9]));
    assert.deepEqual(qemuBase64Bytes('QR=='), Buffer.from('A'));
    assert.deepEqual(qemuBase64Bytes('\n\n'), Buffer.alloc(0));
  });

  test("any other character is refused with QEMU's message", () => {
    for (const text of ['QUJD!', 'QU JD', 'QUJD\r\n', 'Q\u00e9']) {
      assert.throws(() => qemuBase64Bytes(text), { message: 'Base64 data contains invalid characters' });
    }
  });
});

suite("encodeUtf8: ringbuf-write's utf8 data", () => {
  const encoded = (text: string): Buffer => {
    const pieces: Buffer[] = [];
    encodeUtf8(text, (bytes) => pieces.push(Buffer.from(bytes)));
    return Buffer.concat(pieces);
  };

  test('gives the UTF-8 bytes of the text: NUL, non-ASCII, astral and lone surrogates included', () => {
    for (const text of ['', 'a', 'a\u0000b', 'é€', '\u{1F600}x', '\uD800', 'x\uDC00y']) {
      assert.deepEqual(encoded(text), Buffer.from(text, 'utf8'), JSON.stringify(text));
    }
  });

  test('texts around the scratch buffer size encode whole (16,383 to 16,385 three-byte characters, and astral ones)', () => {
    for (const length of [16_383, 16_384, 16_385]) {
      const text = '€'.repeat(length);
      assert.ok(encoded(text).equals(Buffer.from(text, 'utf8')), `${length} characters`);
    }
    const astral = '\u{1F600}'.repeat(12_300);
    assert.ok(encoded(astral).equals(Buffer.from(astral, 'utf8')), 'astral characters');
  });
});
