import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, suite, test } from 'node:test';
import { ConnectError, GreetingError } from '../../../src/client/errors.js';
import { quoteArrival } from '../../../src/client/greeting.js';
import { QmpClient } from '../../../src/client/qmp-client.js';

const WAIT_MS = 10_000;

/** Settles with the rejection of `promise` (fails if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error: unknown) {
    assert.ok(error instanceof Error);
    return error;
  }
  assert.fail('expected a rejection');
}

suite('quoteArrival', () => {
  test('quotes, escapes control characters (C0, DEL, C1) and cuts after 100 characters', () => {
    assert.equal(quoteArrival(Buffer.from("QEMU 7.2.22 monitor - type 'help'\r\n(qemu) ")), '"QEMU 7.2.22 monitor - type \'help\'\\r\\n(qemu) "');
    assert.equal(quoteArrival(Buffer.from('\u001b[2J\u007f\u009b"\\\u0000')), '"\\u001b[2J\\u007f\\u009b\\"\\\\\\u0000"');
    assert.equal(quoteArrival(Buffer.from('é'.repeat(100))), `"${'é'.repeat(100)}"`);
    assert.equal(quoteArrival(Buffer.from('é'.repeat(101))), `"${'é'.repeat(100)}"...`);
  });
});

suite('QmpClient at a socket that is not QMP', () => {
  let dir: string;
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'chardevd-greeting-'));
  });
  after(() => {
    for (const socket of sockets) socket.destroy();
    for (const server of servers) server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A unix socket server that greets each connection with `onConnect`. */
  async function serve(name: string, onConnect: (socket: Socket) => void): Promise<string> {
    const path = join(dir, name);
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      onConnect(socket);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return path;
  }

  test('a server that writes a banner and closes: the error quotes the banner', async () => {
    const path = await serve('banner-close.sock', (socket) => socket.end("chardevd 0.1.0 monitor - type 'help' for more information\r\n"));
    const error = await rejection(QmpClient.connect(path, { connectTimeoutMs: WAIT_MS }));
    assert.ok(error instanceof GreetingError, String(error));
    assert.equal(error.message, `${path} sent no QMP greeting; it sent: "chardevd 0.1.0 monitor - type 'help' for more information\\r\\n"`);
  });

  test('a server that writes a banner and stays open: the error comes at once, without waiting for the timeout', async () => {
    for (const [name, banner] of [
      ['login.sock', 'login: '],
      ['hmp.sock', "QEMU 7.2.22 monitor - type 'help' for more information\r\n(qemu) "],
    ] as const) {
      const path = await serve(name, (socket) => socket.write(banner));
      const started = Date.now();
      const error = await rejection(QmpClient.connect(path, { connectTimeoutMs: WAIT_MS }));
      assert.ok(error instanceof GreetingError, String(error));
      assert.ok(error.message.startsWith(`${path} sent no QMP greeting; it sent: "${banner.slice(0, 5)}`), error.message);
      assert.ok(Date.now() - started < WAIT_MS / 2, `${name}: failed after ${Date.now() - started} ms`);
    }
  });

  test('a server that starts an object and stalls: the greeting timeout says what arrived', async () => {
    const path = await serve('stall.sock', (socket) => socket.write('{"QMP": '));
    const error = await rejection(QmpClient.connect(path, { connectTimeoutMs: 200 }));
    assert.ok(error instanceof ConnectError, String(error));
    assert.equal(error.message, `no greeting from ${path} within 200 ms; it sent: "{\\"QMP\\": "`);
  });

  test('a long banner with control characters is escaped and cut', async () => {
    const path = await serve('long.sock', (socket) => socket.end(`\u001b]0;title\u0007${'x'.repeat(500)}\n`));
    const error = await rejection(QmpClient.connect(path, { connectTimeoutMs: WAIT_MS }));
    assert.ok(error instanceof GreetingError, String(error));
    assert.equal(error.message, `${path} sent no QMP greeting; it sent: "\\u001b]0;title\\u0007${'x'.repeat(90)}"...`);
  });

  test('a server that closes without a word: as before', async () => {
    const path = await serve('silent.sock', (socket) => socket.end());
    const error = await rejection(QmpClient.connect(path, { connectTimeoutMs: WAIT_MS }));
    assert.ok(error instanceof GreetingError, String(error));
    assert.equal(error.message, 'the server closed the connection before its greeting');
  });
});
