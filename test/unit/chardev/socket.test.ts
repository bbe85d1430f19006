import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, suite, test } from 'node:test';
import { WebSocket } from 'ws';
import { ChardevError } from '../../../src/chardev/chardev-error.js';
import { SocketChardev } from '../../../src/chardev/socket.js';
import { OUTPUT_QUEUE_LIMIT } from '../../../src/chardev/stream-io.js';
import type { ChardevSocket } from '../../../src/generated/qapi-types.gen.js';
import { sameBytes } from '../../support/same-bytes.js';
import { TestFrontend } from '../../support/test-frontend.js';

const WAIT_MS = 5_000;
const dir = mkdtempSync(join(tmpdir(), 'chardevd-socket-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const messages: string[] = [];
const context = { log: (message: string) => messages.push(message) };

let serial = 0;
function unixAddress(): ChardevSocket['addr'] {
  return { type: 'unix', data: { path: join(dir, `s${serial++}.sock`) } };
}
const tcpAddress: ChardevSocket['addr'] = { type: 'inet', data: { host: '127.0.0.1', port: '0' } };

/** Where each server chardev listens, read from its filename after open() as a user would. */
const listening = new WeakMap<SocketChardev, string>();

async function openChardev(options: ChardevSocket): Promise<{ chardev: SocketChardev; frontend: TestFrontend }> {
  const chardev = new SocketChardev('sock', options, context);
  await chardev.open();
  listening.set(chardev, chardev.filename);
  const frontend = new TestFrontend();
  chardev.attach(frontend);
  return { chardev, frontend };
}

function connectTo(chardev: SocketChardev): net.Socket {
  const filename = listening.get(chardev) ?? '';
  const unix = /^disconnected:unix:([^,]+),server=on$/.exec(filename);
  if (unix !== null) return net.connect(unix[1]!);
  const tcp = /^disconnected:[a-z]+:127\.0\.0\.1:(\d+),server=on$/.exec(filename);
  assert.ok(tcp, `a listening filename, got ${filename}`);
  return net.connect(Number(tcp[1]), '127.0.0.1');
}

/** A peer socket that collects what it receives. */
class Peer {
  /** What arrived, chunk by chunk; joined only when `received` is read. */
  readonly #chunks: Buffer[] = [];
  /** Bytes received so far, counted without joining the chunks. */
  receivedBytes = 0;
  closed = false;
  constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.#chunks.push(chunk);
      this.receivedBytes += chunk.length;
    });
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('error', () => {});
  }
  /** Everything received so far, in one buffer. */
  get received(): Buffer {
    if (this.#chunks.length !== 1) this.#chunks.splice(0, this.#chunks.length, Buffer.concat(this.#chunks));
    return this.#chunks[0]!;
  }
  async until(done: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while (!done()) {
      if (Date.now() > deadline) {
        const head = this.received.subarray(0, 64).toString('latin1');
        throw new Error(`timed out waiting for ${what}; peer got ${this.receivedBytes} bytes, starting ${JSON.stringify(head)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

suite('socket chardev: servers (test-char /char/socket/server/*)', () => {
  for (const [kind, address] of [
    ['unix', unixAddress],
    ['tcp', () => tcpAddress],
  ] as const) {
    test(`a ${kind} server serves a client: opened, bytes both ways, closed, and again for the next client`, async () => {
      const { chardev, frontend } = await openChardev({ addr: address(), server: true, wait: false });
      try {
        assert.equal(chardev.isOpen, false);
        assert.match(chardev.filename, /^disconnected:(unix|tcp):.*,server=on$/);
        for (const round of [1, 2]) {
          const peer = new Peer(connectTo(chardev));
          await frontend.until(() => frontend.events.filter((e) => e === 'opened').length === round, `opened #${round}`);
          assert.equal(chardev.isOpen, true);
          if (kind === 'tcp') assert.match(chardev.filename, /^tcp:127\.0\.0\.1:\d+,server=on <-> 127\.0\.0\.1:\d+$/);
          else assert.match(chardev.filename, /^unix:.*\.sock,server=on$/);
          chardev.write(Buffer.from('Hello\0'));
          await peer.until(() => peer.received.toString('latin1') === 'Hello\0', 'Hello');
          peer.socket.write('World\0');
          await frontend.until(() => frontend.text === 'World\0'.repeat(round), 'World');
          peer.socket.end();
          await frontend.until(() => frontend.events.filter((e) => e === 'closed').length === round, `closed #${round}`);
          assert.equal(chardev.isOpen, false);
          assert.match(chardev.filename, /^disconnected:/);
        }
      } finally {
        chardev.detach(frontend);
        await chardev.close();
      }
    });
  }

  test('a second client waits, unserved, until the first leaves (QEMU serves one at a time)', async () => {
    const { chardev, frontend } = await openChardev({ addr: unixAddress(), wait: false });
    try {
      const first = new Peer(connectTo(chardev));
      await frontend.until(() => frontend.events.includes('opened'), 'the first client');
      const second = new Peer(connectTo(chardev));
      second.socket.write('from-second');
      chardev.write(Buffer.from('to-first'));
      await first.until(() => first.received.toString() === 'to-first', 'output to the first client');
      assert.equal(second.receivedBytes, 0, 'the waiting client gets nothing');
      assert.equal(frontend.text, '', 'input of the waiting client is not read');
      first.socket.end();
      await frontend.until(() => frontend.text === 'from-second', 'the second client served after the first left');
      assert.deepEqual(frontend.events, ['opened', 'closed', 'opened']);
      chardev.write(Buffer.from('to-second'));
      await second.until(() => second.received.toString() === 'to-second', 'output to the second client');
      second.socket.destroy();
    } finally {
      chardev.detach(frontend);
      await chardev.close();
    }
  });

  test('clients=3 serves three at once: output to all, input from any, closed when the last leaves', async () => {
    const { chardev, frontend } = await openChardev({ addr: tcpAddress, wait: false, clients: 3 });
    try {
      const peers = [new Peer(connectTo(chardev)), new Peer(connectTo(chardev)), new Peer(connectTo(chardev))];
      await frontend.until(() => chardev.connectionCount === 3, 'three connections');
      assert.deepEqual(frontend.events, ['opened']);
      chardev.write(Buffer.from('to-all'));
      for (const peer of peers) await peer.until(() => peer.received.toString() === 'to-all', 'output to every client');
      peers[1]!.socket.write('B');
      await frontend.until(() => frontend.text === 'B', 'input from the second client');
      peers[2]!.socket.write('C');
      await frontend.until(() => frontend.text === 'BC', 'input from the third client');
      peers[0]!.socket.destroy();
      peers[1]!.socket.destroy();
      await frontend.until(() => chardev.connectionCount === 1, 'two clients gone');
      assert.deepEqual(frontend.events, ['opened']);
      peers[2]!.socket.destroy();
      await frontend.until(() => frontend.events.length === 2, 'closed');
      assert.deepEqual(frontend.events, ['opened', 'closed']);
    } finally {
      chardev.detach(frontend);
      await chardev.close();
    }
  });

  test('clients=3: a client that stops reading loses output beyond its queue, counted, while the source and the other clients go on', async () => {
    const { chardev, frontend } = await openChardev({ addr: unixAddress(), wait: false, clients: 3 });
    try {
      const readers = [new Peer(connectTo(chardev)), new Peer(connectTo(chardev))];
      const stalled = connectTo(chardev);
      stalled.on('error', () => {});
      stalled.pause();
      await frontend.until(() => chardev.connectionCount === 3, 'three connections');
      // A frontend that honours write() === false, as a link does: 8 MiB in 64 KiB chunks.
      const chunk = Buffer.alloc(64 << 10, 'x');
      const total = 8 << 20;
      for (let sent = 0; sent < total; sent += chunk.length) {
        if (!chardev.write(chunk)) {
          const drains = frontend.drains;
          await frontend.until(() => frontend.drains > drains, `drain after ${sent} bytes (the stalled client must not hold the source)`);
        }
      }
      for (const reader of readers) await reader.until(() => reader.receivedBytes === total, 'every byte at a reading client');
      assert.ok(chardev.droppedOutput > 0, 'the stalled client lost output');
      assert.ok(chardev.droppedOutput <= total, `dropped ${chardev.droppedOutput}`);
      stalled.destroy();
    } finally {
      chardev.detach(frontend);
      await chardev.close();
    }
  });

  test('clients=3 with stall-timeout: reading clients pace the source and get every byte; one that stops reading is cut loose, loses its oldest bytes, and catches up', async () => {
    const { chardev, frontend } = await openChardev({ addr: unixAddress(), wait: false, clients: 3, 'stall-timeout': 200 });
    try {
      const readers = [new Peer(connectTo(chardev)), new Peer(connectTo(chardev))];
      const stalled = new Peer(connectTo(chardev));
      stalled.socket.pause();
      await frontend.until(() => chardev.connectionCount === 3, 'three connections');
      // A source that writes as fast as the chardev lets it: 16 MiB of distinct bytes in 64 KiB chunks.
      const total = 16 << 20;
      const source = Buffer.alloc(total);
      for (let i = 0; i < total; i += 4) source.writeUInt32LE(i, i);
      let held = 0;
      for (let sent = 0; sent < total; sent += 64 << 10) {
        if (!chardev.write(source.subarray(sent, sent + (64 << 10)))) {
          held++;
          const drains = frontend.drains;
          await frontend.until(() => frontend.drains > drains, `drain after ${sent} bytes`);
        }
      }
      assert.ok(held > 0, 'the clients paced the source');
      for (const reader of readers) {
        await reader.until(() => reader.receivedBytes === total, 'every byte at a reading client');
        sameBytes(reader.received, source, 'a reading client');
      }
      const dropped = chardev.droppedOutput;
      assert.ok(dropped > 0, 'the stalled client lost output');
      stalled.socket.resume();
      await stalled.until(() => stalled.receivedBytes + dropped === total, 'the stalled client to catch up');
      // What it got is the start (before it stalled) and the newest bytes, in order.
      const got = stalled.received;
      assert.ok(got.subarray(got.length - (1 << 20)).equals(source.subarray(total - (1 << 20))), 'the newest bytes last');
      // Caught up, it paces again: a write it cannot take yet holds the source back.
      stalled.socket.pause();
      let heldAgain = false;
      for (let i = 0; i < 1000 && !heldAgain; i++) heldAgain = !chardev.write(source.subarray(0, 64 << 10));
      assert.ok(heldAgain, 'the client that caught up paces again');
      assert.equal(chardev.droppedOutput, dropped, 'nothing more lost while it paces');
      stalled.socket.destroy();
    } finally {
      chardev.detach(frontend);
      await chardev.close();
    }
  });

  test('stall-timeout out of range is refused', async () => {
    for (const stall of [0, 2 ** 31]) {
      await assert.rejects(openChardev({ addr: unixAddress(), wait: false, 'stall-timeout': stall }), {
        message: "'stall-timeout' must be between 1 and 2147483647",
      });
    }
  });

  test('input waits in the socket while the frontend takes none, and flows after acceptInput', async () => {
    const { chardev, frontend } = await openChardev({ addr: unixAddress(), wait: false });
    try {
      frontend.capacity = 0;
      const peer = new Peer(connectTo(chardev));
      await frontend.until(() => frontend.events.includes('opened'), 'opened');
      peer.socket.write('0123456789');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(frontend.text, '', 'nothing is read while the frontend takes nothing');
      frontend.capacity = 4;
      chardev.acceptInput();
      await frontend.until(() => frontend.text === '0123', 'as much input as the frontend takes');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(frontend.text, '0123', 'the rest is held, not delivered');
      frontend.capacity = 100;
      chardev.acceptInput();
      await frontend.until(() => frontend.text === '0123456789', 'the rest of the input');
      peer.socket.destroy();
    } finally {
      chardev.detach(frontend);
      await chardev.close();
    }
  });

  test('wait=on holds open() until the first client connects', async () => {
    const address = unixAddress();
    const chardev = new SocketChardev('w', { addr: address, wait: true }, context);
    let opened = false;
    const opening = chardev.open().then(() => {
      opened = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(opened, false);
    const peer = new Peer(net.connect((address.data as { path: string }).path));
    await opening;
    assert.equal(chardev.isOpen, true);
    assert.ok(messages.some((m) => m.startsWith('QEMU waiting for connection on: disconnected:unix:')));
    peer.socket.destroy();
    await chardev.close();
  });
});

suite('socket chardev: telnet and websocket', () => {
  test('a telnet server negotiates as QEMU, strips commands, unescapes IAC IAC and turns IAC BREAK into a break', async () => {
    const { chardev, frontend } = await openChardev({ addr: tcpAddress, wait: false, telnet: true });
    try {
      assert.match(chardev.filename, /^disconnected:telnet:127\.0\.0\.1:\d+,server=on$/);
      const peer = new Peer(connectTo(chardev));
      await peer.until(() => peer.receivedBytes >= 12, 'the telnet greeting');
      assert.deepEqual([...peer.received], [0xff, 0xfb, 0x01, 0xff, 0xfb, 0x03, 0xff, 0xfb, 0x00, 0xff, 0xfd, 0x00]);
      peer.socket.write(Buffer.from([0x61, 0xff, 0xff, 0x62, 0xff, 0xf3, 0x63, 0xff, 0xfd]));
      peer.socket.write(Buffer.from([0x01, 0x64]));
      await frontend.until(() => frontend.input.length >= 4, 'filtered input');
      assert.deepEqual([...frontend.input], [0x61, 0xff, 0x62, 0x63, 0x64]);
      assert.deepEqual(frontend.events, ['opened', 'break']);
      peer.socket.destroy();
    } finally {
      chardev.detach(frontend);
      await chardev.close();
    }
  });

  test('a tn3270 server sends the 21-byte greeting', async () => {
    const { chardev, frontend } = await openChardev({ addr: tcpAddress, wait: false, tn3270: true });
    try {
      const peer = new Peer(connectTo(chardev));
      await peer.until(() => peer.receivedBytes >= 21, 'the tn3270 greeting');
      assert.equal(peer.received.toString('hex'), 'fffd19fffb19fffd00fffb00fffd18fffa1801fff0');
      peer.socket.destroy();
    } finally {
      chardev.detach(frontend);
      await chardev.close();
    }
  });

  test('a websocket server answers the upgrade like QEMU and carries bytes in binary frames (test-char /char/websocket)', async () => {
    const { chardev, frontend } = await openChardev({ addr: tcpAddress, wait: false, websocket: true });
    try {
      const port = /:(\d+),server=on$/.exec(chardev.filename)![1];
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`, 'binary');
      let headers: Record<string, string | string[] | undefined> = {};
      ws.once('upgrade', (response) => {
        headers = response.headers;
      });
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      assert.equal(headers['server'], 'QEMU VNC');
      assert.equal(headers['sec-websocket-protocol'], 'binary');
      await frontend.until(() => frontend.events.includes('opened'), 'opened');
      const pong = new Promise<Buffer>((resolve) => ws.once('pong', resolve));
      ws.ping(Buffer.from('hello'));
      assert.equal((await pong).toString(), 'hello');
      ws.send(Buffer.from('world'));
      await frontend.until(() => frontend.text === 'world', 'a binary frame as input');
      const message = new Promise<{ data: Buffer; binary: boolean }>((resolve) => ws.once('message', (data: Buffer, binary: boolean) => resolve({ data, binary })));
      chardev.write(Buffer.from('output'));
      const got = await message;
      assert.equal(got.data.toString(), 'output');
      assert.equal(got.binary, true);
      const closed = new Promise((resolve) => ws.once('close', resolve));
      ws.close();
      await closed;
      await frontend.until(() => frontend.events.includes('closed'), 'closed');
    } finally {
      chardev.detach(frontend);
      await chardev.close();
    }
  });
});

suite('socket chardev: clients (test-char /char/socket/client/*)', () => {
  async function testServer(path: string): Promise<{ server: net.Server; peers: Peer[] }> {
    const peers: Peer[] = [];
    const server = net.createServer((socket) => peers.push(new Peer(socket)));
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return { server, peers };
  }

  test('a client connects at creation, talks, and reports closed when the server hangs up', async () => {
    const path = join(dir, `server${serial++}.sock`);
    const { server, peers } = await testServer(path);
    const { chardev, frontend } = await openChardev({ addr: { type: 'unix', data: { path } }, server: false });
    try {
      assert.equal(chardev.isOpen, true);
      assert.deepEqual(frontend.events, ['opened']);
      assert.equal(chardev.filename, 'unix:');
      await frontend.until(() => peers.length === 1, 'the server to see the client');
      chardev.write(Buffer.from('ping'));
      await peers[0]!.until(() => peers[0]!.received.toString() === 'ping', 'ping');
      peers[0]!.socket.write('pong');
      await frontend.until(() => frontend.text === 'pong', 'pong');
      peers[0]!.socket.destroy();
      await frontend.until(() => frontend.events.includes('closed'), 'closed');
      assert.equal(chardev.filename, `disconnected:unix:${path}`);
    } finally {
      chardev.detach(frontend);
      await chardev.close();
      server.close();
    }
  });

  test('a client without reconnect fails to open when nobody listens, with QEMU text', async () => {
    const path = join(dir, 'nobody.sock');
    const chardev = new SocketChardev('c', { addr: { type: 'unix', data: { path } }, server: false }, context);
    await assert.rejects(chardev.open(), new ChardevError(`Failed to connect to '${path}': No such file or directory`));
    await chardev.close();
  });

  test('a reconnecting client opens at once, connects when a server appears, and reconnects after a hang-up, logging the failure once', async () => {
    const path = join(dir, `late${serial++}.sock`);
    messages.length = 0;
    const { chardev, frontend } = await openChardev({ addr: { type: 'unix', data: { path } }, server: false, 'reconnect-ms': 50 });
    try {
      assert.equal(chardev.isOpen, false);
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(messages.filter((m) => m.startsWith('Unable to connect character device sock:')).length, 1);
      const { server, peers } = await testServer(path);
      await frontend.until(() => frontend.events.includes('opened'), 'connected to the late server');
      await frontend.until(() => peers.length === 1, 'the server to see the client');
      peers[0]!.socket.destroy();
      await frontend.until(() => frontend.events.length === 3, 'closed and opened again');
      assert.deepEqual(frontend.events, ['opened', 'closed', 'opened']);
      await frontend.until(() => peers.length === 2, 'the second connection');
      chardev.write(Buffer.from('again'));
      await peers[1]!.until(() => peers[1]!.received.toString() === 'again', 'output on the new connection');
      server.close();
      for (const peer of peers) peer.socket.destroy();
    } finally {
      chardev.detach(frontend);
      await chardev.close();
    }
  });
});

suite('socket chardev: option checks of QEMU 7.2 (qmp_chardev_validate_socket)', () => {
  for (const wait of [true, false]) {
    test(`a client with wait=${wait} is refused before connecting: 7.2 refuses the option itself, whatever its value`, async () => {
      const path = join(dir, `listening${serial++}.sock`);
      const server = net.createServer((socket) => socket.destroy());
      await new Promise<void>((resolve) => server.listen(path, resolve));
      try {
        const expected = new ChardevError("'wait' option is incompatible with socket in client connect mode");
        assert.throws(() => new SocketChardev('c', { addr: { type: 'unix', data: { path } }, server: false, wait }, context), expected);
        // The client check comes before reconnect and websocket are looked at, as in QEMU.
        assert.throws(() => new SocketChardev('c', { addr: { type: 'unix', data: { path } }, server: false, wait, reconnect: 1 }, context), expected);
        assert.throws(() => new SocketChardev('c', { addr: { type: 'unix', data: { path } }, server: false, wait, websocket: false }, context), expected);
      } finally {
        server.close();
      }
    });
  }

  test('a client with websocket=on is refused before its wait is looked at; servers take wait either way', async () => {
    assert.throws(
      () => new SocketChardev('c', { addr: unixAddress(), server: false, wait: false, websocket: true }, context),
      new ChardevError('Websocket client is not implemented'),
    );
    for (const wait of [true, false, undefined]) {
      assert.doesNotThrow(() => new SocketChardev('s', { addr: unixAddress(), server: true, ...(wait === undefined ? {} : { wait }) }, context));
    }
  });
});

suite('socket chardev: dead peers, large writes, closing', () => {
  /** A client of `chardev` that reads nothing until told to. */
  async function silentClient(chardev: SocketChardev, frontend: TestFrontend): Promise<net.Socket> {
    const socket = connectTo(chardev);
    socket.on('error', () => {});
    socket.pause();
    const opened = frontend.events.filter((e) => e === 'opened').length;
    await frontend.until(() => frontend.events.filter((e) => e === 'opened').length > opened, 'the client to be served');
    return socket;
  }

  /** Writes until the chardev asks its frontend to wait. */
  function fill(chardev: SocketChardev): void {
    const chunk = Buffer.alloc(64 * 1024, 0x5a);
    for (let i = 0; i < 10_000; i++) if (!chardev.write(chunk)) return;
    throw new Error('the chardev never asked to wait');
  }

  test('a client that resets while output is queued shows as closed, and the frontend waiting for drain is woken', async () => {
    const { chardev, frontend } = await openChardev({ addr: tcpAddress, wait: false });
    try {
      const client = await silentClient(chardev, frontend);
      fill(chardev);
      const drains = frontend.drains;
      client.resetAndDestroy();
      await frontend.until(() => frontend.events.includes('closed'), 'closed after the reset');
      await frontend.until(() => frontend.drains > drains, 'drain for the frontend told to wait');
      assert.equal(chardev.isOpen, false);
      assert.equal(chardev.write(Buffer.from('nobody')), true, 'output with nobody connected is dropped, as QEMU drops it (EIO)');
    } finally {
      chardev.detach(frontend);
      await chardev.close();
    }
  });

  test('a client chardev whose server resets mid-write (EPIPE or ECONNRESET) reports closed, not an error', async () => {
    const path = join(dir, `resetting${serial++}.sock`);
    const accepted: net.Socket[] = [];
    const server = net.createServer({ pauseOnConnect: true }, (socket) => {
      socket.on('error', () => {});
      accepted.push(socket);
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    const { chardev, frontend } = await openChardev({ addr: { type: 'unix', data: { path } }, server: false });
    try {
      await frontend.until(() => accepted.length === 1, 'the server to accept');
      fill(chardev);
      accepted[0]!.destroy();
      await frontend.until(() => frontend.events.includes('closed'), 'closed');
      await frontend.until(() => frontend.drains > 0, 'drain');
      for (let i = 0; i < 4; i++) assert.equal(chardev.write(Buffer.alloc(OUTPUT_QUEUE_LIMIT)), true);
    } finally {
      chardev.detach(frontend);
      await chardev.close();
      server.close();
    }
  });

  test('a single write larger than OUTPUT_QUEUE_LIMIT reaches the client whole, and drain follows', async () => {
    const { chardev, frontend } = await openChardev({ addr: unixAddress(), wait: false });
    try {
      const client = await silentClient(chardev, frontend);
      const data = Buffer.alloc(OUTPUT_QUEUE_LIMIT * 16 + 3);
      for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
      assert.equal(chardev.write(data), false, 'the frontend is told to wait');
      const peer = new Peer(client);
      client.resume();
      await peer.until(() => peer.receivedBytes >= data.length, 'the whole write');
      sameBytes(peer.received, data, 'the bytes at the client');
      await frontend.until(() => frontend.drains > 0, 'drain');
      client.destroy();
    } finally {
      chardev.detach(frontend);
      await chardev.close();
    }
  });

  test('a WebSocket client in its handshake holds the place: the next one waits, and is served when the first leaves', async () => {
    const { chardev, frontend } = await openChardev({ addr: tcpAddress, wait: false, websocket: true });
    try {
      const port = /:(\d+),server=on$/.exec(chardev.filename)![1];
      const stalled = net.connect(Number(port), '127.0.0.1');
      stalled.on('error', () => {});
      stalled.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      await frontend.until(() => chardev.handshakeCount === 1, 'the first client in its handshake');
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`, 'binary');
      ws.on('error', () => {});
      const open = new Promise((resolve) => ws.once('open', resolve));
      await frontend.until(() => chardev.waitingCount === 1, 'the second client to wait');
      assert.equal(chardev.connectionCount, 0);
      stalled.destroy();
      await open;
      await frontend.until(() => frontend.events.includes('opened'), 'opened for the second client');
      assert.equal(chardev.connectionCount, 1);
      assert.equal(chardev.handshakeCount, 0);
      ws.terminate();
    } finally {
      chardev.detach(frontend);
      await chardev.close();
    }
  });

  test('close() ends clients in the WebSocket handshake and waiting clients, and returns', async () => {
    const { chardev, frontend } = await openChardev({ addr: tcpAddress, wait: false, websocket: true });
    const port = Number(/:(\d+),server=on$/.exec(chardev.filename)![1]);
    const clients = [net.connect(port, '127.0.0.1'), net.connect(port, '127.0.0.1')].map((client) => new Peer(client));
    clients[0]!.socket.write('GET / HTTP/1.1\r\n');
    await frontend.until(() => chardev.handshakeCount === 1 && chardev.waitingCount === 1, 'one client in the handshake, one waiting');
    chardev.detach(frontend);
    await chardev.close();
    for (const client of clients) await client.until(() => client.closed, 'the client to be closed');
    assert.equal(chardev.handshakeCount, 0);
    assert.equal(chardev.waitingCount, 0);
  });
});
