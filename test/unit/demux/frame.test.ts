import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { suite, test } from 'node:test';
import * as zlib from 'node:zlib';
import fc from 'fast-check';
import { FrameType, HEADER_SIZE } from '../../../src/demux/codes.js';
import { crc32 } from '../../../src/demux/crc32.js';
import { encodeFrame, FrameDecoder, type FrameHeader } from '../../../src/demux/frame.js';

interface Seen {
  frames: { type: number; channel: number; payload: Buffer }[];
  garbage: number;
  oversize: FrameHeader[];
  corrupt: FrameHeader[];
}

function decoder(maxPayload = 1024): { decoder: FrameDecoder; seen: Seen } {
  const seen: Seen = { frames: [], garbage: 0, oversize: [], corrupt: [] };
  return {
    seen,
    decoder: new FrameDecoder(
      {
        frame: (header, payload) => seen.frames.push({ type: header.type, channel: header.channel, payload: Buffer.from(payload) }),
        garbage: (count) => (seen.garbage += count),
        oversize: (header) => seen.oversize.push(header),
        corrupt: (header) => seen.corrupt.push(header),
      },
      maxPayload,
    ),
  };
}

const zlibCrc = (bytes: Uint8Array): number => (zlib as unknown as { crc32(data: Uint8Array): number }).crc32(bytes);

suite('demux frames', () => {
  test('CRC-32 is zlib\'s: the check value of "123456789" and random buffers of every length up to 100', () => {
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    for (let length = 0; length <= 100; length++) {
      const bytes = randomBytes(length);
      assert.equal(crc32(bytes), zlibCrc(bytes), `length ${length}`);
    }
  });

  test('the header is laid out as the protocol document says: magic, type, flags, channel, length, payload CRC, header CRC, big-endian', () => {
    const frame = Buffer.from(encodeFrame(FrameType.DATA, 0, 0x01020304, Buffer.from('hi')));
    assert.deepEqual([...frame.subarray(0, 12)], [0xcd, 0xd3, 0x05, 0x00, 1, 2, 3, 4, 0, 0, 0, 2]);
    assert.equal(frame.readUInt32BE(12), zlibCrc(Buffer.from('hi')));
    assert.equal(frame.readUInt32BE(16), zlibCrc(frame.subarray(0, 16)));
    assert.equal(frame.subarray(HEADER_SIZE).toString(), 'hi');
  });

  test('frames pushed in pieces of any size come out whole and in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 600 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1 }),
        (payloads, cuts) => {
          const stream = Buffer.concat(payloads.map((payload, i) => encodeFrame(FrameType.DATA, 0, i + 1, payload)));
          const { decoder: d, seen } = decoder();
          for (let at = 0, i = 0; at < stream.length; i++) {
            const size = cuts[i % cuts.length]!;
            d.push(stream.subarray(at, at + size));
            at += size;
          }
          assert.deepEqual(
            seen.frames.map((f) => [f.channel, f.payload]),
            payloads.map((payload, i) => [i + 1, Buffer.from(payload)]),
          );
          assert.equal(seen.garbage, 0);
        },
      ),
      { numRuns: 200, seed: 7 },
    );
  });

  test('garbage before and between frames is skipped and counted; the frames around it survive', () => {
    const { decoder: d, seen } = decoder();
    // Garbage that contains the magic and a header-looking start.
    const noise = Buffer.from([0xcd, 0xd3, 1, 2, 3, 0xcd, 0x00, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9]);
    d.push(Buffer.concat([noise, encodeFrame(FrameType.DATA, 0, 1, Buffer.from('one')), noise, encodeFrame(FrameType.DATA, 0, 3, Buffer.from('two'))]));
    assert.deepEqual(
      seen.frames.map((f) => f.payload.toString()),
      ['one', 'two'],
    );
    assert.equal(seen.garbage, 2 * noise.length);
  });

  test('a frame longer than the limit is reported and skipped unread, even in pieces; a corrupted payload is reported and dropped', () => {
    const { decoder: d, seen } = decoder(1024);
    const big = encodeFrame(FrameType.DATA, 0, 5, randomBytes(5000));
    const bad = Buffer.from(encodeFrame(FrameType.DATA, 0, 7, Buffer.from('corrupt me')));
    bad[HEADER_SIZE + 2] = bad[HEADER_SIZE + 2]! ^ 0xff;
    const stream = Buffer.concat([big, bad, encodeFrame(FrameType.DATA, 0, 9, Buffer.from('after'))]);
    for (let at = 0; at < stream.length; at += 333) d.push(stream.subarray(at, at + 333));
    assert.deepEqual(
      seen.oversize.map((h) => [h.channel, h.length]),
      [[5, 5000]],
    );
    assert.deepEqual(
      seen.corrupt.map((h) => h.channel),
      [7],
    );
    assert.deepEqual(
      seen.frames.map((f) => f.payload.toString()),
      ['after'],
    );
    assert.equal(seen.garbage, 0);
  });
});
