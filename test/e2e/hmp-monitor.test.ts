import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, suite, test } from 'node:test';
import { MonitorClient } from '../support/monitor-client.js';
import { qemuSkipReason, type ServerProcess, startChardevd, startQemu } from '../support/servers.js';
import { CHARDEVD } from '../support/paths.js';

/**
 * The human monitor over real sockets: chardevd started with -monitor and
 * -mon, driven by keystrokes as a terminal sends them.
 */

const ESC = '\x1b';
const LEFT = `${ESC}[D`;
const RIGHT = `${ESC}[C`;
const UP = `${ESC}[A`;
const DOWN = `${ESC}[B`;
const HOME = `${ESC}[1~`;
const END = `${ESC}[4~`;
const DELETE = `${ESC}[3~`;
const BACKSPACE = '\x7f';
const CTRL_A = '\x01';
const CTRL_E = '\x05';
const CTRL_K = '\x0b';
const CTRL_U = '\x15';
const CTRL_W = '\x17';
const ESCAPE = '\x1d';

/** Sends `console ID`; resolves with what came back: the console's banner, or an error and a new prompt. */
async function consoleCommand(client: MonitorClient, id: string): Promise<string> {
  const start = client.received.length;
  client.send(`console ${id}\r`);
  const reply = (): string => client.received.slice(start);
  // A console on a hub shows its recent output right after the banner, possibly in the same read.
  await client.until(() => /Escape character is '\^\]'\.\r\n/.test(reply()) || reply().endsWith('\r\n(chardevd) '), `the answer to console ${id}`);
  const text = reply();
  const banner = /^[^]*?Escape character is '\^\]'\.\r\n/.exec(text);
  return (banner?.[0] ?? text).slice(text.indexOf('\r\n') + 2);
}

/** Waits, bounded, until `done()` holds; the failure names `what` and shows `state()`. */
async function waitFor(done: () => boolean, what: string, state: () => string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; have ${JSON.stringify(state())}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Keystroke lines whose echo and output QEMU 7.2 and chardevd must send byte for byte alike, and the prompts each produces. */
const KEYSTROKES: readonly (readonly [string, number])[] = [
  ['info version\r', 1],
  [`ab${LEFT}X${RIGHT}${BACKSPACE}${CTRL_A}${CTRL_E}\r`, 1],
  [`foo${LEFT}${LEFT}${DELETE}${HOME}Z${END}Y\r`, 1],
  [`${UP}${UP}${DOWN}\r`, 1],
  [`hello world${CTRL_W}${CTRL_W}zz\r`, 1],
  ['ringbuf_r\t\r', 1],
  ['info ver\t\r', 1],
  ['help ring\t\r', 2],
  ['chardev-s\tx y\r', 1],
  ['help ringbuf_write\r', 1],
  ['ringbuf_read x\r', 1],
  ['\r', 1],
];

suite('human monitor connections', () => {
  let chardevd: ServerProcess;
  let monitorPath: string;
  let shared: Server;
  /** The far end of chardev s0: chardevd connects to this server at startup. */
  let peer: Socket;
  /** The far end of chardev g0, a guest's console: a link joins g0 to hub h0. */
  let guestServer: Server;
  let guest: Socket;
  const clients: MonitorClient[] = [];

  const open = async (path = monitorPath): Promise<MonitorClient> => {
    const client = await MonitorClient.open(path);
    clients.push(client);
    return client;
  };

  before(async () => {
    // s0 is a socket client chardev; the test holds the server side, so it sees what a console types.
    shared = createServer();
    const peerConnected = new Promise<Socket>((resolve) => shared.once('connection', resolve));
    await new Promise<void>((resolve) => shared.listen(0, '127.0.0.1', resolve));
    const port = (shared.address() as { port: number }).port;
    guestServer = createServer();
    const guestConnected = new Promise<Socket>((resolve) => guestServer.once('connection', resolve));
    await new Promise<void>((resolve) => guestServer.listen(0, '127.0.0.1', resolve));
    const guestPort = (guestServer.address() as { port: number }).port;
    chardevd = await startChardevd((dir) => [
      '-chardev',
      `socket,id=g0,host=127.0.0.1,port=${guestPort}`,
      '-chardev',
      'ringbuf,id=hlog,size=64K',
      '-chardev',
      'hub,id=h0,chardevs.0=hlog',
      '-device',
      'link,id=l1,chardev=g0,peer=h0',
      '-monitor',
      `unix:${join(dir, 'hmp.sock')},server=on,wait=off`,
      '-chardev',
      'ringbuf,id=r0',
      '-chardev',
      `socket,id=s0,host=127.0.0.1,port=${port}`,
      '-chardev',
      `socket,id=mon0,path=${join(dir, 'mon0.sock')},server=on,wait=off`,
      '-mon',
      'chardev=mon0,mode=readline',
      '-chardev',
      'ringbuf,id=la',
      '-chardev',
      'null,id=lb',
      '-device',
      'link,id=l0,chardev=la,peer=lb',
    ]);
    monitorPath = join(chardevd.dir, 'hmp.sock');
    peer = await peerConnected;
    peer.setEncoding('latin1');
    guest = await guestConnected;
    guest.setEncoding('latin1');
  });

  after(async () => {
    for (const client of clients) client.close();
    peer?.destroy();
    guest?.destroy();
    await chardevd?.stop();
    await new Promise((resolve) => shared.close(resolve));
    await new Promise((resolve) => guestServer.close(resolve));
  });

  test('greets with a banner and the (chardevd) prompt', async () => {
    const client = await open();
    assert.match(client.received, /^chardevd \d+\.\d+\.\d+ monitor - type 'help' for more information\r\n\(chardevd\) $/);
  });

  test('Ctrl-K deletes to the end of the line and Ctrl-U to its start', async () => {
    const client = await open();
    assert.equal(await client.keys(`info chardevXYZ${LEFT}${LEFT}${LEFT}${CTRL_K}\r`).then(() => client.received.includes('r0: filename=ringbuf')), true);
    const output = await client.keys(`garbage${CTRL_U}help help\r`);
    assert.match(output, /\r\nhelp\|\? \[cmd\] -- show the help\r\n\(chardevd\) $/);
  });

  test('keeps a history per connection: Up recalls, Down returns, info history lists', async () => {
    const a = await open();
    const b = await open();
    await a.command('help quit');
    await a.command('help info');
    await b.command('help console');
    assert.match(await a.keys(`${UP}${UP}\r`), /quit\|q {2}-- quit the emulator/);
    const history = await a.command('info history');
    assert.equal(history, "0: 'help info'\r\n1: 'help quit'\r\n2: 'info history'\r\n");
    assert.equal(await b.command('info history'), "0: 'help console'\r\n1: 'info history'\r\n");
    // Down past the newest entry gives an empty line again.
    assert.equal(await a.keys(`${UP}${DOWN}${DOWN}\r`).then((out) => out.endsWith('\r\n(chardevd) ')), true);
  });

  test("bad input gets QEMU's messages and a new prompt, and the connection stays", async () => {
    const client = await open();
    assert.equal(await client.command('nonsense'), "unknown command: 'nonsense'\r\n");
    assert.equal(await client.command('chardev-remove'), 'chardev-remove: string expected\r\nTry "help chardev-remove" for more information\r\n');
    assert.equal(await client.command('ringbuf_read r0 zz'), 'invalid char \'z\' in expression\r\nTry "help ringbuf_read" for more information\r\n');
    assert.equal(await client.command('chardev-add ringbuf,id=x,sise=1'), "Invalid parameter 'sise'\r\nError: Parsing chardev args failed\r\n");
    assert.equal(await client.command('chardev-add ringbuf,id=x,size=3'), 'Error: size of ringbuf chardev must be power of two\r\n');
    assert.equal(await client.command('ringbuf_write r0 "a\\tb"'), 'ringbuf_write: string expected\r\nTry "help ringbuf_write" for more information\r\n');
    assert.equal(await client.command('console'), 'console: string expected\r\nTry "help console" for more information\r\n');
    assert.equal(await client.command('console nope'), "Error: Chardev 'nope' not found\r\n");
    // A line longer than the editor holds is cut, not a reason to drop the connection.
    assert.match(await client.command(`help ${'x'.repeat(5000)}`), /^unknown command: 'x{4090}'\r\n$/);
    assert.equal(client.closed, false);
    assert.match(await client.command('info chardev'), /r0: filename=ringbuf\r\n/);
  });

  test('console turns the connection into a raw terminal on the chardev until Ctrl-]', async () => {
    const client = await open();
    assert.equal(await consoleCommand(client, 's0'), "Connected to chardev 's0'. Escape character is '^]'.\r\n");
    let seen = '';
    peer.on('data', (text: string) => {
      seen += text;
    });
    // Keystrokes go to the chardev as they are: no echo, no editing, control bytes included.
    client.send(`ls -l\r${CTRL_A}${UP}`);
    await waitFor(
      () => seen === `ls -l\r${CTRL_A}${UP}`,
      'the keystrokes at the far end of s0',
      () => seen,
    );
    // What the chardev receives appears on the monitor connection.
    peer.write('guest output\r\n');
    await client.until(() => client.received.endsWith('guest output\r\n'), 'chardev output on the console');
    // The escape ends the console; what follows it is monitor input again.
    const output = await client.keys(`more${ESCAPE}info chardev\r`, 2);
    assert.match(output, /^\r\n\(chardevd\) /);
    assert.match(output, /s0: filename=tcp:127\.0\.0\.1:\d+ <-> 127\.0\.0\.1:\d+\r\n/);
    await waitFor(
      () => seen.endsWith('more'),
      'the bytes before the escape at the far end',
      () => seen,
    );
    peer.removeAllListeners('data');
  });

  test('a second console on the same chardev is refused while the first holds it; both monitors keep working', async () => {
    const first = await open();
    const second = await open();
    assert.match(await consoleCommand(first, 'r0'), /^Connected to chardev 'r0'/);
    const refused = await consoleCommand(second, 'r0');
    assert.match(refused, /^Error: Chardev 'r0' is in use by the console of monitor connection \d+ \(unix socket\)\r\n\(chardevd\) $/);
    assert.match(await second.command('info chardev'), /r0: filename=ringbuf/);
    // The first console writes into the ringbuf; the second monitor reads it back.
    first.send('typed into r0');
    let text = '';
    const deadline = Date.now() + 5000;
    while (!text.includes('typed into r0') && Date.now() < deadline) text += (await second.command('ringbuf_read r0 100')).replace(/\r\n$/, '');
    assert.equal(text, 'typed into r0');
    // Leaving frees the chardev for the second.
    await first.keys(ESCAPE);
    assert.match(await consoleCommand(second, 'r0'), /^Connected to chardev 'r0'/);
    await second.keys(ESCAPE);
  });

  test('a monitor that disconnects in console mode leaves the chardev working and free', async () => {
    const dropped = await open();
    assert.match(await consoleCommand(dropped, 's0'), /^Connected to chardev 's0'/);
    dropped.close();
    const other = await open();
    // The chardev is attachable again at once or very soon (the close reaches the daemon asynchronously).
    let answer = '';
    const deadline = Date.now() + 5000;
    do {
      answer = await consoleCommand(other, 's0');
      if (answer.startsWith('Error:')) await new Promise((resolve) => setTimeout(resolve, 20));
    } while (answer.startsWith('Error:') && Date.now() < deadline);
    assert.match(answer, /^Connected to chardev 's0'/);
    let seen = '';
    peer.on('data', (text: string) => {
      seen += text;
    });
    other.send('still works');
    await waitFor(
      () => seen.includes('still works'),
      'input through s0 after the drop',
      () => seen,
    );
    peer.removeAllListeners('data');
    peer.write('and back\r\n');
    await other.until(() => other.received.endsWith('and back\r\n'), 'output through s0 after the drop');
    await other.keys(ESCAPE);
  });

  test('a console passes chardev output at the pace its client reads, losing nothing', async () => {
    const client = await open();
    assert.match(await consoleCommand(client, 's0'), /^Connected to chardev 's0'/);
    // The client stops reading while the far end of s0 sends far more than every buffer on the way holds.
    client.socket.pause();
    const total = 8 << 20;
    const pattern = Buffer.alloc(total);
    for (let i = 0; i < total; i++) pattern[i] = 0x20 + (i % 90);
    const start = client.received.length;
    let flushed = false;
    const writing = new Promise<void>((resolve) => {
      flushed = peer.write(pattern, () => resolve());
    });
    // The daemon stops taking s0's input once the console's window is full, so the sender is held
    // back: wait until the sender's backlog stops moving, then it must still hold most of the data.
    let last = -1;
    let still = 0;
    await waitFor(
      () => {
        const now = peer.writableLength;
        still = now === last ? still + 1 : 0;
        last = now;
        return still >= 10;
      },
      'the sender to stop moving',
      () => `${peer.writableLength} bytes waiting`,
    );
    assert.equal(flushed, false);
    assert.ok(peer.writableLength > total / 2, `${peer.writableLength} of ${total} bytes still with the sender`);
    client.socket.resume();
    await writing;
    await client.until(() => client.received.length - start >= total, 'all of the output', 20_000);
    assert.equal(Buffer.from(client.received.slice(start), 'latin1').equals(pattern), true, 'the bytes arrive complete and in order');
    await client.keys(ESCAPE);
  });

  test('a monitor on a chardev (-mon) greets each client and runs commands', async () => {
    const path = join(chardevd.dir, 'mon0.sock');
    const client = await open(path);
    assert.match(client.received, /^chardevd \d+\.\d+\.\d+ monitor - type 'help' for more information\r\n\(chardevd\) $/);
    assert.match(await client.command('info chardev'), /mon0: filename=unix:.*mon0\.sock,server=on\r\n/);
    assert.match(await client.command('console mon0'), /^Error: Chardev 'mon0' is in use by the monitor on chardev 'mon0'\r\n$/);
    // A console from this monitor ends when its client goes, freeing the chardev.
    assert.match(await consoleCommand(client, 'r0'), /^Connected to chardev 'r0'/);
    client.close();
    const again = await open(path);
    assert.match(again.received, /monitor - type 'help'/);
    assert.match(await consoleCommand(again, 'r0'), /^Connected to chardev 'r0'/);
    await again.keys(ESCAPE);
  });

  test('console on a chardev that a link device holds is refused, naming the link', async () => {
    const client = await open();
    assert.equal(await consoleCommand(client, 'la'), "Error: Chardev 'la' is in use by the link device 'l0'\r\n(chardevd) ");
  });

  test('console on a hub joins it as one more viewer: two monitors at once, the recent output first, keys to the guest, and one dropping leaves the rest', async () => {
    guest.write('login: ');
    // The hub's lossless ringbuf member shows the guest's output has passed the hub.
    const probe = await open();
    let logged = '';
    const deadline = Date.now() + 5000;
    while (!logged.includes('login: ') && Date.now() < deadline) logged += (await probe.command('ringbuf_read hlog 100')).replace(/\r\n$/, '');
    assert.equal(logged, 'login: ');

    const first = await open();
    const second = await open();
    assert.equal(await consoleCommand(first, 'h0'), "Connected to chardev 'h0'. Escape character is '^]'.\r\n");
    assert.match(await consoleCommand(second, 'h0'), /^Connected to chardev 'h0'/);
    // Joining, each console is shown the hub's recent output.
    await first.until(() => first.received.endsWith('login: '), 'the recent output on the first console');
    await second.until(() => second.received.endsWith('login: '), 'the recent output on the second console');

    let typed = '';
    guest.on('data', (text: string) => {
      typed += text;
    });
    first.send('root\r');
    await waitFor(
      () => typed === 'root\r',
      "the first console's keys at the guest",
      () => typed,
    );
    guest.write('# ');
    await first.until(() => first.received.endsWith('login: # '), 'guest output on the first console');
    await second.until(() => second.received.endsWith('login: # '), 'guest output on the second console');

    first.close();
    second.send('x');
    await waitFor(
      () => typed === 'root\rx',
      "the second console's keys after the first dropped",
      () => typed,
    );
    guest.write('still here\r\n');
    await second.until(() => second.received.endsWith('still here\r\n'), 'guest output after the first console dropped');
    guest.removeAllListeners('data');
    await second.keys(ESCAPE);
    // The hub's own members and its link are as they were.
    assert.match(await probe.command('info chardev'), /h0: filename=hub\r\n/);
  });

  test('an open console keeps its chardev from removal and follows chardev-change', async () => {
    const viewer = await open();
    const admin = await open();
    assert.equal(await admin.command('chardev-add ringbuf,id=swap,size=64'), '');
    assert.match(await consoleCommand(viewer, 'swap'), /^Connected to chardev 'swap'/);
    assert.equal(await admin.command('chardev-remove swap'), "Error: Chardev 'swap' is busy\r\n");
    assert.equal(await admin.command('chardev-change swap ringbuf,size=128'), '');
    viewer.send('after change');
    let text = '';
    const deadline = Date.now() + 5000;
    while (!text.includes('after change') && Date.now() < deadline) text += (await admin.command('ringbuf_read swap 100')).replace(/\r\n$/, '');
    assert.equal(text, 'after change');
    await viewer.keys(ESCAPE);
    assert.equal(await admin.command('chardev-remove swap'), '');
  });

  test('a client that sends its commands and closes its side gets all the output', async () => {
    const socket = connect(monitorPath);
    let received = '';
    socket.setEncoding('latin1').on('data', (text: string) => {
      received += text;
    });
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => {});
    socket.end('help chardev-add\rinfo version\r');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`connection not closed; received ${JSON.stringify(received)}`)), 5000);
    });
    await Promise.race([closed, timeout]).finally(() => clearTimeout(timer));
    assert.match(received, /chardev-add args -- add chardev\r\n/);
    assert.match(received, /\r\n\d+\.\d+\.\d+chardevd-/);
  });
});

suite('human monitor on TCP', () => {
  test('a tcp: listener on port 0 takes any free port, names it in the log, and serves two clients at once', async () => {
    const daemon = await startChardevd(['-monitor', 'tcp:127.0.0.1:0,server=on,wait=off']);
    const clients: MonitorClient[] = [];
    try {
      let port: number | undefined;
      await waitFor(
        () => {
          const match = /monitor listening on tcp:127\.0\.0\.1:(\d+)/.exec(daemon.stderr());
          port = match === null ? undefined : Number(match[1]);
          return port !== undefined;
        },
        'the port in the log',
        () => daemon.stderr(),
      );
      clients.push(await MonitorClient.open(port!), await MonitorClient.open(port!));
      assert.equal(await clients[0]!.command('help q'), 'quit|q  -- quit the emulator\r\n');
      assert.equal(await clients[1]!.command('help ?'), 'help|? [cmd] -- show the help\r\n');
    } finally {
      for (const client of clients) client.close();
      await daemon.stop();
    }
  });
});

suite('quit on a monitor', () => {
  test('stops the daemon without another prompt, and the connection ends', async () => {
    const daemon = await startChardevd((dir) => ['-monitor', `unix:${join(dir, 'hmp.sock')},server=on,wait=off`]);
    try {
      const client = await MonitorClient.open(join(daemon.dir, 'hmp.sock'));
      const start = client.received.length;
      client.send('quit\r');
      await client.until(() => client.closed, 'the connection to end');
      assert.equal(client.received.slice(start).replace(/^.*quit\x1b\[K/s, ''), '\r\n');
      assert.equal(await daemon.exited, 0);
    } finally {
      await daemon.stop();
    }
  });
});

suite('human monitor keystrokes: chardevd echoes as QEMU 7.2', { skip: qemuSkipReason() }, () => {
  let qemu: ServerProcess;
  let chardevd: ServerProcess;

  before(async () => {
    const monitor = (dir: string): string[] => ['-monitor', `unix:${join(dir, 'hmp.sock')},server=on,wait=off`];
    [qemu, chardevd] = await Promise.all([startQemu(monitor), startChardevd(monitor)]);
  });

  after(async () => {
    await Promise.all([qemu?.stop(), chardevd?.stop()]);
  });

  test('every key sends the same screen updates and runs the same command', async () => {
    const theirs = await MonitorClient.open(join(qemu.dir, 'hmp.sock'), '(qemu) ');
    const ours = await MonitorClient.open(join(chardevd.dir, 'hmp.sock'));
    try {
      for (const [keys, prompts] of KEYSTROKES) {
        const expected = (await theirs.keys(keys, prompts)).replaceAll('(qemu) ', '(chardevd) ');
        const actual = await ours.keys(keys, prompts);
        const version = /^\d+\.\d+\.\d+.*$/gm;
        assert.equal(actual.replace(version, '<version>'), expected.replace(version, '<version>'), `keys ${JSON.stringify(keys)}`);
      }
    } finally {
      theirs.close();
      ours.close();
    }
  });
});

suite('-mon mistakes: chardevd says what QEMU 7.2 says', { skip: qemuSkipReason() }, () => {
  const run = (command: string, args: string[]): { status: number | null; stderr: string } => {
    const result = spawnSync(command, args, { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
    return { status: result.status, stderr: result.stderr.replace(/^(chardevd|qemu-system-x86_64): /gm, '') };
  };
  const cases: readonly string[][] = [
    ['-mon', 'nope'],
    ['-mon', 'mode=readline'],
    ['-chardev', 'ringbuf,id=m0', '-mon', 'm0,mode=bogus'],
    ['-chardev', 'ringbuf,id=m0', '-mon', 'm0,pretty=on'],
    ['-chardev', 'ringbuf,id=m0', '-mon', 'm0,bogus=1'],
    ['-chardev', 'ringbuf,id=m0', '-mon', 'm0', '-mon', 'm0'],
  ];
  for (const args of cases) {
    test(args.join(' '), () => {
      const theirs = run('qemu-system-x86_64', ['-machine', 'none', '-nodefaults', '-display', 'none', ...args]);
      const ours = run(process.execPath, [CHARDEVD, ...args]);
      assert.equal(ours.stderr, theirs.stderr);
      assert.equal(ours.status, 1);
      assert.equal(theirs.status, 1);
    });
  }
});
