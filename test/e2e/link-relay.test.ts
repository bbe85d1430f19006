import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, suite, test } from 'node:test';
import { waitFor } from '../support/peer-process.js';
import { type ServerProcess, startChardevd } from '../support/servers.js';

/**
 * The relay end to end: random data through the daemon from one socket
 * chardev to another over a link, checked by hash, with a sink that
 * reads in bursts so that the link has to pause its source again and
 * again (the reader's buffer is reused between reads, so any byte a
 * write kept without copying would show here).
 */

const WAIT_MS = 60_000;
const TOTAL = 32 << 20;
const BACK = 1 << 20;

async function connected(path: string): Promise<Socket> {
  const socket = connect(path);
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return socket;
}

/** Writes `data` in chunks of varying size, waiting for drain whenever asked; resolves with how often it waited. */
async function send(socket: Socket, data: Buffer): Promise<number> {
  let waits = 0;
  for (let offset = 0, i = 0; offset < data.length; i++) {
    const size = 1 + ((i * 40503) % (128 << 10));
    const more = socket.write(data.subarray(offset, offset + size));
    offset += size;
    if (!more) {
      waits++;
      await new Promise((resolve) => socket.once('drain', resolve));
    }
  }
  return waits;
}

/** Hashes what `socket` receives; `bursts` makes it stop for a moment after every 256 KiB. */
function receive(socket: Socket, bursts: boolean): { readonly bytes: () => number; readonly digest: () => string } {
  const hash = createHash('sha256');
  let bytes = 0;
  let sinceStop = 0;
  socket.on('data', (data: Buffer) => {
    hash.update(data);
    bytes += data.length;
    sinceStop += data.length;
    if (bursts && sinceStop >= 256 << 10) {
      sinceStop = 0;
      socket.pause();
      setTimeout(() => socket.resume(), 5);
    }
  });
  return { bytes: () => bytes, digest: () => hash.digest('hex') };
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

suite('link relay in the daemon: socket -> link -> socket', () => {
  let daemon: ServerProcess;

  before(async () => {
    daemon = await startChardevd((dir) => [
      '-chardev',
      `socket,id=a,path=${join(dir, 'a.sock')},server=on,wait=off`,
      '-chardev',
      `socket,id=b,path=${join(dir, 'b.sock')},server=on,wait=off`,
      '-device',
      'link,id=l0,chardev=a,peer=b',
    ]);
  });
  after(() => daemon?.stop());

  test('32 MiB of random data reach a sink that reads in bursts byte for byte, while 1 MiB goes the other way; the source is paced, nothing is lost', async () => {
    const sink = await connected(join(daemon.dir, 'b.sock'));
    const source = await connected(join(daemon.dir, 'a.sock'));
    const forward = randomBytes(TOTAL);
    const backward = randomBytes(BACK);
    const atSink = receive(sink, true);
    const atSource = receive(source, false);
    const [waits] = await Promise.all([send(source, forward), send(sink, backward)]);
    await waitFor(() => atSink.bytes() >= TOTAL && atSource.bytes() >= BACK, 'every byte at both ends', WAIT_MS, 10);
    assert.equal(atSink.bytes(), TOTAL);
    assert.equal(atSink.digest(), sha256(forward), 'the bytes at the sink, in order');
    assert.equal(atSource.bytes(), BACK);
    assert.equal(atSource.digest(), sha256(backward), 'the bytes at the source, in order');
    assert.ok(waits > 0, 'the source had to wait for the slow sink');
    source.destroy();
    sink.destroy();
  });
});
