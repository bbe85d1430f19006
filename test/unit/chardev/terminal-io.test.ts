import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, suite, test, type TestContext } from 'node:test';
import { NullChardev } from '../../../src/chardev/null.js';
import { OUTPUT_QUEUE_LIMIT } from '../../../src/chardev/stream-io.js';
import { POLL_READABLE, PolledTty, readSize, TTY_OUTPUT_MARK, ttyErrorText } from '../../../src/chardev/terminal-io.js';
import { waitFor } from '../../support/peer-process.js';
import { sameBytes } from '../../support/same-bytes.js';
import { TestFrontend } from '../../support/test-frontend.js';

const dir = fs.mkdtempSync(join(tmpdir(), 'chardevd-terminal-io-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const WAIT_MS = 5_000;

/**
 * A PolledTty on a FIFO opened read-write: what it writes it reads back,
 * and the FIFO's 64 KiB stand for a terminal's output buffer.
 */
function loopback(t: TestContext) {
  const path = join(dir, `fifo${Math.random().toString(36).slice(2)}`);
  execFileSync('mkfifo', [path]);
  const fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
  const seen = { readable: 0, drained: 0 };
  const tty = new PolledTty(fd, {
    readable: () => seen.readable++,
    hangup: () => {},
    pollFailed: (error) => assert.fail(`poll failed: ${error.message}`),
    drained: () => seen.drained++,
    writeFailed: (error) => assert.fail(`write failed: ${error.message}`),
  });
  t.after(() => tty.close());
  return { tty, seen };
}

suite('terminal I/O (PolledTty, line setup errors)', () => {
  test('reads happen when asked; readable is reported once watched', async (t) => {
    const { tty, seen } = loopback(t);
    assert.equal(tty.read(16), 'again', 'nothing to read yet');
    assert.equal(tty.write(Buffer.from('ping')), true);
    tty.watch(POLL_READABLE);
    await waitFor(() => seen.readable > 0, 'readable', WAIT_MS, 2);
    const got = tty.read(16);
    assert.ok(Buffer.isBuffer(got), `a read, got ${String(got)}`);
    assert.equal(got.toString(), 'ping');
    assert.equal(tty.read(16), 'again');
  });

  test(`output beyond what the descriptor takes is queued: write() says wait above ${TTY_OUTPUT_MARK} bytes, drops beyond OUTPUT_QUEUE_LIMIT, and drained follows`, async (t) => {
    const { tty, seen } = loopback(t);
    // More than the FIFO takes, whatever its size, and more than the bound: a first write is queued whole.
    const data = Buffer.alloc(2 * OUTPUT_QUEUE_LIMIT);
    for (let i = 0; i < data.length; i++) data[i] = (i * 13) & 0xff;
    assert.equal(tty.write(data), false, 'what the FIFO does not take is queued, above the mark');
    assert.equal(tty.write(Buffer.from('late')), false, 'past the bound');
    assert.equal(tty.dropped, 4, 'the write past the bound is dropped whole');
    const chunks: Buffer[] = [];
    let bytes = 0;
    await waitFor(
      () => {
        for (let got = tty.read(1 << 16); Buffer.isBuffer(got); got = tty.read(1 << 16)) {
          chunks.push(got);
          bytes += got.length;
        }
        return bytes >= data.length && seen.drained > 0;
      },
      'everything read back, and drained',
      WAIT_MS,
      2,
    );
    sameBytes(Buffer.concat(chunks), data, 'what came back');
    assert.equal(seen.drained, 1);
  });

  test('discardOutput drops what is queued, counted, and wakes a writer waiting for drained', (t) => {
    const { tty, seen } = loopback(t);
    const size = 2 * OUTPUT_QUEUE_LIMIT;
    assert.equal(tty.write(Buffer.alloc(size)), false);
    tty.discardOutput();
    assert.ok(tty.dropped > 0 && tty.dropped < size, `all but what the FIFO took, dropped ${tty.dropped}`);
    assert.equal(seen.drained, 1);
  });

  test('readSize reads what the frontend takes, at least one byte, at most 64 KiB', () => {
    const chardev = new NullChardev('n');
    assert.equal(readSize(chardev), 1, 'no frontend');
    const frontend = new TestFrontend();
    chardev.attach(frontend);
    frontend.capacity = 10;
    assert.equal(readSize(chardev), 10);
    frontend.capacity = Number.MAX_SAFE_INTEGER;
    assert.equal(readSize(chardev), 1 << 16);
  });

  test("ttyErrorText takes the strerror text out of serialport's messages", () => {
    assert.equal(ttyErrorText(new Error('Error: No such file or directory, cannot open /dev/x')), 'No such file or directory');
    assert.equal(ttyErrorText(new Error('Error: Inappropriate ioctl for device setting custom baud rate of 115200')), 'Inappropriate ioctl for device');
    assert.equal(ttyErrorText(Object.assign(new Error('other'), { code: 'EACCES' })), 'Permission denied');
  });
});
