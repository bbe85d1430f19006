import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, suite, test, type TestContext } from 'node:test';
import { Chardev, type ChardevFrontend } from '../../../src/chardev/chardev.js';
import { READ_BUFFER_INITIAL, READ_BUFFER_MAX, ReadBuffer, type ReadLease } from '../../../src/chardev/read-buffer.js';
import { readIntoBuffer } from '../../../src/chardev/socket-reader.js';
import { StreamOutput } from '../../../src/chardev/stream-io.js';
import { waitFor } from '../../support/peer-process.js';
import { sameBytes } from '../../support/same-bytes.js';

const WAIT_MS = 10_000;
const dir = fs.mkdtempSync(join(tmpdir(), 'chardevd-read-buffer-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let pairs = 0;

/** Deterministic bytes that differ from chunk to chunk, so that a reused buffer shows in the output. */
function fill(target: Buffer, seed: number): void {
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < target.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    target[i] = x & 0xff;
  }
}

/** A connected pair of unix sockets: `accepted` as a server accepts it (paused), `client` the peer. */
async function socketPair(t: TestContext): Promise<{ accepted: net.Socket; client: net.Socket }> {
  const server = net.createServer({ pauseOnConnect: true });
  const path = join(dir, `pair-${pairs++}.sock`);
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const client = net.connect(path);
  client.on('error', () => {});
  const socket = await accepted;
  socket.on('error', () => {});
  await new Promise((resolve) => (client.connecting ? client.once('connect', resolve) : resolve(undefined)));
  server.close();
  t.after(() => {
    client.destroy();
    socket.destroy();
  });
  return { accepted: socket, client };
}

/** A chardev whose test plays its reader: `push()` lends input as a socket's read does. */
class LentInputChardev extends Chardev {
  readonly kind = 'null';
  readonly filename = 'lent';

  async open(): Promise<void> {
    this.setOpen(true);
  }

  push(data: Buffer, lease: ReadLease): void {
    this.receive(data, lease);
  }

  protected writeToBackend(): boolean {
    return true;
  }

  protected async closeBackend(): Promise<void> {}
}

/** A frontend that keeps the buffers it is given, uncopied, and takes `capacity` bytes until told otherwise. */
class KeepingFrontend implements ChardevFrontend {
  readonly frontendOpen = true;
  readonly got: Buffer[] = [];
  capacity = Number.MAX_SAFE_INTEGER;

  receiveCapacity(): number {
    return this.capacity;
  }

  receive(data: Buffer): void {
    this.capacity -= data.length;
    this.got.push(data);
  }

  event(): void {}
}

suite('lent input: a reader reuses its buffer, and whoever keeps bytes copies or keeps the buffer', () => {
  test('the next read goes into the same buffer unless a consumer kept it; a buffer every keeper gave back is used again', () => {
    const reader = new ReadBuffer();
    const first = reader.next(0);
    assert.equal(first.length, READ_BUFFER_INITIAL);
    assert.equal(reader.next(10), first, 'nobody kept it: the same buffer');
    const releaseA = reader.keep();
    const releaseB = reader.keep();
    const second = reader.next(10);
    assert.notEqual(second, first, 'kept: another buffer');
    releaseA();
    releaseA();
    reader.keep();
    assert.notEqual(reader.next(10), first, 'one keeper still holds the first buffer: it is not used again');
    releaseB();
    reader.keep();
    assert.equal(reader.next(10), first, 'both keepers gave it back: the first buffer is the spare');
  });

  test('the buffer starts at READ_BUFFER_INITIAL and grows to READ_BUFFER_MAX once a read fills it', () => {
    const reader = new ReadBuffer();
    const small = reader.next(0);
    assert.equal(reader.next(small.length - 1).length, READ_BUFFER_INITIAL);
    const large = reader.next(small.length);
    assert.equal(large.length, READ_BUFFER_MAX);
    assert.equal(reader.next(large.length), large, 'it grows no further');
  });

  test('input the frontend does not take at once is kept, and reaches it intact after the reader read into its buffer again', async () => {
    const chardev = new LentInputChardev('lent');
    await chardev.open();
    const frontend = new KeepingFrontend();
    frontend.capacity = 10;
    chardev.attach(frontend);
    const reader = new ReadBuffer();
    const buffer = reader.next(0);
    fill(buffer, 1);
    const expected = Buffer.from(buffer.subarray(0, 100));
    chardev.push(buffer.subarray(0, 100), reader);
    fill(reader.next(100), 2);
    frontend.capacity = Number.MAX_SAFE_INTEGER;
    chardev.acceptInput();
    sameBytes(Buffer.concat(frontend.got), expected, 'the input');
    await chardev.close();
  });

  test("a frontend that does not take lent input gets a copy, which the reader's next read does not touch", async () => {
    const chardev = new LentInputChardev('lent');
    await chardev.open();
    const frontend = new KeepingFrontend();
    chardev.attach(frontend);
    const reader = new ReadBuffer();
    const buffer = reader.next(0);
    fill(buffer, 3);
    const expected = Buffer.from(buffer.subarray(0, 50));
    chardev.push(buffer.subarray(0, 50), reader);
    assert.equal(reader.next(50), buffer, 'nothing was kept: the reader reads into the same buffer');
    fill(buffer, 4);
    sameBytes(Buffer.concat(frontend.got), expected, 'the input');
    await chardev.close();
  });

  test('lent output to a peer that reads slowly arrives intact although the reader reuses its buffer after every write', async (t) => {
    const { accepted, client } = await socketPair(t);
    let drains = 0;
    const output = new StreamOutput(accepted, () => drains++);
    const reader = new ReadBuffer();
    let kept = 0;
    const lease: ReadLease = {
      keep: () => {
        kept++;
        return reader.keep();
      },
    };
    const sent = createHash('sha256');
    const received = createHash('sha256');
    let receivedBytes = 0;
    // A slow reader: it reads only while the writer waits for drain.
    client.pause();
    client.on('data', (data: Buffer) => {
      received.update(data);
      receivedBytes += data.length;
    });
    let sentBytes = 0;
    let read = 0;
    for (let i = 0; i < 400; i++) {
      const buffer = reader.next(read);
      read = 1 + ((i * 7919) % buffer.length);
      fill(buffer.subarray(0, read), i + 10);
      sent.update(buffer.subarray(0, read));
      sentBytes += read;
      if (!output.write(buffer.subarray(0, read), lease)) {
        const owed = drains;
        client.resume();
        await waitFor(() => drains > owed, 'drain', WAIT_MS, 1);
        client.pause();
      }
    }
    client.resume();
    await waitFor(() => receivedBytes >= sentBytes, 'every byte at the peer', WAIT_MS, 5);
    assert.equal(receivedBytes, sentBytes);
    assert.equal(output.dropped, 0);
    assert.equal(received.digest('hex'), sent.digest('hex'), 'the bytes, in order');
    assert.ok(kept > 0, 'some writes did not complete at once, so the reader gave up its buffer for them');
  });

  test('a socket a server accepted reads into a reused buffer, pauses and resumes, and ends and closes as before', async (t) => {
    const { accepted, client } = await socketPair(t);
    const buffers = new Set<ArrayBufferLike>();
    const input: Buffer[] = [];
    const socket = readIntoBuffer(accepted, (data, lease) => {
      assert.ok(lease !== undefined, 'the input is lent');
      buffers.add(data.buffer);
      input.push(Buffer.from(data));
    });
    let ended = false;
    let closed = false;
    socket.on('end', () => {
      ended = true;
    });
    socket.on('close', () => {
      closed = true;
    });
    client.write('while paused');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(input.length, 0, 'nothing is read while paused');
    socket.resume();
    await waitFor(() => Buffer.concat(input).toString() === 'while paused', 'the input', WAIT_MS, 5);
    for (let i = 0; i < 20; i++) {
      client.write(`chunk ${i};`);
      await waitFor(() => Buffer.concat(input).toString().endsWith(`chunk ${i};`), `chunk ${i}`, WAIT_MS, 1);
    }
    assert.equal(buffers.size, 1, 'every read went into the same buffer');
    socket.write('reply');
    const reply = await new Promise<Buffer>((resolve) => client.once('data', resolve));
    assert.equal(reply.toString(), 'reply');
    client.end();
    await waitFor(() => ended && closed, 'end and close', WAIT_MS, 5);
  });
});
