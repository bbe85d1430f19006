import assert from 'node:assert/strict';
import { closeSync, fstatSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, suite, test } from 'node:test';
import { FdReceiver, fdPassingUnavailable, type ReceivedMessage, sendWithFds, socketFd } from '../../../src/base/fd-passing.js';

const WAIT_MS = 10_000;

/** A connected pair: `client` is Node's, `accepted` was never read by Node (accepted paused). */
interface Pair {
  readonly client: Socket;
  readonly accepted: Socket;
}

/** Messages a receiver handed over: each copied at once, and the views themselves as handed. */
class Collected {
  readonly copies: Buffer[] = [];
  readonly views: Buffer[] = [];
  readonly fds: number[] = [];
  ended = false;
  #wake: (() => void) | undefined;

  take(message: ReceivedMessage): void {
    if (message.data.length === 0) this.ended = true;
    this.copies.push(Buffer.from(message.data));
    this.views.push(message.data);
    this.fds.push(...message.fds);
    this.#wake?.();
  }

  get bytes(): Buffer {
    return Buffer.concat(this.copies);
  }

  /** Waits, bounded, until `done()` holds. */
  async until(done: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 100));
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }
}

/** A few turns of the event loop: a poll with input waiting would have run in them. */
async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

suite('FdReceiver: recvmsg() into a buffer the caller keeps', { skip: fdPassingUnavailable }, () => {
  let dir: string;
  let server: Server;
  const accepted: Socket[] = [];
  const open: Socket[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chardevd-fd-receiver-'));
    server = createServer({ pauseOnConnect: true }, (socket) => accepted.push(socket));
    await new Promise<void>((resolve) => server.listen(join(dir, 's.sock'), resolve));
  });

  after(async () => {
    for (const socket of open) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  async function pair(): Promise<Pair> {
    const count = accepted.length;
    const client = connect(join(dir, 's.sock'));
    await new Promise<void>((resolve, reject) => client.once('connect', resolve).once('error', reject));
    const deadline = Date.now() + WAIT_MS;
    while (accepted.length === count) {
      if (Date.now() > deadline) throw new Error('the server accepted nothing');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const socket = accepted[count]!;
    open.push(client, socket);
    return { client, accepted: socket };
  }

  /** A connected pair whose accepted end a receiver with a buffer of `bytes` reads, reading on. */
  async function reading(bytes: number): Promise<{ client: Socket; collected: Collected; reader: FdReceiver }> {
    const { client, accepted: socket } = await pair();
    const collected = new Collected();
    const reader = FdReceiver.open(
      socket,
      4,
      Buffer.alloc(bytes),
      (message) => collected.take(message),
      (error) => assert.fail(error),
    );
    assert.ok(reader !== undefined, 'a receiver for a unix socket');
    reader.setReading(true);
    return { client, collected, reader };
  }

  test('descriptors arrive with the bytes they were sent with', async () => {
    const { client, collected, reader } = await reading(64);
    const passed = openSync('/dev/null', 'r');
    try {
      sendWithFds(socketFd(client)!, Buffer.from('with a descriptor'), [passed]);
    } finally {
      closeSync(passed);
    }
    await collected.until(() => collected.fds.length > 0, 'the descriptor');
    assert.equal(collected.bytes.toString(), 'with a descriptor');
    assert.equal(collected.fds.length, 1);
    assert.ok(fstatSync(collected.fds[0]!).isCharacterDevice(), 'the descriptor is an open /dev/null');
    closeSync(collected.fds[0]!);
    reader.close();
  });

  test('input longer than the buffer arrives whole, in pieces no longer than the buffer', async () => {
    const { client, collected, reader } = await reading(16);
    const sent = Buffer.from(Array.from({ length: 1000 }, (_, i) => i & 0xff));
    client.write(sent);
    await collected.until(() => collected.bytes.length >= sent.length, 'all the bytes');
    assert.ok(collected.bytes.equals(sent), 'the bytes in order');
    assert.ok(
      collected.copies.every((piece) => piece.length > 0 && piece.length <= 16),
      'no piece longer than the buffer',
    );
    reader.close();
  });

  test('a view handed over is not read into while reading is off; the next read reuses the buffer', async () => {
    const { client, accepted: socket } = await pair();
    const collected = new Collected();
    const buffer = Buffer.alloc(64);
    let reader: FdReceiver | undefined;
    // The consumer keeps the view and turns reading off, as a QMP session does with input it has not parsed.
    const made = FdReceiver.open(
      socket,
      0,
      buffer,
      (message) => {
        collected.take(message);
        reader?.setReading(false);
      },
      (error) => assert.fail(error),
    );
    assert.ok(made !== undefined);
    reader = made;
    reader.setReading(true);
    client.write('first');
    await collected.until(() => collected.views.length === 1, 'the first read');
    const kept = collected.views[0]!;
    assert.equal(kept.buffer, buffer.buffer, 'the view is of the buffer given');
    // A unix socket's write is in the peer's queue when it has been handed to the kernel.
    await new Promise<void>((resolve, reject) => client.write('SECOND', (error) => (error ? reject(error) : resolve())));
    await turns(5);
    assert.equal(collected.views.length, 1, 'nothing read while reading is off');
    assert.equal(kept.toString(), 'first', 'the kept view is as handed over');
    reader.setReading(true);
    await collected.until(() => collected.views.length === 2, 'the second read');
    assert.equal(collected.copies[1]!.toString(), 'SECOND');
    assert.equal(kept.toString(), 'SECON', 'the second read went into the same buffer');
    reader.close();
  });

  test("the peer's end of the stream is an empty message", async () => {
    const { client, collected, reader } = await reading(64);
    client.end('last words');
    await collected.until(() => collected.ended, 'the end of the stream');
    assert.equal(collected.bytes.toString(), 'last words');
    assert.equal(collected.copies.at(-1)!.length, 0);
    reader.close();
  });
});
