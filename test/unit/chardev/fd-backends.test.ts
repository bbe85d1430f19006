import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, suite, test } from 'node:test';
import type { ChardevContext } from '../../../src/chardev/chardev.js';
import { ChardevLog } from '../../../src/chardev/chardev-log.js';
import { FileChardev } from '../../../src/chardev/file.js';
import { NullChardev } from '../../../src/chardev/null.js';
import { PipeChardev } from '../../../src/chardev/pipe.js';
import { RingbufChardev } from '../../../src/chardev/ringbuf.js';
import { CLOSE_FLUSH_TIMEOUT_MS, OUTPUT_QUEUE_LIMIT } from '../../../src/chardev/stream-io.js';
import { TestFrontend } from '../../support/test-frontend.js';

const dir = fs.mkdtempSync(join(tmpdir(), 'chardevd-fd-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const context = { log: () => {} };
const mkfifo = (path: string): void => {
  execFileSync('mkfifo', [path]);
};

/** Fails instead of hanging when `promise` does not settle within `ms`. */
async function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

suite('null, ringbuf, file and pipe chardevs (test-char /char/null, ringbuf, file, pipe, file-fifo)', () => {
  test('null discards writes, never opens, and takes one frontend at a time', async () => {
    const chardev = new NullChardev('n');
    await chardev.open();
    const frontend = new TestFrontend();
    chardev.attach(frontend);
    assert.throws(() => chardev.attach(new TestFrontend()), /Device 'n' is in use/);
    assert.equal(chardev.write(Buffer.from('abcd')), true);
    assert.equal(chardev.isOpen, false);
    assert.deepEqual(frontend.events, []);
    chardev.detach(frontend);
    chardev.attach(frontend);
    await chardev.close();
  });

  test('ringbuf of size 2 keeps "ff" of "buff"; sizes that are not powers of two are refused', async () => {
    assert.throws(() => new RingbufChardev('r', 'ringbuf', 5), /size of ringbuf chardev must be power of two/);
    assert.throws(() => new RingbufChardev('r', 'ringbuf', 0), /size of ringbuf chardev must be power of two/);
    const chardev = new RingbufChardev('r', 'ringbuf', 2);
    await chardev.open();
    const frontend = new TestFrontend();
    chardev.attach(frontend);
    assert.deepEqual(frontend.events, ['opened'], 'a ringbuf is open from the start');
    chardev.write(Buffer.from('buff'));
    assert.equal(Buffer.from(chardev.ring.read(4)).toString(), 'ff');
    assert.equal(chardev.ring.read(4).length, 0);
    await chardev.close();
  });

  test('file writes exactly what the frontend wrote, and truncates unless append', async () => {
    const out = join(dir, 'out.txt');
    fs.writeFileSync(out, 'old content');
    for (const [append, expected] of [
      [false, 'hello!'],
      [true, 'hello!hello!'],
    ] as const) {
      const chardev = new FileChardev('f', { out, append }, context);
      await chardev.open();
      assert.equal(chardev.isOpen, true);
      chardev.write(Buffer.from('hello!'));
      await chardev.close();
      assert.equal(fs.readFileSync(out, 'latin1'), expected);
    }
  });

  test('file with a FIFO as input delivers its bytes to the frontend, and send-break reaches the frontend', async () => {
    const fifo = join(dir, 'in.fifo');
    mkfifo(fifo);
    const chardev = new FileChardev('f', { out: join(dir, 'fifo-out.txt'), in: fifo }, context);
    await chardev.open();
    const frontend = new TestFrontend();
    chardev.attach(frontend);
    const writer = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    fs.writeSync(writer, Buffer.from('fifo-in\0'));
    await frontend.until(() => frontend.text === 'fifo-in\0', 'the FIFO input');
    chardev.sendBreak();
    assert.deepEqual(frontend.events, ['opened', 'break']);
    fs.closeSync(writer);
    chardev.detach(frontend);
    await chardev.close();
  });

  test('pipe uses PATH.in and PATH.out: output appears in .out, input from .in reaches the frontend', async () => {
    const base = join(dir, 'pipe');
    mkfifo(`${base}.in`);
    mkfifo(`${base}.out`);
    const chardev = new PipeChardev('p', base, context);
    await chardev.open();
    const frontend = new TestFrontend();
    chardev.attach(frontend);
    const reader = fs.openSync(`${base}.out`, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    chardev.write(Buffer.from('pipe-out\0'));
    const got = Buffer.alloc(64);
    let n = 0;
    const deadline = Date.now() + 5000;
    while (n < 9 && Date.now() < deadline) {
      try {
        n += fs.readSync(reader, got, n, got.length - n, null);
      } catch (error: unknown) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    assert.equal(got.subarray(0, n).toString('latin1'), 'pipe-out\0');
    const writer = fs.openSync(`${base}.in`, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    fs.writeSync(writer, 'pipe-in\0');
    await frontend.until(() => frontend.text === 'pipe-in\0', 'input from PATH.in');
    fs.closeSync(writer);
    fs.closeSync(reader);
    chardev.detach(frontend);
    await chardev.close();
  });

  test('a pipe on one FIFO (no PATH.in and PATH.out) reads back what it writes, and closes, its read side included', async () => {
    const fifo = join(dir, 'both.fifo');
    mkfifo(fifo);
    const chardev = new PipeChardev('p', fifo, context);
    await chardev.open();
    const frontend = new TestFrontend();
    chardev.attach(frontend);
    chardev.write(Buffer.from('loop'));
    await frontend.until(() => frontend.text === 'loop', 'the bytes back through the FIFO');
    chardev.detach(frontend);
    await bounded(chardev.close(), 5_000, 'close()');
  });

  test('a pipe whose output nobody reads closes after CLOSE_FLUSH_TIMEOUT_MS, counting the output it could not deliver', async () => {
    const base = join(dir, 'stuck');
    mkfifo(`${base}.in`);
    mkfifo(`${base}.out`);
    const chardev = new PipeChardev('p', base, context);
    await chardev.open();
    const frontend = new TestFrontend();
    chardev.attach(frontend);
    // PATH.out is open read-write, so writes never fail; the kernel's pipe buffer fills and the rest queues.
    for (let i = 0; i < 64 && chardev.write(Buffer.alloc(64 * 1024)); i++);
    chardev.detach(frontend);
    const started = Date.now();
    await bounded(chardev.close(), CLOSE_FLUSH_TIMEOUT_MS + 5_000, 'close()');
    assert.ok(Date.now() - started >= CLOSE_FLUSH_TIMEOUT_MS - 50);
    assert.ok(chardev.outputLost > 0, 'what never left is counted');
  });

  test('a pipe takes a single write larger than OUTPUT_QUEUE_LIMIT whole and tells the frontend when it drained', async () => {
    const base = join(dir, 'large');
    mkfifo(`${base}.in`);
    mkfifo(`${base}.out`);
    const chardev = new PipeChardev('p', base, context);
    await chardev.open();
    const frontend = new TestFrontend();
    chardev.attach(frontend);
    const reader = fs.openSync(`${base}.out`, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      const data = Buffer.alloc(OUTPUT_QUEUE_LIMIT * 2 + 1);
      for (let i = 0; i < data.length; i++) data[i] = (i * 13) & 0xff;
      assert.equal(chardev.write(data), false);
      const got = Buffer.alloc(data.length);
      let n = 0;
      const deadline = Date.now() + 5_000;
      while (n < data.length) {
        assert.ok(Date.now() < deadline, `timed out reading the output, got ${n} of ${data.length}`);
        try {
          n += fs.readSync(reader, got, n, got.length - n, null);
        } catch (error: unknown) {
          if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      assert.ok(got.equals(data));
      await frontend.until(() => frontend.drains > 0, 'drain');
      assert.equal(chardev.outputLost, 0);
    } finally {
      fs.closeSync(reader);
      chardev.detach(frontend);
      await chardev.close();
    }
  });

  test("a missing pipe gives QEMU's error text", async () => {
    const chardev = new PipeChardev('p', join(dir, 'nothing'), context);
    await assert.rejects(chardev.open(), { message: `Could not open '${join(dir, 'nothing')}': No such file or directory` });
  });
});

suite('a file whose writes fail: held, retried, reported (CHARDEV_SINK_CHANGE, query-chardev sink)', () => {
  /** A context whose log and events the test reads. */
  function recording(): { context: ChardevContext; lines: string[]; events: { name: string; data: unknown }[] } {
    const lines: string[] = [];
    const events: { name: string; data: unknown }[] = [];
    return { context: { log: (line) => lines.push(line), events: { emit: (name, data) => events.push({ name, data }) } }, lines, events };
  }

  test('a full disk (/dev/full) stalls the file: the frontend waits, the event and sinkInfo say why, and close counts what was never written', async () => {
    const { context: recorded, lines, events } = recording();
    const chardev = new FileChardev('full', { out: '/dev/full' }, recorded);
    await chardev.open();
    const frontend = new TestFrontend();
    chardev.attach(frontend);
    chardev.write(Buffer.from('0123456789'));
    await frontend.until(() => events.length > 0, 'CHARDEV_SINK_CHANGE');
    const error = 'No space left on device';
    assert.deepEqual(events, [{ name: 'CHARDEV_SINK_CHANGE', data: { id: 'full', state: 'stalled', error, pending: 10, lost: 0 } }]);
    assert.deepEqual(chardev.sinkInfo, { state: 'stalled', error, pending: 10, lost: 0 });
    assert.equal(chardev.write(Buffer.from('abc')), false, 'the frontend is paced, not fed into a void');
    assert.equal(chardev.outputBacklog, 13);
    assert.deepEqual(lines, [`chardev 'full': write failed: ${error}; holding the output and retrying`]);
    chardev.detach(frontend);
    await bounded(chardev.close(), CLOSE_FLUSH_TIMEOUT_MS + 5_000, 'close()');
    assert.equal(chardev.outputLost, 13);
    assert.equal(lines.at(-1), `chardev 'full': closed with 13 bytes of output unwritten (${error})`);
  });

  test('a FIFO whose reader left (EPIPE) stalls the file; once a reader is back, a retry opens the FIFO again and the new reader gets what was held', async () => {
    const fifo = join(dir, 'out.fifo');
    mkfifo(fifo);
    const { context: recorded, events } = recording();
    const first = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const chardev = new FileChardev('f', { out: fifo }, recorded);
    await chardev.open();
    const frontend = new TestFrontend();
    chardev.attach(frontend);
    fs.closeSync(first);
    chardev.write(Buffer.from('for a reader'));
    await frontend.until(() => events.length > 0, 'CHARDEV_SINK_CHANGE');
    assert.deepEqual(chardev.sinkInfo, { state: 'stalled', error: 'Broken pipe', pending: 12, lost: 0 });
    const second = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      await frontend.until(() => chardev.sinkInfo?.state === 'ok', 'the retry to find the new reader');
      const got = Buffer.alloc(64);
      const n = fs.readSync(second, got, 0, got.length, null);
      assert.equal(got.subarray(0, n).toString(), 'for a reader');
      await frontend.until(() => events.length === 2, 'the event for the recovery (at most one per second)');
      assert.deepEqual(events[1], { name: 'CHARDEV_SINK_CHANGE', data: { id: 'f', state: 'ok', error: 'Broken pipe', pending: 0, lost: 0 } });
      assert.equal(frontend.drains, 1, 'the frontend told to wait hears drain');
    } finally {
      chardev.detach(frontend);
      await chardev.close();
      fs.closeSync(second);
    }
  });
});

suite('chardev log files (logfile, logappend, and the logsize/logbackups extension)', () => {
  test('the log gets every byte the frontend writes, but not what ringbuf-write injects', async () => {
    const path = join(dir, 'ring.log');
    const chardev = new RingbufChardev('r', 'ringbuf', 64);
    chardev.setLog(ChardevLog.open({ path, append: false, maxSize: 0, backups: 0 }, () => {}));
    await chardev.open();
    chardev.write(Buffer.from('from the frontend;'));
    chardev.inject(Buffer.from('injected'));
    await chardev.close();
    assert.equal(fs.readFileSync(path, 'latin1'), 'from the frontend;');
  });

  test('logappend keeps the old content; without it the log starts empty', () => {
    const path = join(dir, 'append.log');
    fs.writeFileSync(path, 'before;');
    const appending = ChardevLog.open({ path, append: true, maxSize: 0, backups: 0 }, () => {});
    appending.write(Buffer.from('after'));
    appending.close();
    assert.equal(fs.readFileSync(path, 'latin1'), 'before;after');
    ChardevLog.open({ path, append: false, maxSize: 0, backups: 0 }, () => {}).close();
    assert.equal(fs.readFileSync(path, 'latin1'), '');
  });

  test('logsize rotates to PATH.1..PATH.N, keeps logbackups copies, and no file exceeds the size', () => {
    const path = join(dir, 'rotate.log');
    const log = ChardevLog.open({ path, append: false, maxSize: 10, backups: 2 }, () => {});
    log.write(Buffer.from('0123456789abcdefghij'));
    log.write(Buffer.from('KLMNOPQRSTuvw'));
    log.close();
    assert.equal(fs.readFileSync(path, 'latin1'), 'uvw');
    assert.equal(fs.readFileSync(`${path}.1`, 'latin1'), 'KLMNOPQRST');
    assert.equal(fs.readFileSync(`${path}.2`, 'latin1'), 'abcdefghij');
    assert.equal(fs.existsSync(`${path}.3`), false, 'the oldest copy beyond logbackups is gone');
  });

  test("a log that cannot be created gives QEMU's text", () => {
    assert.throws(() => ChardevLog.open({ path: join(dir, 'missing', 'x.log'), append: false, maxSize: 0, backups: 0 }, () => {}), {
      message: `Could not create '${join(dir, 'missing', 'x.log')}': No such file or directory`,
    });
  });
});
