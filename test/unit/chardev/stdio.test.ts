import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { PassThrough, Writable } from 'node:stream';
import { suite, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pty from '@lydell/node-pty';
import { StdioChardev, type StdioStreams } from '../../../src/chardev/stdio.js';
import { OUTPUT_QUEUE_LIMIT } from '../../../src/chardev/stream-io.js';
import { TestFrontend } from '../../support/test-frontend.js';

const WAIT_MS = 10_000;
const CHILD = fileURLToPath(new URL('../../support/stdio-child.js', import.meta.url));
const messages: string[] = [];
const context = { log: (message: string) => messages.push(message) };

/** Waits until `done()` holds, polling at short intervals; fails after a bound. */
async function until(done: () => boolean, what: string, describe: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${WAIT_MS} ms waiting for ${what}; ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The `@name:value` reports of stdio-child, in order. */
function reports(text: string, name: string): string[] {
  return [...text.matchAll(new RegExp(`@${name}:(.*?)\\r?$`, 'gm'))].map((match) => match[1] ?? '');
}

/** Stand-ins for stdin and stdout that a test drives. */
function fakeStreams(): StdioStreams & { stdin: PassThrough; written: Buffer[] } {
  const written: Buffer[] = [];
  const stdout = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      written.push(chunk);
      callback();
    },
  });
  return { stdin: new PassThrough(), stdout, written };
}

suite('stdio chardev in this process (chardev/char-stdio.c), over stand-in streams', () => {
  test("a second stdio chardev fails with QEMU's text while the first exists, and can be made once the first is closed", async () => {
    const first = new StdioChardev('s1', {}, context, fakeStreams());
    await first.open();
    const second = new StdioChardev('s2', {}, context, fakeStreams());
    await assert.rejects(second.open(), { name: 'ChardevError', message: 'cannot use stdio by multiple character devices' });
    await second.close(); // a chardev that failed to open releases nothing
    await assert.rejects(new StdioChardev('s3', {}, context, fakeStreams()).open(), { message: 'cannot use stdio by multiple character devices' });
    await first.close();
    const third = new StdioChardev('s4', {}, context, fakeStreams());
    await third.open();
    await third.close();
  });

  test('it is open from the start, writes go to stdout, stdin reaches the frontend, and the end of stdin reports closed', async () => {
    const streams = fakeStreams();
    const chardev = new StdioChardev('stdio', {}, context, streams);
    await chardev.open();
    assert.equal(chardev.kind, 'stdio');
    assert.equal(chardev.filename, 'stdio');
    assert.equal(chardev.isOpen, true);
    const frontend = new TestFrontend();
    chardev.attach(frontend);
    assert.deepEqual(frontend.events, ['opened']);
    chardev.write(Buffer.from('buf\0'));
    assert.equal(Buffer.concat(streams.written).toString('latin1'), 'buf\0');
    streams.stdin.write('typed');
    await frontend.until(() => frontend.text === 'typed', 'input');
    streams.stdin.end();
    await frontend.until(() => frontend.events.includes('closed'), 'closed');
    assert.equal(chardev.isOpen, false);
    chardev.detach(frontend);
    await chardev.close();
  });

  test('a stdin that already ended reports closed to the next stdio chardev when its frontend comes', async () => {
    const streams = fakeStreams();
    const first = new StdioChardev('s1', {}, context, streams);
    await first.open();
    const frontend = new TestFrontend();
    first.attach(frontend);
    streams.stdin.end();
    await frontend.until(() => frontend.events.includes('closed'), 'the first chardev to see the end');
    first.detach(frontend);
    await first.close();
    const second = new StdioChardev('s2', {}, context, streams);
    await second.open();
    const next = new TestFrontend();
    second.attach(next);
    assert.deepEqual(next.events, ['opened', 'closed']);
    second.detach(next);
    await second.close();
  });

  test('input waits in stdin while the frontend has no room and flows again on acceptInput', async () => {
    const streams = fakeStreams();
    const chardev = new StdioChardev('stdio', {}, context, streams);
    await chardev.open();
    const frontend = new TestFrontend();
    frontend.capacity = 2;
    chardev.attach(frontend);
    streams.stdin.write('abcdef');
    await frontend.until(() => frontend.text === 'ab', 'the first two bytes');
    frontend.capacity = 10;
    chardev.acceptInput();
    await frontend.until(() => frontend.text === 'abcdef', 'the rest');
    chardev.detach(frontend);
    await chardev.close();
  });

  test('writes past the stdout queue bound return false and are dropped and counted; drain follows', async () => {
    let release: (() => void) | undefined;
    const stdout = new Writable({
      highWaterMark: 16,
      write(_chunk: Buffer, _encoding, callback) {
        release = callback; // held until the test lets the write finish
      },
    });
    const chardev = new StdioChardev('stdio', {}, context, { stdin: new PassThrough(), stdout });
    await chardev.open();
    const frontend = new TestFrontend();
    chardev.attach(frontend);
    assert.equal(chardev.write(Buffer.alloc(32)), false, "above the stream's mark");
    assert.equal(chardev.write(Buffer.alloc(OUTPUT_QUEUE_LIMIT)), false, 'past the bound');
    assert.equal(chardev.droppedOutput, OUTPUT_QUEUE_LIMIT);
    release?.();
    await frontend.until(() => frontend.drains === 1, 'drain');
    chardev.detach(frontend);
    await chardev.close();
  });

  test('close gives the streams back: no listeners left, stdin paused, stdout not ended', async () => {
    const streams = fakeStreams();
    const before = { data: streams.stdin.listenerCount('data'), drain: streams.stdout.listenerCount('drain'), exit: process.listenerCount('exit') };
    const chardev = new StdioChardev('stdio', {}, context, streams);
    await chardev.open();
    const frontend = new TestFrontend();
    chardev.attach(frontend);
    chardev.detach(frontend);
    await chardev.close();
    assert.equal(streams.stdin.listenerCount('data'), before.data);
    assert.equal(streams.stdin.listenerCount('end'), 0);
    assert.equal(streams.stdout.listenerCount('drain'), before.drain);
    assert.equal(process.listenerCount('exit'), before.exit);
    assert.equal(streams.stdin.isPaused(), true);
    assert.equal(streams.stdout.writableEnded, false);
    assert.equal(chardev.write(Buffer.from('after close')), true);
    assert.deepEqual(streams.written, []);
  });
});

suite("stdio chardev over a real process's stdin and stdout (test-char /char/stdio)", () => {
  test('over pipes: "buf\\0" appears on stdout, input is echoed back by the frontend, and the end of stdin closes it', async () => {
    const child = spawn(process.execPath, [CHILD], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = Buffer.alloc(0);
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout = Buffer.concat([stdout, chunk]);
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const describe = (): string => `stdout ${JSON.stringify(stdout.toString('latin1'))}, stderr ${JSON.stringify(stderr)}`;
    try {
      await until(() => reports(stderr, 'event').includes('opened'), 'the frontend to be attached', describe);
      assert.deepEqual(reports(stderr, 'second'), ['cannot use stdio by multiple character devices']);
      assert.deepEqual(reports(stderr, 'raw-open'), ['undefined'], 'a pipe is no terminal: nothing to put in raw mode');
      child.stdin.write('ping');
      await until(() => stdout.toString('latin1') === 'buf\0ping', 'the echo', describe);
      child.stdin.end();
      let code: number | null | undefined;
      void exited.then((c) => (code = c));
      // The process ends by itself once the chardev is closed: stdin no longer holds it.
      await until(() => code !== undefined, 'the child to exit', describe);
      assert.equal(code, 0, describe());
      assert.deepEqual(reports(stderr, 'event'), ['opened', 'closed']);
      assert.deepEqual(reports(stderr, 'recv'), [Buffer.from('ping').toString('hex')]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  /** Runs stdio-child on a pseudo-terminal; `output` is everything the terminal showed. */
  async function onTerminal(
    signal: 'signal=on' | 'signal=off',
    drive: (run: { write(data: string): void; output(): string; exited(): boolean }) => Promise<void>,
  ): Promise<{ output: string; exitCode: number }> {
    const term = pty.spawn(process.execPath, [CHILD, signal], { cols: 80, rows: 24, env: { ...process.env, TERM: 'dumb' } });
    let output = '';
    let exit: { exitCode: number } | undefined;
    term.onData((data) => {
      output += data;
    });
    term.onExit((event) => {
      exit = event;
    });
    try {
      await until(
        () => reports(output, 'event').includes('opened'),
        'the frontend to be attached',
        () => JSON.stringify(output),
      );
      await drive({ write: (data) => term.write(data), output: () => output, exited: () => exit !== undefined });
      await until(
        () => exit !== undefined,
        'the child to exit',
        () => JSON.stringify(output),
      );
      return { output, exitCode: exit!.exitCode };
    } finally {
      if (exit === undefined) term.kill('SIGKILL');
    }
  }

  const hex = (output: string): string => reports(output, 'recv').join('');

  test('on a terminal, raw mode lasts while the chardev exists; with signal=on Ctrl-C is SIGINT, not input', async () => {
    const { output, exitCode } = await onTerminal('signal=on', async (run) => {
      run.write('a\x03b');
      await until(
        () => reports(run.output(), 'sigint').length === 1 && hex(run.output()) === '6162',
        'SIGINT and the input around Ctrl-C',
        () => JSON.stringify(run.output()),
      );
      run.write('q');
    });
    assert.equal(exitCode, 0, output);
    assert.deepEqual(reports(output, 'raw-before'), ['false']);
    assert.deepEqual(reports(output, 'raw-open'), ['true']);
    assert.deepEqual(reports(output, 'raw-closed'), ['false'], 'close restores the terminal');
    assert.match(output, /buf/);
    assert.equal(hex(output), '616271', 'Ctrl-C never reached the frontend');
  });

  test('on a terminal with signal=off, Ctrl-C is input; process.exit() without close restores the terminal', async () => {
    const { output, exitCode } = await onTerminal('signal=off', async (run) => {
      run.write('a\x03b');
      await until(
        () => hex(run.output()) === '610362',
        'the input with Ctrl-C in it',
        () => JSON.stringify(run.output()),
      );
      run.write('x');
    });
    assert.equal(exitCode, 0, output);
    assert.deepEqual(reports(output, 'sigint'), []);
    assert.deepEqual(reports(output, 'raw-open'), ['true']);
    assert.deepEqual(reports(output, 'raw-closed'), [], 'the chardev was not closed');
    assert.deepEqual(reports(output, 'raw-at-exit'), ['false'], 'the exit listener restored the terminal');
  });
});
