import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { suite, test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { PtyChardev } from '../../../src/chardev/pty.js';
import { OUTPUT_QUEUE_LIMIT } from '../../../src/chardev/stream-io.js';
import { onPath, waitFor } from '../../support/peer-process.js';
import { terminalProgram } from '../../support/peer-terminal.js';
import { TestFrontend } from '../../support/test-frontend.js';
import { TtyPeer } from '../../support/tty-peer.js';

const run = promisify(execFile);

/** A pty chardev that also shows the input the base class holds for the frontend. */
class InspectablePty extends PtyChardev {
  get held(): number {
    return this.heldInput;
  }
}

/** Opens a pty chardev with a frontend attached; everything is released when the test ends. */
async function openPty(t: TestContext, capacity = Number.MAX_SAFE_INTEGER) {
  const logs: string[] = [];
  const chardev = new InspectablePty('p', { log: (message) => logs.push(message) });
  await chardev.open();
  const frontend = new TestFrontend();
  frontend.capacity = capacity;
  chardev.attach(frontend);
  const peers: TtyPeer[] = [];
  t.after(async () => {
    for (const peer of peers) peer.close();
    chardev.detach(frontend);
    await chardev.close();
  });
  /** Opens the slave the way a terminal program does. */
  const openSlave = (): TtyPeer => {
    const peer = new TtyPeer(chardev.ptsPath);
    peers.push(peer);
    return peer;
  };
  return { chardev, frontend, logs, openSlave };
}

/** Lets the event loop go round `n` times, I/O polls included. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

const count = (events: readonly string[], event: string): number => events.filter((e) => e === event).length;

suite('pty chardev (chardev/char-pty.c)', () => {
  test('creates /dev/pts/N, names it in filename and in the log as QEMU does, and starts closed', async (t) => {
    const { chardev, frontend, logs } = await openPty(t);
    assert.match(chardev.ptsPath, /^\/dev\/pts\/\d+$/);
    assert.ok(existsSync(chardev.ptsPath));
    assert.equal(chardev.kind, 'pty');
    assert.equal(chardev.filename, `pty:${chardev.ptsPath}`);
    assert.deepEqual(logs, [`char device redirected to ${chardev.ptsPath} (label p)`]);
    assert.equal(chardev.isOpen, false);
    // Attaching and writing look for a reader; with none, the chardev stays closed.
    chardev.write(Buffer.from('nobody reads this'));
    await turns(5);
    assert.equal(chardev.isOpen, false);
    assert.deepEqual(frontend.events, []);
  });

  test('a process opening the slave connects the chardev (opened), and bytes pass unchanged both ways', async (t) => {
    const { chardev, frontend, openSlave } = await openPty(t);
    const slave = openSlave();
    await frontend.until(() => frontend.events.includes('opened'), "'opened' after the slave was opened");
    assert.equal(chardev.isOpen, true);
    // Raw mode: no CR/LF translation, no echo, no signals, no end-of-file character.
    const toSlave = Buffer.from('out\r\n\x00\xff\x03\x04\x1b[A');
    assert.equal(chardev.write(toSlave), true);
    await slave.readUntil(() => slave.input.length >= toSlave.length, 'the chardev output on the slave');
    assert.deepEqual(slave.input, toSlave);
    const fromSlave = Buffer.from('in\r\n\x00\xff\x03\x04\x1a');
    slave.write(fromSlave);
    await frontend.until(() => frontend.input.length >= fromSlave.length, 'the slave input at the frontend');
    assert.deepEqual(frontend.input, fromSlave);
    assert.deepEqual(frontend.events, ['opened']);
  });

  test('the last process closing the slave gives closed, and opening it again gives opened again', async (t) => {
    const { chardev, frontend, openSlave } = await openPty(t);
    const first = openSlave();
    const second = openSlave();
    await frontend.until(() => frontend.events.includes('opened'), "'opened'");
    first.close();
    // Still connected while another process has the slave open; a round trip proves the chardev noticed nothing.
    chardev.write(Buffer.from('still here'));
    await second.readUntil(() => second.text === 'still here', 'output on the remaining slave');
    assert.deepEqual(frontend.events, ['opened']);
    second.close();
    await frontend.until(() => frontend.events.includes('closed'), "'closed' after the last slave user left");
    assert.equal(chardev.isOpen, false);
    const third = openSlave();
    await frontend.until(() => count(frontend.events, 'opened') === 2, "'opened' again after the slave was reopened");
    assert.deepEqual(frontend.events, ['opened', 'closed', 'opened']);
    third.write('back');
    await frontend.until(() => frontend.text === 'back', 'input after reconnecting');
  });

  test('writes while nobody has the slave open are reported written and discarded', async (t) => {
    const { chardev, frontend, openSlave } = await openPty(t);
    assert.equal(chardev.write(Buffer.from('lost before')), true);
    const first = openSlave();
    await frontend.until(() => frontend.events.includes('opened'), "'opened'");
    first.close();
    await frontend.until(() => frontend.events.includes('closed'), "'closed'");
    assert.equal(chardev.write(Buffer.from('lost between')), true);
    await turns(5);
    assert.equal(chardev.isOpen, false);
    assert.deepEqual(frontend.events, ['opened', 'closed']);
    const second = openSlave();
    await frontend.until(() => count(frontend.events, 'opened') === 2, "'opened' again");
    chardev.write(Buffer.from('kept'));
    await second.readUntil(() => second.text.includes('kept'), 'output after reconnecting');
    assert.equal(second.text, 'kept');
    assert.equal(chardev.droppedOutput, 0, 'discarding while disconnected is not an overflow');
  });

  test('output is bounded: write() returns false above 64 KiB queued, drops past the cap, and drain comes once the slave reads', async (t) => {
    const { chardev, frontend, openSlave } = await openPty(t);
    const slave = openSlave();
    await frontend.until(() => frontend.events.includes('opened'), "'opened'");
    const chunk = 16 * 1024;
    let written = 0;
    let refused = false;
    // The slave reads nothing yet: the kernel's buffer fills, then the queue.
    while (written < 2 * OUTPUT_QUEUE_LIMIT) {
      const data = Buffer.alloc(chunk, written / chunk);
      if (!chardev.write(data)) refused = true;
      written += chunk;
    }
    assert.ok(refused, 'write() returned false once the queue was above its mark');
    assert.ok(chardev.droppedOutput > 0, 'the queue is capped');
    assert.equal(frontend.drains, 0);
    const expected = written - chardev.droppedOutput;
    await slave.readUntil(() => slave.input.length >= expected, `${expected} bytes on the slave`, 10_000);
    assert.equal(slave.input.length, expected);
    await frontend.until(() => frontend.drains > 0, 'drain after the queue emptied');
    assert.equal(chardev.write(Buffer.from('after')), true);
    await slave.readUntil(() => slave.text.endsWith('after'), 'output after the drain');
  });

  test('input is read only while the frontend has room, and arrives after acceptInput()', async (t) => {
    const { chardev, frontend, openSlave } = await openPty(t, 0);
    const slave = openSlave();
    await frontend.until(() => frontend.events.includes('opened'), "'opened'");
    slave.write('waiting');
    // A round trip through the pty gives the chardev event-loop turns in which it could have read.
    chardev.write(Buffer.from('ping'));
    await slave.readUntil(() => slave.text === 'ping', 'the round trip');
    assert.equal(frontend.text, '');
    assert.equal(chardev.held, 0, 'the input stayed in the kernel, not in the chardev');
    frontend.capacity = 3;
    chardev.acceptInput();
    await frontend.until(() => frontend.text === 'wai', 'as much input as the frontend has room for');
    frontend.capacity = 100;
    chardev.acceptInput();
    await frontend.until(() => frontend.text === 'waiting', 'the rest of the input');
  });

  test('closing the chardev hangs up the slave', async (t) => {
    const { chardev, frontend, openSlave } = await openPty(t);
    const slave = openSlave();
    await frontend.until(() => frontend.events.includes('opened'), "'opened'");
    chardev.detach(frontend);
    await chardev.close();
    const end = await slave.readEnd('the hang-up on the slave');
    assert.ok(end === 'eof' || end === 'EIO', `read on the slave ended with ${end}`);
  });

  test('a terminal program (tio, picocom or screen) run in tmux talks to the frontend both ways', async (t) => {
    const program = terminalProgram();
    if (!onPath('tmux')) return t.skip('tmux not installed');
    if (program === undefined) return t.skip('tio not installed (nor picocom or screen)');
    const { chardev, frontend } = await openPty(t);
    // A server of our own, by socket name, so that only it is killed afterwards.
    const tmux = ['-L', `chardevd-test-${process.pid}-${Date.now()}`, '-f', '/dev/null'];
    t.after(async () => {
      await run('tmux', [...tmux, 'kill-server']).catch(() => {});
    });
    await run('tmux', [...tmux, 'new-session', '-d', '-x', '100', '-y', '30', program.command(chardev.ptsPath)], { env: { ...process.env, TERM: 'xterm' } });
    await frontend.until(() => frontend.events.includes('opened'), `'opened' once ${program.name} opened the slave`, 10_000);
    const capture = async (): Promise<string> => (await run('tmux', [...tmux, 'capture-pane', '-p'])).stdout;
    // The program may need a moment after opening the port before it shows what it reads.
    await waitFor(async () => {
      chardev.write(Buffer.from('hello-from-chardev\r\n'));
      return (await capture()).includes('hello-from-chardev');
    }, `${program.name} showing the chardev output`);
    await run('tmux', [...tmux, 'send-keys', '-l', 'typed-in-tmux']);
    // A terminal program and tmux are separate processes: on a loaded machine they take seconds, not milliseconds.
    await frontend.until(() => frontend.text.includes('typed-in-tmux'), 'the keys typed in tmux at the frontend', 10_000);
    await run('tmux', [...tmux, 'send-keys', ...program.quitKeys]);
    await frontend.until(() => frontend.events.includes('closed'), `'closed' once ${program.name} quit`, 10_000);
  });
});
