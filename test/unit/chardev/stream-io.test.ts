import assert from 'node:assert/strict';
import * as net from 'node:net';
import { suite, test, type TestContext } from 'node:test';
import { CLOSE_FLUSH_TIMEOUT_MS, OUTPUT_QUEUE_LIMIT, StreamOutput } from '../../../src/chardev/stream-io.js';

const WAIT_MS = 10_000;

/** A connected pair of loopback TCP sockets: `ours` is written through a StreamOutput, `peer` reads. */
async function socketPair(t: TestContext): Promise<{ ours: net.Socket; peer: net.Socket }> {
  const server = net.createServer({ pauseOnConnect: true });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const ours = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  ours.on('error', () => {});
  const peer = await accepted;
  peer.on('error', () => {});
  await new Promise((resolve) => (ours.connecting ? ours.once('connect', resolve) : resolve(undefined)));
  server.close();
  t.after(() => {
    ours.destroy();
    peer.destroy();
  });
  return { ours, peer };
}

/** Resolves when `done()` holds, checked at each `event` of `emitter`; fails after a bound. */
function until(emitter: NodeJS.EventEmitter, event: string, done: () => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (!done()) return;
      clearTimeout(timer);
      emitter.off(event, check);
      resolve();
    };
    const timer = setTimeout(() => {
      emitter.off(event, check);
      reject(new Error(`timed out waiting for ${what}`));
    }, WAIT_MS);
    emitter.on(event, check);
    check();
  });
}

/** Reads from `peer` until `length` bytes came; returns them. */
async function receive(peer: net.Socket, length: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let got = 0;
  peer.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    got += chunk.length;
  });
  peer.resume();
  await until(peer, 'data', () => got >= length, `${length} bytes at the peer (got ${got})`);
  return Buffer.concat(chunks);
}

/** A buffer whose content shows reordering or loss. */
function pattern(length: number, seed: number): Buffer {
  const data = Buffer.alloc(length);
  for (let i = 0; i < length; i++) data[i] = (i * 31 + seed) & 0xff;
  return data;
}

suite('StreamOutput: the capped output queue of stream backends', () => {
  test('a single write larger than OUTPUT_QUEUE_LIMIT on an idle stream is queued whole, reaches the peer, and drain follows', async (t) => {
    const { ours, peer } = await socketPair(t);
    let drains = 0;
    const output = new StreamOutput(ours, () => drains++);
    // More than the kernel's socket buffers take at once, so that most of it waits in the queue.
    const big = pattern(OUTPUT_QUEUE_LIMIT * 16 + 5, 1);
    assert.equal(ours.writableLength, 0, 'the stream is idle');
    assert.equal(output.write(big), false, 'the caller is told to wait');
    assert.equal(output.dropped, 0, 'nothing is dropped');
    const got = await receive(peer, big.length);
    assert.deepEqual(got, big);
    await until(ours, 'drain', () => drains === 1, 'drain');
    assert.equal(output.write(Buffer.from('after')), true, 'the stream takes more after drain');
  });

  test('while a drain is owed, writes beyond the limit are dropped and counted, and drain still comes', async (t) => {
    const { ours, peer } = await socketPair(t);
    let drains = 0;
    const output = new StreamOutput(ours, () => drains++);
    const chunk = pattern(64 * 1024, 2);
    let accepted = 0;
    // The peer reads nothing yet, so the queue grows until the cap refuses.
    while (output.dropped === 0) {
      output.write(chunk);
      if (output.dropped === 0) accepted += chunk.length;
    }
    assert.ok(ours.writableLength <= OUTPUT_QUEUE_LIMIT, `queued ${ours.writableLength}`);
    assert.equal(output.write(chunk), false);
    assert.equal(output.dropped, 2 * chunk.length);
    const got = await receive(peer, accepted);
    assert.equal(got.length, accepted, 'exactly the accepted bytes arrive');
    await until(ours, 'drain', () => drains === 1, 'drain after the refusal');
  });

  test('a stream that dies while a drain is owed wakes the writer once, through streamClosed()', async (t) => {
    const { ours, peer } = await socketPair(t);
    let drains = 0;
    const output = new StreamOutput(ours, () => drains++);
    ours.on('close', () => output.streamClosed());
    while (output.write(pattern(64 * 1024, 3)));
    peer.resetAndDestroy();
    await until(ours, 'close', () => ours.closed, 'our end to close');
    assert.equal(drains, 1);
    assert.equal(output.write(Buffer.from('late')), true, 'a write to the dead stream is dropped, not refused');
    assert.equal(output.dropped, 4);
    output.streamClosed();
    assert.equal(drains, 1, 'nothing more is owed');
  });

  test('close() delivers what is queued to a reading peer, then releases the socket', async (t) => {
    const { ours, peer } = await socketPair(t);
    const output = new StreamOutput(ours, () => {});
    const data = pattern(OUTPUT_QUEUE_LIMIT / 2, 4);
    output.write(data);
    const receiving = receive(peer, data.length);
    await output.close();
    assert.equal(ours.destroyed, true);
    assert.deepEqual(await receiving, data);
    assert.equal(output.dropped, 0);
  });

  test('close() gives a peer that never reads CLOSE_FLUSH_TIMEOUT_MS, then drops the rest and counts it', async (t) => {
    const { ours } = await socketPair(t);
    const output = new StreamOutput(ours, () => {});
    while (output.write(pattern(64 * 1024, 5)));
    assert.ok(ours.writableLength > 0, 'output is queued');
    const started = Date.now();
    await output.close();
    const took = Date.now() - started;
    assert.ok(took >= CLOSE_FLUSH_TIMEOUT_MS - 50 && took < CLOSE_FLUSH_TIMEOUT_MS + 5_000, `close took ${took} ms`);
    assert.equal(ours.destroyed, true);
    assert.ok(output.dropped > 0, 'what never left is counted');
  });
});
