import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, before, suite, test } from 'node:test';
import { type ServerProcess, startChardevd } from '../support/servers.js';

const WAIT_MS = 15_000;
const RING = 65536;

/** A QMP connection whose writes the test cuts itself, reading reply lines. */
class LineConnection {
  readonly #lines: string[] = [];
  #partial = '';
  #wake: (() => void) | undefined;

  constructor(readonly socket: Socket) {
    socket.setEncoding('latin1').on('data', (text: string) => {
      const parts = (this.#partial + text).split('\r\n');
      this.#partial = parts.pop()!;
      this.#lines.push(...parts);
      this.#wake?.();
    });
  }

  /** The next `count` lines, waiting at most WAIT_MS. */
  async take(count: number): Promise<unknown[]> {
    const deadline = Date.now() + WAIT_MS;
    while (this.#lines.length < count) {
      if (Date.now() > deadline) throw new Error(`${this.#lines.length} of ${count} reply lines after ${WAIT_MS} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.#lines.splice(0, count).map((line) => JSON.parse(line) as unknown);
  }

  /** Writes `bytes` in pieces of `size`, each once the last one was handed to the kernel. */
  async writeInPieces(bytes: Buffer, size: number): Promise<void> {
    for (let at = 0; at < bytes.length; at += size) {
      await new Promise<void>((resolve, reject) => this.socket.write(bytes.subarray(at, at + size), (error) => (error ? reject(error) : resolve())));
    }
  }
}

/**
 * How the daemon assembles QMP requests from what it reads: a request cut
 * across many reads, many requests in one read, and a string longer than
 * one read (a whole ring's base64) carried over reads.
 */
suite('QMP input over many reads', () => {
  let daemon: ServerProcess;
  let qmp: LineConnection;

  before(async () => {
    daemon = await startChardevd(['-chardev', `ringbuf,id=r,size=${RING}`]);
    const socket = connect(daemon.qmpPath);
    await once(socket, 'connect');
    qmp = new LineConnection(socket);
    await qmp.take(1); // greeting
    socket.write('{"execute": "qmp_capabilities"}');
    assert.deepEqual(await qmp.take(1), [{ return: {} }]);
  });

  after(async () => {
    qmp?.socket.destroy();
    await daemon?.stop();
  });

  test('a ringbuf-write longer than the ring, cut into 1,000-byte writes, leaves the ring holding its last 64 KiB', async () => {
    const data = Buffer.alloc(RING + 1000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 9)) & 0xff;
    const request = Buffer.from(`{"execute": "ringbuf-write", "arguments": {"device": "r", "format": "base64", "data": "${data.toString('base64')}"}, "id": "w"}`);
    await qmp.writeInPieces(request, 1000);
    assert.deepEqual(await qmp.take(1), [{ return: {}, id: 'w' }]);
    qmp.socket.write(`{"execute": "ringbuf-read", "arguments": {"device": "r", "size": ${RING}, "format": "base64"}, "id": "r"}`);
    const [reply] = (await qmp.take(1)) as [{ return: string; id: string }];
    assert.equal(reply.id, 'r');
    assert.ok(Buffer.from(reply.return, 'base64').equals(data.subarray(1000)), 'the ring holds the last 64 KiB written, oldest first');
  });

  test('answers each of 300 requests sent in one write, in order', async () => {
    const requests = Array.from({ length: 300 }, (_, i) => `{"execute": "ringbuf-write", "arguments": {"device": "r", "data": "${i},"}, "id": ${i}}`);
    qmp.socket.write(requests.join(''));
    const replies = await qmp.take(300);
    assert.deepEqual(
      replies,
      Array.from({ length: 300 }, (_, i) => ({ return: {}, id: i })),
    );
    qmp.socket.write('{"execute": "ringbuf-read", "arguments": {"device": "r", "size": 100000}}');
    const [read] = (await qmp.take(1)) as [{ return: string }];
    assert.ok(read.return.endsWith('297,298,299,'), 'the writes went in in order');
  });

  test('four whole-ring ringbuf-writes sent in one write, parsed over many turns, each reach their ring intact', async () => {
    const rings = ['q0', 'q1', 'q2', 'q3'];
    for (const id of rings) qmp.socket.write(`{"execute": "chardev-add", "arguments": {"id": "${id}", "backend": {"type": "ringbuf", "data": {"size": ${RING}}}}}`);
    assert.deepEqual(
      await qmp.take(rings.length),
      rings.map(() => ({ return: {} })),
    );
    const contents = rings.map((_, n) => Buffer.from(Array.from({ length: RING }, (_, i) => (i * 13 + n * 101 + (i >> 8)) & 0xff)));
    // About 350 KB at once: more than one read, and each request more than a turn's parsing.
    qmp.socket.write(
      rings.map((id, n) => `{"execute": "ringbuf-write", "arguments": {"device": "${id}", "format": "base64", "data": "${contents[n]!.toString('base64')}"}}`).join(''),
    );
    assert.deepEqual(
      await qmp.take(rings.length),
      rings.map(() => ({ return: {} })),
    );
    for (const [n, id] of rings.entries()) {
      qmp.socket.write(`{"execute": "ringbuf-read", "arguments": {"device": "${id}", "size": ${RING}, "format": "base64"}}`);
      const [reply] = (await qmp.take(1)) as [{ return: string }];
      assert.ok(Buffer.from(reply.return, 'base64').equals(contents[n]!), `ring ${id} holds what was written to it`);
    }
  });
});
