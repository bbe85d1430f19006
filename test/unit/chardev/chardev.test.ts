import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, suite, test, type TestContext } from 'node:test';
import { Chardev, INPUT_HOLD_LIMIT } from '../../../src/chardev/chardev.js';
import { FileChardev } from '../../../src/chardev/file.js';
import { NullChardev } from '../../../src/chardev/null.js';
import { PipeChardev } from '../../../src/chardev/pipe.js';
import { PtyChardev } from '../../../src/chardev/pty.js';
import { RingbufChardev } from '../../../src/chardev/ringbuf.js';
import { SocketChardev } from '../../../src/chardev/socket.js';
import { UdpChardev } from '../../../src/chardev/udp.js';
import { sameBytes } from '../../support/same-bytes.js';
import { TestFrontend } from '../../support/test-frontend.js';
import { TtyPeer } from '../../support/tty-peer.js';

const WAIT_MS = 10_000;
const dir = fs.mkdtempSync(join(tmpdir(), 'chardevd-base-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const context = { log: () => {} };

/** A connected pair of loopback TCP sockets. */
async function socketPair(t: TestContext): Promise<{ ours: net.Socket; peer: net.Socket }> {
  const server = net.createServer({ pauseOnConnect: true });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const ours = net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1' });
  ours.on('error', () => {});
  const peer = await accepted;
  peer.on('error', () => {});
  if (ours.connecting) await new Promise((resolve) => ours.once('connect', resolve));
  server.close();
  t.after(() => {
    ours.destroy();
    peer.destroy();
  });
  return { ours, peer };
}

/**
 * The smallest real backend: one end of a socket pair as its source and
 * sink. `push()` hands bytes to the base class as a backend's read does;
 * close can be held open with `holdClose` to look at the chardev while
 * its backend is closing.
 */
class SocketPairChardev extends Chardev {
  readonly kind = 'socket';
  pauses = 0;
  resumes = 0;
  holdClose: Promise<void> | undefined;

  constructor(readonly socket: net.Socket) {
    super('pair');
    socket.pause();
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
  }

  get filename(): string {
    return 'pair';
  }

  async open(): Promise<void> {
    this.setOpen(true);
  }

  push(data: Buffer): void {
    this.receive(data);
  }

  get held(): number {
    return this.heldInput;
  }

  protected writeToBackend(data: Buffer): boolean {
    return this.socket.write(data);
  }

  protected override pauseInput(): void {
    this.pauses++;
    this.socket.pause();
  }

  protected override resumeInput(): void {
    this.resumes++;
    this.socket.resume();
  }

  protected async closeBackend(): Promise<void> {
    await this.holdClose;
    this.socket.destroy();
  }
}

async function openPair(t: TestContext): Promise<{ chardev: SocketPairChardev; frontend: TestFrontend; peer: net.Socket }> {
  const { ours, peer } = await socketPair(t);
  const chardev = new SocketPairChardev(ours);
  await chardev.open();
  const frontend = new TestFrontend();
  chardev.attach(frontend);
  t.after(() => chardev.close());
  return { chardev, frontend, peer };
}

suite('Chardev base: input after close, held input, and the source', () => {
  test('close() pauses the source before the backend closes, so a closing chardev reads nothing more', async (t) => {
    const { chardev, frontend, peer } = await openPair(t);
    peer.write('before');
    await frontend.until(() => frontend.text === 'before', 'input while open');
    assert.equal(chardev.socket.isPaused(), false, 'the source is read while the frontend has room');
    let release = (): void => {};
    chardev.holdClose = new Promise((resolve) => {
      release = resolve;
    });
    const pausesBefore = chardev.pauses;
    const closing = chardev.close();
    assert.equal(chardev.pauses, pausesBefore + 1, 'pauseInput ran as close() began');
    assert.equal(chardev.socket.isPaused(), true, 'the source is paused while the backend closes');
    assert.equal(chardev.closed, true);
    release();
    await closing;
    assert.equal(frontend.text, 'before');
  });

  test('receive() after close() reaches no frontend, attached or attached later', async (t) => {
    const { chardev, frontend } = await openPair(t);
    await chardev.close();
    chardev.push(Buffer.from('late'));
    chardev.acceptInput();
    assert.equal(frontend.text, '');
    chardev.detach(frontend);
    const later = new TestFrontend();
    chardev.attach(later);
    chardev.push(Buffer.from('later'));
    assert.equal(later.text, '');
    assert.equal(chardev.held, 0, 'nothing is kept either');
  });

  test('held input stops at INPUT_HOLD_LIMIT: a source that goes on delivering while paused loses the excess, counted, and the rest arrives in order', async (t) => {
    const { chardev, frontend } = await openPair(t);
    frontend.capacity = 0;
    const chunk = Buffer.alloc(INPUT_HOLD_LIMIT / 2 + 1000);
    for (let i = 0; i < chunk.length; i++) chunk[i] = i % 251;
    chardev.push(chunk);
    assert.equal(chardev.socket.isPaused(), true, 'the source is paused as soon as input is held');
    chardev.push(chunk);
    chardev.push(chunk);
    assert.equal(chardev.held, INPUT_HOLD_LIMIT);
    assert.equal(chardev.droppedInput, 3 * chunk.length - INPUT_HOLD_LIMIT);
    assert.equal(chardev.socket.isPaused(), true);
    frontend.capacity = Number.MAX_SAFE_INTEGER;
    chardev.acceptInput();
    sameBytes(frontend.input, Buffer.concat([chunk, chunk, chunk]).subarray(0, INPUT_HOLD_LIMIT), 'the input kept');
    assert.equal(chardev.held, 0);
    assert.equal(chardev.socket.isPaused(), false, 'reading resumes once the frontend took everything');
  });

  test('input held for a detached frontend goes to the next one, and the source stays paused meanwhile', async (t) => {
    const { chardev, frontend, peer } = await openPair(t);
    chardev.detach(frontend);
    assert.equal(chardev.socket.isPaused(), true);
    chardev.push(Buffer.from('held'));
    peer.write('sent');
    const next = new TestFrontend();
    chardev.attach(next);
    await next.until(() => next.text === 'heldsent', 'held input, then the source');
    assert.equal(frontend.text, '');
  });
});

suite('closed chardevs', () => {
  const mkfifo = (path: string): void => {
    execFileSync('mkfifo', [path]);
  };

  test('write() to a closed chardev of any kind returns true and throws nothing (QEMU drops writes nobody can take)', async () => {
    const server = net.createServer((socket) => socket.on('error', () => {}));
    const serverPath = join(dir, 'peer.sock');
    await new Promise<void>((resolve) => server.listen(serverPath, resolve));
    mkfifo(join(dir, 'closed.fifo'));
    const chardevs: Chardev[] = [
      new NullChardev('n'),
      new RingbufChardev('r', 'ringbuf', 16),
      new FileChardev('f', { out: join(dir, 'closed.out') }, context),
      new PipeChardev('p', join(dir, 'closed.fifo'), context),
      new SocketChardev('s', { addr: { type: 'unix', data: { path: join(dir, 'closed-server.sock') } }, wait: false }, context),
      new SocketChardev('c', { addr: { type: 'unix', data: { path: serverPath } }, server: false }, context),
      new UdpChardev('u', { remote: { type: 'inet', data: { host: '127.0.0.1', port: '9' } } }, context),
      new PtyChardev('y', context),
    ];
    try {
      for (const chardev of chardevs) {
        await chardev.open();
        const frontend = new TestFrontend();
        chardev.attach(frontend);
        chardev.detach(frontend);
        await chardev.close();
        assert.equal(chardev.write(Buffer.from('after close')), true, `${chardev.kind} after close`);
        assert.equal(chardev.write(Buffer.alloc(4 << 20)), true, `${chardev.kind}: a large write after close`);
      }
    } finally {
      await Promise.all(chardevs.map((chardev) => chardev.close()));
      server.close();
    }
  });

  test('a process that opened every kind of stream backend, with peers attached and output stuck, exits by itself once they are closed', async (t) => {
    const base = (name: string): string => new URL(`../../../src/chardev/${name}.js`, import.meta.url).href;
    const fifo = join(dir, 'exit.fifo');
    mkfifo(fifo);
    const clientTarget = join(dir, 'exit-target.sock');
    const targetPeers: net.Socket[] = [];
    const target = net.createServer((socket) => {
      socket.on('error', () => {});
      targetPeers.push(socket);
      socket.write('from the target');
    });
    await new Promise<void>((resolve) => target.listen(clientTarget, resolve));
    const spec = {
      server: join(dir, 'exit-server.sock'),
      target: clientTarget,
      nobody: join(dir, 'nobody.sock'),
      fifo,
    };
    // The child holds the chardevs; this process holds their peers, as real peers are other processes.
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `
        import { SocketChardev } from ${JSON.stringify(base('socket'))};
        import { PipeChardev } from ${JSON.stringify(base('pipe'))};
        import { UdpChardev } from ${JSON.stringify(base('udp'))};
        import { PtyChardev } from ${JSON.stringify(base('pty'))};
        import { createInterface } from 'node:readline';
        const spec = JSON.parse(process.argv[1]);
        const context = { log: () => {} };
        const frontend = () => ({ frontendOpen: true, receiveCapacity: () => 1 << 20, receive() {}, event() {} });
        const unix = (path) => ({ type: 'unix', data: { path } });
        const server = new SocketChardev('server', { addr: unix(spec.server), wait: false }, context);
        const ws = new SocketChardev('ws', { addr: { type: 'inet', data: { host: '127.0.0.1', port: '0' } }, wait: false, websocket: true }, context);
        const client = new SocketChardev('client', { addr: unix(spec.target), server: false }, context);
        const reconnecting = new SocketChardev('reconnecting', { addr: unix(spec.nobody), server: false, 'reconnect-ms': 20 }, context);
        const pipe = new PipeChardev('pipe', spec.fifo, context);
        const udp = new UdpChardev('udp', { remote: { type: 'inet', data: { host: '127.0.0.1', port: '9' } } }, context);
        const pty = new PtyChardev('pty', context);
        const all = [server, ws, client, reconnecting, pipe, udp, pty];
        for (const chardev of all) {
          await chardev.open();
          chardev.attach(frontend());
        }
        // Output the pipe cannot take: its only reader is its own input, paused without a frontend.
        pipe.detach(pipe.frontend);
        for (let i = 0; i < 8; i++) pipe.write(Buffer.alloc(64 * 1024, 0x61));
        udp.write(Buffer.from('datagram'));
        const lines = createInterface({ input: process.stdin });
        const status = () => ({ served: server.connectionCount, handshakes: ws.handshakeCount, client: client.connectionCount, pty: pty.isOpen });
        console.log(JSON.stringify({ ws: /:(\\d+),server=on$/.exec(ws.filename)[1], pty: pty.ptsPath }));
        for await (const line of lines) {
          if (line === 'status') {
            console.log(JSON.stringify(status()));
            continue;
          }
          // Output the server's client never reads, then close with every frontend still attached.
          for (let i = 0; i < 64; i++) server.write(Buffer.alloc(64 * 1024, 0x62));
          lines.close();
          process.stdin.destroy();
          await Promise.all(all.map((chardev) => chardev.close()));
          console.log('closed');
          setTimeout(() => console.error('still open: ' + process.getActiveResourcesInfo().join(', ')), 3000).unref();
          break;
        }
        `,
        JSON.stringify(spec),
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const peers: net.Socket[] = [];
    let tty: TtyPeer | undefined;
    t.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill();
      for (const peer of [...peers, ...targetPeers]) peer.destroy();
      tty?.close();
      target.close();
    });
    const replies = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const nextLine = async (what: string): Promise<string> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; stderr: ${stderr}`)), WAIT_MS);
      });
      try {
        const next = await Promise.race([replies.next(), timeout]);
        if (next.done === true) throw new Error(`the child ended while waiting for ${what}; stderr: ${stderr}`);
        return next.value;
      } finally {
        clearTimeout(timer);
      }
    };
    const opened = JSON.parse(await nextLine('the chardevs to open')) as { ws: string; pty: string };

    const served = net.connect(spec.server);
    served.on('error', () => {});
    served.write('from the served client');
    served.pause();
    const handshaking = net.connect(Number(opened.ws), '127.0.0.1');
    handshaking.on('error', () => {});
    handshaking.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    peers.push(served, handshaking);
    tty = new TtyPeer(opened.pty);
    tty.write('from the terminal');

    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      child.stdin.write('status\n');
      const status = JSON.parse(await nextLine('a status')) as { served: number; handshakes: number; client: number; pty: boolean };
      if (status.served === 1 && status.handshakes === 1 && status.client === 1 && status.pty) break;
      if (Date.now() > deadline) throw new Error(`the peers did not all connect: ${JSON.stringify(status)}`);
      await new Promise((resolve) => setImmediate(resolve));
    }
    child.stdin.end('close\n');
    assert.equal(await nextLine('the chardevs to close'), 'closed');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      exited,
      new Promise<'stuck'>((resolve) => {
        timer = setTimeout(() => resolve('stuck'), WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
    assert.equal(code, 0, `the child should exit by itself; stderr: ${stderr}`);
  });
});
