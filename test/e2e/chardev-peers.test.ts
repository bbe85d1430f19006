import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, suite, test, type TestContext } from 'node:test';
import type { Chardev } from '../../src/chardev/chardev.js';
import { createChardev } from '../../src/chardev/create.js';
import { parseChardevOption } from '../../src/chardev/options.js';
import { PtyChardev } from '../../src/chardev/pty.js';
import { UdpChardev } from '../../src/chardev/udp.js';
import { type BytePeer, onPath, type PeerProcess, waitFor } from '../support/peer-process.js';
import { socatListening, socatSkipReason, startSocat } from '../support/peer-socat.js';
import { terminalProgram, TmuxServer } from '../support/peer-terminal.js';
import { WebSocketPeer } from '../support/peer-websocket.js';
import { Connection, NEGOTIATE } from '../support/qmp-transcript.js';
import { sameBytes } from '../support/same-bytes.js';
import { qemuSkipReason, startQemu } from '../support/servers.js';
import { TestFrontend } from '../support/test-frontend.js';

/**
 * chardevd's chardevs (the library, in this process, with a TestFrontend
 * as their frontend) against real programs at the other end: socat for
 * every socket mode and for udp, a terminal program under tmux for pty,
 * and QEMU 7.2 itself, client and server. Every chardev is created from
 * the `-chardev` text QEMU would be given. Programs are started by the
 * test, stopped by their PID, and every wait is bounded.
 */

const dir = mkdtempSync(join(tmpdir(), 'chardevd-peers-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SOCAT = socatSkipReason();
const QEMU = qemuSkipReason();
const IPV6 = await ipv6SkipReason();

/** How long a megabyte may take to cross, generous for a loaded CI machine. */
const BULK_MS = 15_000;
/** QEMU's start-up and its first bytes, bounded. */
const QEMU_MS = 10_000;

/** ~1 MiB with every byte value, telnet's IAC (0xFF) and NUL included, in no regular pattern. */
const PAYLOAD = binaryPayload(1 << 20);

/**
 * What QEMU 7.2's telnet server sends first (chardev/char-socket.c
 * tcp_chr_telnet_init): IAC WILL ECHO, IAC WILL SUPPRESS-GO-AHEAD,
 * IAC WILL BINARY, IAC DO BINARY. Written out here rather than imported,
 * so that the test is an independent check; the QEMU test below shows
 * these are QEMU's bytes.
 */
const QEMU_TELNET_INIT = Buffer.from([0xff, 0xfb, 0x01, 0xff, 0xfb, 0x03, 0xff, 0xfb, 0x00, 0xff, 0xfd, 0x00]);
const IAC = 0xff;

/** One line of QMP output: the greeting of QEMU 7.2 in compact mode. */
const QMP_GREETING = /^\{"QMP": \{"version": \{"qemu": \{"micro": \d+, "minor": 2, "major": 7\}, "package": "[^"]*"\}, "capabilities": \["oob"\]\}\}$/;

let serial = 0;
/** A fresh name in the temporary directory (Unix socket paths stay far below 108 bytes). */
const tempPath = (name: string): string => join(dir, `${serial++}-${name}`);
/** A fresh abstract socket name, unique to this process. */
const abstractName = (name: string): string => `chardevd-peers-${process.pid}-${serial++}-${name}`;

interface Opened {
  readonly chardev: Chardev;
  readonly frontend: TestFrontend;
  /** What the chardev logged (the daemon's stderr). */
  readonly logs: string[];
}

/** Creates a chardev from `-chardev` text with a TestFrontend attached; both are released when the test ends. */
async function openChardev(t: TestContext, spec: string): Promise<Opened> {
  const { id, backend } = parseChardevOption(spec);
  const logs: string[] = [];
  const chardev = await createChardev(id, backend, { log: (message) => logs.push(message) });
  const frontend = new TestFrontend();
  chardev.attach(frontend);
  t.after(async () => {
    chardev.detach(frontend);
    await chardev.close();
  });
  return { chardev, frontend, logs };
}

/** socat between a pipe and `address`, killed (by its PID) when the test ends. */
function socat(t: TestContext, address: string): PeerProcess {
  const peer = startSocat(address);
  t.after(() => peer.stop());
  return peer;
}

/** The port of a listening TCP chardev, from its filename (`disconnected:tcp:HOST:PORT,server=on`), as a user reads it. */
function listeningPort(chardev: Chardev): number {
  const match = /^disconnected:[a-z]+:.*:(\d+),server=on$/.exec(chardev.filename);
  assert.ok(match, `a listening TCP address in the filename, got ${chardev.filename}`);
  return Number(match[1]);
}

const count = (events: readonly string[], event: string): number => events.filter((e) => e === event).length;

/** `[::1]` for IPv6 literals, as QEMU and socat write them next to a port. */
const bracketed = (host: string): string => (host.includes(':') ? `[${host}]` : host);
const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function binaryPayload(size: number): Buffer {
  const data = Buffer.alloc(size);
  let x = 0x2545f491;
  for (let i = 0; i < size; i++) {
    if (i < 512) {
      data[i] = i & 0xff;
      continue;
    }
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    data[i] = x >>> 24;
  }
  return data;
}

/** What a telnet client sends for `data`: every 0xFF doubled (RFC 854). */
function escapeIac(data: Buffer): Buffer {
  const out: number[] = [];
  for (const byte of data) {
    out.push(byte);
    if (byte === IAC) out.push(IAC);
  }
  return Buffer.from(out);
}

/** Writes `data` as a well-behaved frontend does: 64 KiB at a time, waiting for drain() when write() says so. */
async function writeAll(chardev: Chardev, frontend: TestFrontend, data: Buffer, chunk = 64 * 1024): Promise<void> {
  for (let offset = 0; offset < data.length; offset += chunk) {
    const drains = frontend.drains;
    if (!chardev.write(data.subarray(offset, offset + chunk))) {
      await frontend.until(() => frontend.drains > drains || !chardev.isOpen, `drain() after ${offset + chunk} bytes written`, BULK_MS);
    }
  }
}

interface ExchangeOptions {
  /** What the peer must send for the frontend to get `data` (telnet doubles IAC). */
  readonly encode?: (data: Buffer) => Buffer;
  /** What the chardev sends the peer before any data (telnet negotiation). */
  readonly greeting?: Buffer;
}

/**
 * The contract every stream peer is held to, on a fresh, connected peer:
 * the chardev's greeting (if any) first, then a short message each way
 * and ~1 MiB of every byte value each way, all byte-exact with nothing
 * extra; then the peer hangs up and the frontend hears `closed`.
 */
async function exchange(chardev: Chardev, frontend: TestFrontend, peer: BytePeer, options: ExchangeOptions = {}): Promise<void> {
  const encode = options.encode ?? ((data: Buffer) => data);
  const greeting = options.greeting ?? Buffer.alloc(0);
  assert.equal(chardev.isOpen, true, 'the chardev is open while its peer is connected');
  const inputBase = frontend.input.length;
  if (greeting.length > 0) {
    await peer.until(() => peer.received.length >= greeting.length, 'the negotiation from the chardev');
    sameBytes(peer.received.subarray(0, greeting.length), greeting, 'the negotiation, before any data');
  }

  const hello = Buffer.from('hello from the frontend\r\n\0\x7f\x1b[0m', 'latin1');
  assert.equal(chardev.write(hello), true, 'a short write fits');
  await peer.until(() => peer.received.length >= greeting.length + hello.length, 'the short message at the peer');
  sameBytes(peer.received.subarray(greeting.length), hello, 'frontend -> peer, short');

  const reply = Buffer.from('hello from the peer\n\0\x04\x03', 'latin1');
  await peer.write(encode(reply));
  await frontend.until(() => frontend.input.length >= inputBase + reply.length, 'the short message at the frontend');
  sameBytes(frontend.input.subarray(inputBase), reply, 'peer -> frontend, short');

  const outputTotal = greeting.length + hello.length + PAYLOAD.length;
  await writeAll(chardev, frontend, PAYLOAD);
  await peer.until(() => peer.received.length >= outputTotal, `${PAYLOAD.length} bytes at the peer`, BULK_MS);
  sameBytes(peer.received.subarray(greeting.length + hello.length), PAYLOAD, 'frontend -> peer, 1 MiB');

  const inputTotal = inputBase + reply.length + PAYLOAD.length;
  await peer.write(encode(PAYLOAD));
  await frontend.until(() => frontend.input.length >= inputTotal, `${PAYLOAD.length} bytes at the frontend`, BULK_MS);
  sameBytes(frontend.input.subarray(inputBase + reply.length), PAYLOAD, 'peer -> frontend, 1 MiB');

  const closed = count(frontend.events, 'closed');
  await peer.close();
  await frontend.until(() => count(frontend.events, 'closed') > closed, "'closed' once the peer hung up");
  assert.equal(chardev.isOpen, false);
  assert.match(chardev.filename, /^disconnected:/);
  assert.equal(peer.received.length, outputTotal, 'nothing more reached the peer');
  assert.equal(frontend.input.length, inputTotal, 'nothing more reached the frontend');
}

async function ipv6SkipReason(): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (error) => resolve(`IPv6 loopback ::1 is not available here: ${error.message}`));
    server.listen(0, '::1', () => server.close(() => resolve(undefined)));
  });
}

/** The abstract Unix socket names the kernel lists (/proc/net/unix, NUL shown as @) that contain `name`. */
function abstractNames(name: string): string[] {
  return readFileSync('/proc/net/unix', 'latin1')
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[7] ?? '')
    .filter((path) => path.startsWith('@') && path.includes(name));
}

/**
 * Whether a socket listens on the Unix path `path` (/proc/net/unix flags
 * __SO_ACCEPTCON). A socket file appears at bind(), a moment before
 * listen(), so its existence alone does not mean a connect would succeed.
 */
function unixListening(path: string): boolean {
  return readFileSync('/proc/net/unix', 'latin1')
    .split('\n')
    .some((line) => {
      const fields = line.trim().split(/\s+/);
      return fields[3] === '00010000' && fields[7] === path;
    });
}

/**
 * An abstract name as QEMU's tight=off binds it: padded with NULs to the
 * whole of sun_path (108 bytes). QEMU 7.2 was seen to bind exactly this,
 * and exactly @NAME for tight=on.
 */
const paddedName = (name: string): string => `@${name}${'@'.repeat(108 - 1 - Buffer.byteLength(name))}`;

/**
 * libuv before 1.48 (Node 20 ships 1.46) binds and connects every
 * abstract name with the whole sockaddr_un as its length, so a tight name
 * cannot be made at all (libuv/libuv#4266); chardevd then refuses
 * tight=on with a message saying so (socket.ts), tested below.
 */
const TIGHT_UNAVAILABLE = libuvBefore(1, 48)
  ? `libuv ${process.versions.uv} (Node ${process.versions.node}) pads every abstract name, so tight=on cannot be bound; needs libuv >= 1.48`
  : undefined;

function libuvBefore(major: number, minor: number): boolean {
  const [maj = 0, min = 0] = (process.versions.uv ?? '0.0').split('.').map(Number);
  return maj < major || (maj === major && min < minor);
}

suite('socket chardev with socat as the peer', { skip: SOCAT }, () => {
  test('unix server: socat connects, bytes cross exactly both ways (1 MiB of every byte value), socat hanging up is closed, close() removes the socket file', async (t) => {
    const path = tempPath('server.sock');
    const { chardev, frontend } = await openChardev(t, `socket,id=unix-server,path=${path},server=on,wait=off`);
    assert.equal(chardev.filename, `disconnected:unix:${path},server=on`);
    const peer = socat(t, `UNIX-CONNECT:${path}`);
    await frontend.until(() => frontend.events.includes('opened'), "'opened' once socat connected");
    assert.equal(chardev.filename, `unix:${path},server=on`);
    await exchange(chardev, frontend, peer);
    assert.deepEqual(frontend.events, ['opened', 'closed']);
    chardev.detach(frontend);
    await chardev.close();
    assert.equal(existsSync(path), false, 'QEMU unlinks a server socket it created when the chardev goes');
  });

  test('unix client: chardevd connects to socat listening, bytes cross exactly both ways, socat hanging up is closed', async (t) => {
    const path = tempPath('client.sock');
    const peer = socat(t, `UNIX-LISTEN:${path}`);
    await socatListening(peer);
    const { chardev, frontend } = await openChardev(t, `socket,id=unix-client,path=${path}`);
    assert.deepEqual(frontend.events, ['opened'], 'a client is connected once created');
    // QEMU prints the local address of the client, which has no name.
    assert.equal(chardev.filename, 'unix:');
    await exchange(chardev, frontend, peer);
  });

  test('abstract unix server, tight=on: the kernel lists exactly @NAME, socat (tight by default) connects and talks, and a padded name does not reach it', {
    skip: TIGHT_UNAVAILABLE,
  }, async (t) => {
    const name = abstractName('tight');
    const { chardev, frontend } = await openChardev(t, `socket,id=abstract-server,path=${name},abstract=on,tight=on,server=on,wait=off`);
    assert.deepEqual(abstractNames(name), [`@${name}`]);
    assert.equal(chardev.filename, `disconnected:unix:${name},abstract=on,tight=on,server=on`);
    // Abstract names are compared with their length: the padded spelling is another name.
    const padded = socat(t, `ABSTRACT-CONNECT:${name},unix-tightsocklen=0`);
    await padded.waitForExit('socat with a padded name to give up');
    assert.notEqual(padded.exit?.code, 0, `socat with a padded name must not connect; ${padded.state()}`);
    assert.deepEqual(frontend.events, []);
    const peer = socat(t, `ABSTRACT-CONNECT:${name}`);
    await frontend.until(() => frontend.events.includes('opened'), "'opened' once socat connected");
    await exchange(chardev, frontend, peer);
  });

  test('abstract unix client, tight=on: chardevd reaches socat listening on the same name', { skip: TIGHT_UNAVAILABLE }, async (t) => {
    const name = abstractName('tight-client');
    const peer = socat(t, `ABSTRACT-LISTEN:${name}`);
    await socatListening(peer);
    assert.deepEqual(abstractNames(name), [`@${name}`]);
    const { chardev, frontend } = await openChardev(t, `socket,id=abstract-client,path=${name},abstract=on`);
    assert.deepEqual(frontend.events, ['opened']);
    await exchange(chardev, frontend, peer);
  });

  // QEMU 7.2 binds tight=off names padded with NULs to all of sun_path
  // (util/qemu-sockets.c unix_listen_saddr: addrlen = sizeof(un)); socat's
  // unix-tightsocklen=0 means the same.
  test('abstract unix, tight=on on a libuv that pads every abstract name: refused, saying why and what works', {
    skip: TIGHT_UNAVAILABLE === undefined ? 'this libuv binds tight abstract names' : undefined,
  }, async () => {
    const options = parseChardevOption(`socket,id=tight,path=${abstractName('refused')},abstract=on,server=on,wait=off`);
    await assert.rejects(createChardev(options.id, options.backend, { log: () => {} }), {
      message: new RegExp(
        `^abstract Unix socket names with tight=on \\(the default\\) need Node.js with libuv 1.48 or newer; this one has libuv ${process.versions.uv.replaceAll('.', '\\.')}, which pads every abstract name \\(use tight=off for a padded name\\)$`,
      ),
    });
  });

  test('abstract unix server, tight=off: the name is padded to the full sun_path as QEMU pads it, and socat with unix-tightsocklen=0 connects', async (t) => {
    const name = abstractName('padded');
    const { chardev, frontend } = await openChardev(t, `socket,id=padded-server,path=${name},abstract=on,tight=off,server=on,wait=off`);
    assert.deepEqual(abstractNames(name), [paddedName(name)]);
    assert.equal(chardev.filename, `disconnected:unix:${name},abstract=on,server=on`);
    const peer = socat(t, `ABSTRACT-CONNECT:${name},unix-tightsocklen=0`);
    await frontend.until(() => frontend.events.includes('opened'), "'opened' once socat connected with the padded name");
    await exchange(chardev, frontend, peer);
  });

  test('abstract unix client, tight=off: chardevd reaches socat listening on the padded name', async (t) => {
    const name = abstractName('padded-client');
    const peer = socat(t, `ABSTRACT-LISTEN:${name},unix-tightsocklen=0`);
    await socatListening(peer);
    assert.deepEqual(abstractNames(name), [paddedName(name)]);
    const { chardev, frontend } = await openChardev(t, `socket,id=padded-client,path=${name},abstract=on,tight=off`);
    assert.deepEqual(frontend.events, ['opened']);
    await exchange(chardev, frontend, peer);
  });

  for (const host of ['127.0.0.1', '::1']) {
    const skip = host === '::1' ? IPV6 : undefined;
    const socatTcp = host === '::1' ? 'TCP6' : 'TCP4';
    const shown = escapeRegExp(bracketed(host));

    test(`tcp server on ${host}: socat connects, bytes cross exactly both ways, socat hanging up is closed`, { skip }, async (t) => {
      const { chardev, frontend } = await openChardev(t, `socket,id=tcp-server,host=${host},port=0,server=on,wait=off`);
      const port = listeningPort(chardev);
      const peer = socat(t, `${socatTcp}:${bracketed(host)}:${port}`);
      await frontend.until(() => frontend.events.includes('opened'), "'opened' once socat connected");
      assert.match(chardev.filename, new RegExp(`^tcp:${shown}:${port},server=on <-> ${shown}:\\d+$`));
      await exchange(chardev, frontend, peer);
    });

    test(`tcp client to ${host}: chardevd connects to socat listening, bytes cross exactly both ways, socat hanging up is closed`, { skip }, async (t) => {
      const peer = socat(t, `${socatTcp}-LISTEN:0,bind=${bracketed(host)}`);
      const port = await socatListening(peer);
      const { chardev, frontend } = await openChardev(t, `socket,id=tcp-client,host=${host},port=${port}`);
      assert.deepEqual(frontend.events, ['opened']);
      assert.match(chardev.filename, new RegExp(`^tcp:${shown}:\\d+ <-> ${shown}:${port}$`));
      await exchange(chardev, frontend, peer);
    });
  }

  test('nodelay=on, as server and as client: bytes cross exactly both ways', async (t) => {
    // TCP_NODELAY itself cannot be read from outside the process; what an
    // end-to-end test can show is that the option leaves the stream intact.
    const server = await openChardev(t, 'socket,id=nodelay-server,host=127.0.0.1,port=0,server=on,wait=off,nodelay=on');
    const toServer = socat(t, `TCP4:127.0.0.1:${listeningPort(server.chardev)}`);
    await server.frontend.until(() => server.frontend.events.includes('opened'), "'opened' once socat connected");
    await exchange(server.chardev, server.frontend, toServer);

    const listener = socat(t, 'TCP4-LISTEN:0,bind=127.0.0.1');
    const port = await socatListening(listener);
    const client = await openChardev(t, `socket,id=nodelay-client,host=127.0.0.1,port=${port},nodelay=on`);
    await exchange(client.chardev, client.frontend, listener);
  });

  test("telnet=on server: socat gets QEMU's negotiation first; the client's answers and IAC commands are stripped, IAC IAC arrives as 0xFF, IAC BREAK is a break; then data is exact both ways", async (t) => {
    const { chardev, frontend } = await openChardev(t, 'socket,id=telnet-server,host=127.0.0.1,port=0,server=on,wait=off,telnet=on');
    assert.match(chardev.filename, /^disconnected:telnet:127\.0\.0\.1:\d+,server=on$/);
    const peer = socat(t, `TCP4:127.0.0.1:${listeningPort(chardev)}`);
    await frontend.until(() => frontend.events.includes('opened'), "'opened' once socat connected");
    await peer.until(() => peer.received.length >= QEMU_TELNET_INIT.length, 'the telnet negotiation');
    sameBytes(peer.received, QEMU_TELNET_INIT, 'the telnet negotiation');

    // What a telnet client answers (DO ECHO, DO SGA, DO BINARY, WILL BINARY), then data.
    await peer.write(Buffer.from([IAC, 0xfd, 0x01, IAC, 0xfd, 0x03, IAC, 0xfd, 0x00, IAC, 0xfb, 0x00]));
    await peer.write(Buffer.from('a\xff\xffb', 'latin1'));
    await frontend.until(() => frontend.input.length >= 3, 'the data after the negotiation');
    sameBytes(frontend.input, Buffer.from('a\xffb', 'latin1'), 'input with the negotiation stripped and IAC IAC unescaped');
    await peer.write(Buffer.from([IAC, 0xf3]));
    await frontend.until(() => frontend.events.includes('break'), "'break' for IAC BREAK");
    // An IAC split from its command across two writes is still a command.
    await peer.write(Buffer.from('c\xff', 'latin1'));
    await peer.write(Buffer.from('\xfb\x18d', 'latin1'));
    await frontend.until(() => frontend.input.length >= 5, 'the data around a split command');
    sameBytes(frontend.input, Buffer.from('a\xffbcd', 'latin1'), 'input with a split command stripped');
    assert.equal(peer.received.length, QEMU_TELNET_INIT.length, 'the server answers no negotiation, as QEMU');

    // QEMU sends the frontend's output raw (tcp_chr_write does not double
    // IAC), so the peer gets exactly the bytes written; input must be escaped.
    await exchange(chardev, frontend, peer, { encode: escapeIac, greeting: QEMU_TELNET_INIT });
  });

  test('reconnect=1 client: connects to a socat started late, sees closed when socat is killed, reconnects to a restarted socat, and bytes flow again', async (t) => {
    const path = tempPath('reconnect.sock');
    const { chardev, frontend, logs } = await openChardev(t, `socket,id=reconnecting,path=${path},reconnect=1`);
    assert.equal(chardev.isOpen, false, 'a reconnecting client opens without a server');
    await waitFor(() => logs.some((line) => line.startsWith('Unable to connect character device reconnecting:')), 'the first failed attempt to be logged', 5_000, 20);

    const first = socat(t, `UNIX-LISTEN:${path}`);
    await socatListening(first);
    await frontend.until(() => frontend.events.includes('opened'), "'opened' once the late server listens", 5_000);
    chardev.write(Buffer.from('to the first server'));
    await first.until(() => first.received.toString() === 'to the first server', 'output at the first server');
    await first.write('from the first server');
    await frontend.until(() => frontend.text === 'from the first server', 'input from the first server');

    first.kill('SIGKILL');
    await first.waitForExit('the first socat to die');
    await frontend.until(() => frontend.events.includes('closed'), "'closed' once the server was killed");
    assert.equal(chardev.isOpen, false);

    // The killed socat left its socket file behind; unlink-early replaces it.
    const second = socat(t, `UNIX-LISTEN:${path},unlink-early`);
    await socatListening(second);
    await frontend.until(() => count(frontend.events, 'opened') === 2, "'opened' again once the server is back", 5_000);
    assert.deepEqual(frontend.events, ['opened', 'closed', 'opened']);
    await exchange(chardev, frontend, second);
    assert.equal(first.received.toString(), 'to the first server', 'nothing went to the dead server');
  });

  test('websocket=on server: clients that do not speak WebSocket (socat) are turned away without opening, and a WebSocket client is served after them', async (t) => {
    const { chardev, frontend } = await openChardev(t, 'socket,id=ws-refusing,host=127.0.0.1,port=0,server=on,wait=off,websocket=on');
    const port = listeningPort(chardev);
    const plainHttp = socat(t, `TCP4:127.0.0.1:${port}`);
    await plainHttp.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    // socat -d -d reports the server's end of the connection ("socket 2"), which is the hang-up.
    await plainHttp.stderrMatch(/socket 2 \(fd \d+\) is at EOF/, 'the server to answer a request without upgrade and hang up');
    // socat's stdout and stderr are two pipes: the answer may come in after the hang-up report.
    await plainHttp.until(() => plainHttp.received.length > 0, 'the answer to the request without upgrade');
    assert.match(plainHttp.received.toString('latin1'), /^HTTP\/1\.1 400 /);
    const garbage = socat(t, `TCP4:127.0.0.1:${port}`);
    await garbage.write(Buffer.from('\x16\x03\x01\x00\xff not http at all\r\n\r\n', 'latin1'));
    await garbage.stderrMatch(/socket 2 \(fd \d+\) is at EOF/, 'the server to hang up on garbage');
    assert.deepEqual(frontend.events, [], 'no connection opened the chardev');

    const peer = await WebSocketPeer.connect(`ws://127.0.0.1:${port}/`);
    t.after(() => peer.terminate());
    await frontend.until(() => frontend.events.includes('opened'), "'opened' for the WebSocket client");
    chardev.write(Buffer.from('still serving'));
    await peer.until(() => peer.received.toString() === 'still serving', 'output at the WebSocket client');
    await peer.write('ok');
    await frontend.until(() => frontend.text === 'ok', 'input from the WebSocket client');
  });
});

// socat cannot speak WebSocket, so the `ws` package's client is the peer here.
suite('socket chardev with a WebSocket client as the peer', () => {
  test('websocket=on server: a WebSocket client (the ws package; socat speaks no WebSocket) exchanges bytes exactly in binary frames, and closing is closed', async (t) => {
    const { chardev, frontend } = await openChardev(t, 'socket,id=ws-server,host=127.0.0.1,port=0,server=on,wait=off,websocket=on');
    assert.match(chardev.filename, /^disconnected:websocket:127\.0\.0\.1:\d+,server=on$/);
    const peer = await WebSocketPeer.connect(`ws://127.0.0.1:${listeningPort(chardev)}/`);
    t.after(() => peer.terminate());
    await frontend.until(() => frontend.events.includes('opened'), "'opened' once the handshake completed");
    await exchange(chardev, frontend, peer);
    assert.equal(peer.textFrames, 0, 'output travels in binary frames only');
    await peer.until(() => peer.closed, 'the closing handshake to complete');
    assert.equal(peer.closeCode, 1000);
  });
});

const TERMINAL = terminalProgram();
const TERMINAL_SKIP = !onPath('tmux')
  ? 'tmux is not installed (apt-get install tmux)'
  : TERMINAL === undefined
    ? 'tio is not installed (apt-get install tio), nor picocom or screen'
    : undefined;

suite('pty chardev with a terminal program under tmux', { skip: TERMINAL_SKIP }, () => {
  test(`${TERMINAL?.name ?? 'tio'} opens /dev/pts/N: opened, its keys reach the frontend, frontend output shows in the pane, closed when it quits, and the same again for the next run`, async (t) => {
    const program = TERMINAL!;
    const { chardev, frontend } = await openChardev(t, 'pty,id=console');
    assert.ok(chardev instanceof PtyChardev);
    assert.match(chardev.ptsPath, /^\/dev\/pts\/\d+$/);
    const tmux = new TmuxServer(mkdtempSync(join(dir, 'tmux-')));
    t.after(() => tmux.kill());

    await tmux.newSession(program.command(chardev.ptsPath));
    await frontend.until(() => frontend.events.includes('opened'), `'opened' once ${program.name} opened the pty`, 10_000);
    // A program may set the line up after opening it and drop what came
    // before, so the first line is repeated until it shows; from then on
    // the program reads, and every later write must show exactly once.
    await waitFor(async () => {
      chardev.write(Buffer.from('ready?\r\n'));
      return (await tmux.capture()).includes('ready?');
    }, `${program.name} to show output`);
    chardev.write(Buffer.from('line one from the frontend\r\ncaf\xc3\xa9 \xe2\x82\xac\r\n', 'latin1'));
    await waitFor(async () => (await tmux.capture()).includes('café €'), "the frontend's output in the pane", 5_000, 20);
    const pane = await tmux.capture();
    assert.equal(pane.split('\n').filter((line) => line === 'line one from the frontend').length, 1, `one line in the pane: ${pane}`);

    await tmux.type('typed in tmux');
    await tmux.sendKeys('Enter', 'C-c', 'Escape');
    await frontend.until(() => frontend.text.endsWith('\r\x03\x1b'), 'the keys typed in tmux at the frontend');
    assert.equal(frontend.text, 'typed in tmux\r\x03\x1b', 'the keys, and nothing of the output echoed back');

    await tmux.sendKeys(...program.quitKeys);
    await frontend.until(() => frontend.events.includes('closed'), `'closed' once ${program.name} quit`, 5_000);
    assert.equal(chardev.isOpen, false);

    // A second run, this time ended by killing the tmux server (the program gets SIGHUP).
    await tmux.newSession(program.command(chardev.ptsPath));
    await frontend.until(() => count(frontend.events, 'opened') === 2, `'opened' when ${program.name} opened the pty again`, 10_000);
    await tmux.type('again');
    await frontend.until(() => frontend.text.endsWith('again'), 'keys from the second run');
    await tmux.kill();
    await frontend.until(() => count(frontend.events, 'closed') === 2, `'closed' once ${program.name} was hung up`, 5_000);
    assert.deepEqual(frontend.events, ['opened', 'closed', 'opened', 'closed']);
  });
});

/** The complete CRLF-terminated lines a frontend received so far. */
function qmpLines(frontend: TestFrontend): string[] {
  const lines = frontend.text.split('\r\n');
  lines.pop();
  return lines;
}

/** Sends one QMP command through the chardev and returns the next reply line that is not an event. */
async function qmpCall(chardev: Chardev, frontend: TestFrontend, command: string): Promise<string> {
  const before = qmpLines(frontend).length;
  const reply = (): string | undefined =>
    qmpLines(frontend)
      .slice(before)
      .find((line) => !line.startsWith('{"timestamp"') && !line.includes('"event"'));
  assert.equal(chardev.write(Buffer.from(command)), true);
  await frontend.until(() => reply() !== undefined, `QEMU's reply to ${command}`, QEMU_MS);
  assert.ok(frontend.text.endsWith('\r\n'), 'every QMP message ends with CRLF');
  return reply()!;
}

interface ChardevInfo {
  readonly label: string;
  readonly filename: string;
  readonly 'frontend-open': boolean;
}

function chardevInfo(line: string, label: string): ChardevInfo {
  const parsed = JSON.parse(line) as { return: ChardevInfo[] };
  const found = parsed.return.find((info) => info.label === label);
  assert.ok(found, `${label} in ${line}`);
  return found;
}

/** Asks QEMU's own QMP socket (-qmp of startQemu) what query-chardev says about `label`. */
async function queryQemuChardev(qmpPath: string, label: string): Promise<ChardevInfo> {
  await waitFor(() => unixListening(qmpPath), "QEMU's QMP socket to listen", QEMU_MS, 20);
  const connection = await Connection.open(qmpPath);
  try {
    await connection.until((lines) => lines.length >= 1, "the greeting on QEMU's -qmp socket");
    connection.socket.write(`${NEGOTIATE}{"execute":"query-chardev","id":"q"}`);
    await connection.until((lines) => lines.some((line) => line.includes('"id": "q"')), 'the query-chardev reply');
    return chardevInfo(connection.lines.find((line) => line.includes('"id": "q"'))!, label);
  } finally {
    connection.socket.destroy();
  }
}

suite('QEMU 7.2 as the peer: its monitor over a chardevd socket', { skip: QEMU }, () => {
  test('QEMU connects as a client to a chardevd unix server: its greeting arrives, qmp_capabilities and query-chardev are answered byte for byte, and quit is closed', async (t) => {
    const path = tempPath('qemu-client.sock');
    const { chardev, frontend } = await openChardev(t, `socket,id=to-qemu,path=${path},server=on,wait=off`);
    const qemu = await startQemu(['-chardev', `socket,id=c0,path=${path}`, '-mon', 'chardev=c0,mode=control']);
    t.after(() => qemu.stop());
    await frontend.until(() => qmpLines(frontend).length >= 1, `QEMU's greeting; QEMU stderr: ${qemu.stderr()}`, QEMU_MS);
    assert.deepEqual(frontend.events, ['opened']);
    assert.equal(chardev.filename, `unix:${path},server=on`);
    const [greeting] = qmpLines(frontend);
    assert.match(greeting!, QMP_GREETING);
    assert.equal(frontend.text, `${greeting}\r\n`, 'nothing but the greeting before the first command');

    assert.equal(await qmpCall(chardev, frontend, '{"execute":"qmp_capabilities"}'), '{"return": {}}');
    const info = await qmpCall(chardev, frontend, '{"execute":"query-chardev","id":7}');
    assert.match(info, /^\{"return": \[.*\], "id": 7\}$/);
    // QEMU names a connected Unix client by its own, nameless, end: what chardevd shows for its clients too.
    assert.deepEqual(chardevInfo(info, 'c0'), { 'frontend-open': true, filename: 'unix:', label: 'c0' });

    assert.equal(await qmpCall(chardev, frontend, '{"execute":"quit"}'), '{"return": {}}');
    await frontend.until(() => frontend.events.includes('closed'), "'closed' once QEMU quit", QEMU_MS);
    // QEMU 7.2 sends the event before the reply to quit.
    assert.ok(
      qmpLines(frontend).some((line) => /"event": "SHUTDOWN", "data": \{"guest": false, "reason": "host-qmp-quit"\}/.test(line)),
      `SHUTDOWN in ${JSON.stringify(qmpLines(frontend).slice(-3))}`,
    );
    assert.equal(await qemu.exited, 0);
  });

  test("chardevd connects as a client to QEMU's unix server: the greeting arrives, the exchange is answered, and QEMU ending (SIGTERM to its PID) is closed", async (t) => {
    const qemu = await startQemu((qemuDir) => ['-chardev', `socket,id=c0,path=${join(qemuDir, 'c0.sock')},server=on,wait=off`, '-mon', 'chardev=c0,mode=control']);
    t.after(() => qemu.stop());
    const path = join(qemu.dir, 'c0.sock');
    await waitFor(() => unixListening(path), "QEMU's chardev socket to listen", QEMU_MS, 20);
    const { chardev, frontend } = await openChardev(t, `socket,id=from-qemu,path=${path}`);
    assert.deepEqual(frontend.events, ['opened']);
    assert.equal(chardev.filename, 'unix:');
    await frontend.until(() => qmpLines(frontend).length >= 1, "QEMU's greeting", QEMU_MS);
    assert.match(qmpLines(frontend)[0]!, QMP_GREETING);

    assert.equal(await qmpCall(chardev, frontend, '{"execute":"qmp_capabilities"}'), '{"return": {}}');
    const info = await qmpCall(chardev, frontend, '{"execute":"query-chardev"}');
    // The server side as QEMU names it, which is what chardevd's servers show (see the test above).
    assert.deepEqual(chardevInfo(info, 'c0'), { 'frontend-open': true, filename: `unix:${path},server=on`, label: 'c0' });

    await qemu.stop();
    await frontend.until(() => frontend.events.includes('closed'), "'closed' once QEMU ended", QEMU_MS);
    assert.match(qmpLines(frontend).at(-1) ?? '', /"event": "SHUTDOWN", "data": \{"guest": false, "reason": "host-signal"\}/);
    assert.deepEqual(frontend.events, ['opened', 'closed']);
  });

  // The other way round (QEMU as a plain client of a chardevd telnet
  // server) shows nothing: QEMU's client never speaks telnet, so the
  // negotiation would land in its monitor as JSON parse errors, exactly as
  // it would from QEMU's own telnet server. Comparing the two servers'
  // first bytes, through the same chardevd client, is the useful check.
  test("telnet=on: QEMU's telnet server and chardevd's send the same negotiation bytes to a chardevd client, and QMP works through QEMU's telnet filter", async (t) => {
    const qemu = await startQemu(['-chardev', 'socket,id=c0,host=127.0.0.1,port=0,server=on,wait=off,telnet=on', '-mon', 'chardev=c0,mode=control']);
    t.after(() => qemu.stop());
    const listening = await queryQemuChardev(qemu.qmpPath, 'c0');
    const port = /^disconnected:telnet:127\.0\.0\.1:(\d+),server=on$/.exec(listening.filename)?.[1];
    assert.ok(port, `QEMU's telnet server address, got ${listening.filename}`);

    const toQemu = await openChardev(t, `socket,id=telnet-qemu,host=127.0.0.1,port=${port}`);
    await toQemu.frontend.until(() => qmpLines(toQemu.frontend).length >= 1, "QEMU's negotiation and greeting", QEMU_MS);
    const qemuNegotiation = toQemu.frontend.input.subarray(0, QEMU_TELNET_INIT.length);
    sameBytes(qemuNegotiation, QEMU_TELNET_INIT, "QEMU's telnet negotiation");
    assert.match(toQemu.frontend.text.slice(QEMU_TELNET_INIT.length), /^\{"QMP": .*\r\n$/);
    assert.equal(await qmpCall(toQemu.chardev, toQemu.frontend, '{"execute":"qmp_capabilities"}'), '{"return": {}}');

    const server = await openChardev(t, 'socket,id=telnet-ours,host=127.0.0.1,port=0,server=on,wait=off,telnet=on');
    const toOurs = await openChardev(t, `socket,id=telnet-client,host=127.0.0.1,port=${listeningPort(server.chardev)}`);
    await toOurs.frontend.until(() => toOurs.frontend.input.length >= QEMU_TELNET_INIT.length, "chardevd's negotiation");
    sameBytes(toOurs.frontend.input, qemuNegotiation, "chardevd's telnet negotiation against QEMU's");
  });
});

/** A UDP port that was free a moment ago, for a peer that must be told its port before it starts. */
async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Whether some socket is bound to 127.0.0.1:`port` over UDP (/proc/net/udp lists it in hex). */
function udpBound(port: number): boolean {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/udp', 'latin1')
    .split('\n')
    .some((line) => line.trim().split(/\s+/)[1] === local);
}

suite('udp chardev with socat as the peer', { skip: SOCAT }, () => {
  test('localaddr/localport and host/port: datagrams cross both ways with socat UDP-SENDTO, and the chardev never reports opened (as QEMU)', async (t) => {
    const socatPort = await freeUdpPort();
    const { chardev, frontend } = await openChardev(t, `udp,id=udp-sendto,host=127.0.0.1,port=${socatPort},localaddr=127.0.0.1,localport=0`);
    assert.ok(chardev instanceof UdpChardev);
    const local = chardev.localAddress;
    assert.ok(local !== undefined);
    assert.equal(local.address, '127.0.0.1');
    const peer = socat(t, `UDP4-SENDTO:127.0.0.1:${local.port},bind=127.0.0.1:${socatPort}`);
    await waitFor(() => udpBound(socatPort) || !peer.running, `socat to bind 127.0.0.1:${socatPort}`, 5_000, 10);
    assert.ok(peer.running, peer.state());

    const everyByte = binaryPayload(256);
    await peer.write('first datagram from socat');
    await frontend.until(() => frontend.text === 'first datagram from socat', 'the first datagram at the frontend');
    await peer.write(everyByte);
    await frontend.until(() => frontend.input.length >= 25 + 256, 'the binary datagram at the frontend');
    sameBytes(frontend.input.subarray(25), everyByte, 'socat -> frontend, every byte value');

    chardev.write(Buffer.from('first datagram from chardevd'));
    await peer.until(() => peer.received.toString() === 'first datagram from chardevd', 'the first datagram at socat');
    for (const word of ['one ', 'two ', 'three']) chardev.write(Buffer.from(word));
    chardev.write(everyByte);
    const expected = Buffer.concat([Buffer.from('first datagram from chardevdone two three'), everyByte]);
    await peer.until(() => peer.received.length >= expected.length, 'the datagrams at socat');
    sameBytes(peer.received, expected, 'frontend -> socat');
    assert.deepEqual(frontend.events, [], 'QEMU never opens a udp chardev (char-udp.c), so neither does chardevd');
  });

  test('socat UDP-RECVFROM answers the chardev that sent it a datagram; the answers reach the frontend', async (t) => {
    const socatPort = await freeUdpPort();
    const peer = socat(t, `UDP4-RECVFROM:${socatPort},bind=127.0.0.1`);
    await waitFor(() => udpBound(socatPort) || !peer.running, `socat to bind 127.0.0.1:${socatPort}`, 5_000, 10);
    assert.ok(peer.running, peer.state());
    const { chardev, frontend } = await openChardev(t, `udp,id=udp-recvfrom,host=127.0.0.1,port=${socatPort},localaddr=127.0.0.1,localport=0`);
    chardev.write(Buffer.from('who is there?'));
    await peer.until(() => peer.received.toString() === 'who is there?', 'the datagram at socat');
    await peer.write('answer one, ');
    await frontend.until(() => frontend.text === 'answer one, ', 'the first answer');
    await peer.write('answer two');
    await frontend.until(() => frontend.text === 'answer one, answer two', 'the second answer');
  });
});

suite('vanishing peers', { skip: SOCAT }, () => {
  test('socat killed while the frontend writes 10 MiB: closed, write() never throws, nothing unhandled, the server takes the next client, and another chardev keeps working', async (t) => {
    const unhandled: unknown[] = [];
    const record = (error: unknown): void => {
      unhandled.push(error);
    };
    process.on('uncaughtException', record);
    process.on('unhandledRejection', record);
    t.after(() => {
      process.off('uncaughtException', record);
      process.off('unhandledRejection', record);
    });

    const victimPath = tempPath('victim.sock');
    const bystanderPath = tempPath('bystander.sock');
    const victim = await openChardev(t, `socket,id=victim,path=${victimPath},server=on,wait=off`);
    const bystander = await openChardev(t, `socket,id=bystander,path=${bystanderPath},server=on,wait=off`);
    const doomed = socat(t, `UNIX-CONNECT:${victimPath}`);
    const steady = socat(t, `UNIX-CONNECT:${bystanderPath}`);
    await victim.frontend.until(() => victim.frontend.events.includes('opened'), "'opened' for the victim");
    await bystander.frontend.until(() => bystander.frontend.events.includes('opened'), "'opened' for the bystander");

    // A frontend that ignores write() === false, the harshest case: the
    // chardev must bound what it keeps and must not throw, before, during
    // and after the peer's death.
    const chunk = PAYLOAD.subarray(0, 64 * 1024);
    const total = 10 << 20;
    const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    let written = 0;
    const writeChunk = (): void => {
      victim.chardev.write(chunk);
      written += chunk.length;
    };
    while (written < 2 << 20) {
      writeChunk();
      // Let I/O happen between writes, so that the peer reads and later dies mid-stream.
      await turn();
    }
    await doomed.until(() => doomed.received.length >= chunk.length, 'the first bytes at the peer');
    assert.equal(victim.chardev.isOpen, true, 'the peer is killed while connected');
    doomed.kill('SIGKILL');
    let writesWhileDying = 0;
    while (doomed.running && written < total) {
      writeChunk();
      writesWhileDying++;
      await turn();
    }
    while (written < total) {
      writeChunk();
      await turn();
    }
    assert.ok(writesWhileDying > 0, 'the frontend was still writing when the peer died');
    await doomed.waitForExit('the killed socat to be reaped');
    assert.equal(doomed.exit?.signal, 'SIGKILL');
    await victim.frontend.until(() => victim.frontend.events.includes('closed'), "'closed' after the peer was killed");
    assert.equal(victim.chardev.isOpen, false);
    assert.equal(victim.chardev.write(Buffer.from('into the void')), true, 'output without a peer is discarded, as QEMU does');
    // Whole writes may be dropped (the frontend ignored write() === false), never cut or mixed:
    // with every write the same chunk, what arrived is that chunk over and over.
    const got = doomed.received;
    assert.ok(got.length <= total, `the dead peer got at most what was written, got ${got.length}`);
    const repeated = Buffer.concat(Array.from({ length: Math.ceil(got.length / chunk.length) }, () => chunk)).subarray(0, got.length);
    sameBytes(got, repeated, 'what reached the peer before it died');

    await exchange(bystander.chardev, bystander.frontend, steady);

    const next = socat(t, `UNIX-CONNECT:${victimPath}`);
    await victim.frontend.until(() => count(victim.frontend.events, 'opened') === 2, "'opened' for the next client");
    victim.chardev.write(Buffer.from('after the crash'));
    await next.until(() => next.received.toString() === 'after the crash', 'output to the next client');
    await next.write('still here');
    await victim.frontend.until(() => victim.frontend.text === 'still here', 'input from the next client');
    assert.deepEqual(unhandled, [], 'no uncaught exception or unhandled rejection');
  });
});
