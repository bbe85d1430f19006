import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, suite, test } from 'node:test';
import { ConnectError, ExecInterruptedError, ExecuteError, GreetingError, StateError } from '../../src/client/errors.js';
import { QmpListener } from '../../src/client/listener.js';
import type { ConnectionLost, ConnectionRestored } from '../../src/client/options.js';
import { QmpClient } from '../../src/client/qmp-client.js';
import { waitFor } from '../support/peer-process.js';
import { qemuSkipReason, type ServerProcess, startChardevd, startQemu } from '../support/servers.js';

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

/** Pauses a server process we started (SIGSTOP by its PID) so that its replies are held back. */
function pause(server: ServerProcess): void {
  process.kill(server.pid, 'SIGSTOP');
}

function resume(server: ServerProcess): void {
  process.kill(server.pid, 'SIGCONT');
}

/** Compile-time checks of the typed event subscriptions (never called). */
export async function typedEventsCompile(client: QmpClient): Promise<void> {
  const shutdown = await client.events({ names: ['SHUTDOWN'] }).next();
  const reason: 'host-qmp-quit' | 'host-signal' | string | undefined = shutdown?.data.reason;
  void reason;
  // @ts-expect-error: SHUTDOWN has no member 'device'
  void shutdown?.data.device;
  const both = await client.events({ names: ['SHUTDOWN', 'DEVICE_DELETED'] }).next();
  if (both?.event === 'DEVICE_DELETED') void both.data.path;
  // Names outside chardevd's schema (QEMU's) give untyped events.
  const stop = await client.events({ names: ['STOP'] }).next();
  void stop?.data?.['anything'];
}

suite('QmpClient against chardevd', () => {
  let daemon: ServerProcess;
  before(async () => {
    daemon = await startChardevd();
  });
  after(async () => {
    resume(daemon);
    await daemon.stop();
  });

  test('routes a thousand pipelined replies, answers and errors, each to its own caller', async () => {
    const client = await QmpClient.connect(daemon.qmpPath, { connectTimeoutMs: WAIT_MS });
    try {
      const calls = Array.from({ length: 1000 }, (_, i) =>
        i % 2 === 0
          ? client.chardevAdd({ id: `pipe${i}`, backend: { type: 'ringbuf', data: { size: 64 } } }).then(() => `added pipe${i}`)
          : client.ringbufRead({ device: `missing${i}`, size: 1 }).then(
              () => 'unexpected',
              (error: unknown) => (error instanceof ExecuteError ? `${error.errorClass}: ${error.desc}` : String(error)),
            ),
      );
      assert.ok(client.inFlight >= 1000, 'all were sent before any reply was read');
      const results = await Promise.all(calls);
      for (const [i, result] of results.entries()) {
        assert.equal(result, i % 2 === 0 ? `added pipe${i}` : `GenericError: Device 'missing${i}' not found`);
      }
      const labels = (await client.queryChardev()).map((info) => info.label);
      assert.equal(labels.filter((l) => l.startsWith('pipe')).length, 500);
      assert.equal(client.inFlight, 0);
    } finally {
      client.close();
    }
  });

  test('typed methods send the schema names and return the typed reply', async () => {
    const client = await QmpClient.connect(daemon.qmpPath, { connectTimeoutMs: WAIT_MS });
    try {
      await client.chardevAdd({ id: 'typed', backend: { type: 'ringbuf', data: { size: 1024 } } });
      await client.ringbufWrite({ device: 'typed', data: 'héllo' });
      assert.equal(await client.ringbufRead({ device: 'typed', size: 1024 }), 'héllo');
      const version = await client.queryVersion();
      assert.equal(typeof version.qemu.major, 'number');
      const error = await rejection(client.execute('no-such-command'));
      assert.ok(error instanceof ExecuteError);
      assert.equal(error.errorClass, 'CommandNotFound');
      assert.equal(error.message, 'The command no-such-command has not been found');
      assert.equal(error.command, 'no-such-command');
    } finally {
      client.close();
    }
  });

  test('a call that times out or is aborted fails alone; its late reply is dropped and the next call works', async () => {
    const client = await QmpClient.connect(daemon.qmpPath, { connectTimeoutMs: WAIT_MS });
    try {
      pause(daemon);
      const timedOut = rejection(client.queryVersion({ timeoutMs: 200 }));
      const controller = new AbortController();
      const aborted = rejection(client.queryVersion({ signal: controller.signal }));
      controller.abort(new Error('the user gave up'));
      const timeoutError = await timedOut;
      assert.ok(timeoutError instanceof ExecInterruptedError);
      assert.equal(timeoutError.message, 'query-version: no reply within 200 ms');
      const abortError = await aborted;
      assert.ok(abortError instanceof ExecInterruptedError);
      assert.equal(abortError.message, 'query-version: the user gave up');
      assert.equal(client.inFlight, 0);
      resume(daemon);
      // The two late replies arrive now and must not be taken for this one's.
      await client.chardevAdd({ id: 'after-timeout', backend: { type: 'null', data: {} } });
      const labels = (await client.queryChardev()).map((info) => info.label);
      assert.ok(labels.includes('after-timeout'));
      const preAborted = rejection(client.queryVersion({ signal: AbortSignal.abort() }));
      assert.ok((await preAborted) instanceof ExecInterruptedError);
    } finally {
      resume(daemon);
      client.close();
    }
  });

  test('DEVICE_DELETED events arrive among pipelined replies, each before its device_del reply, and a subscriber that never reads holds nothing back', async () => {
    const client = await QmpClient.connect(daemon.qmpPath, { connectTimeoutMs: WAIT_MS });
    try {
      await client.chardevAdd({ id: 'ev-a', backend: { type: 'null', data: {} } });
      await client.chardevAdd({ id: 'ev-b', backend: { type: 'null', data: {} } });
      const deleted = client.events({ names: ['DEVICE_DELETED'] });
      const overflows: number[] = [];
      const stalled = client.events({ limit: 4, onOverflow: (dropped) => overflows.push(dropped) });
      await client.deviceAdd({ driver: 'link', id: 'ev-link', chardev: 'ev-a', peer: 'ev-b' });
      await client.deviceDel({ id: 'ev-link' });
      assert.equal(deleted.queued, 1, 'the event came before the reply of device_del');
      assert.deepEqual((await deleted.next())?.data, { device: 'ev-link', path: '/machine/peripheral/ev-link' });
      const calls: Promise<unknown>[] = [];
      for (let i = 0; i < 100; i++) {
        calls.push(client.deviceAdd({ driver: 'link', id: `ev-link${i}`, chardev: 'ev-a', peer: 'ev-b' }), client.deviceDel({ id: `ev-link${i}` }));
      }
      assert.equal((await Promise.all(calls)).length, 200);
      assert.equal(deleted.queued, 100);
      // Typed by name: data is DeviceDeletedEventData, so `.device` needs no cast.
      for (let i = 0; i < 100; i++) assert.equal((await deleted.next())?.data.device, `ev-link${i}`);
      assert.equal(stalled.queued, 4);
      assert.equal(stalled.dropped, 97);
      assert.deepEqual(overflows, [1]);
      assert.equal((await stalled.next())?.data?.['device'], 'ev-link96', 'what is kept is the newest');
      stalled.close();
      deleted.close();
    } finally {
      client.close();
    }
  });

  test('delivers SHUTDOWN among replies and fails the calls still in flight with an interrupted error', async () => {
    const own = await startChardevd();
    try {
      const watcher = await QmpClient.connect(own.qmpPath, { connectTimeoutMs: WAIT_MS });
      const quitter = await QmpClient.connect(own.qmpPath, { connectTimeoutMs: WAIT_MS });
      const events = watcher.events();
      const losses: ConnectionLost[] = [];
      watcher.onDisconnect((lost) => losses.push(lost));
      const before = await Promise.all(Array.from({ length: 50 }, () => watcher.queryVersion()));
      assert.equal(before.length, 50);
      const inFlight = Array.from({ length: 200 }, () =>
        watcher.queryChardev().then(
          () => 'answered',
          (error: unknown) => error,
        ),
      );
      await quitter.quit().catch(() => {});
      const event = await events.next();
      assert.equal(event?.event, 'SHUTDOWN');
      assert.deepEqual(event?.data, { guest: false, reason: 'host-qmp-quit' });
      assert.equal(typeof event?.timestamp.seconds, 'number');
      // Whatever was answered before the exit resolved; the rest were interrupted.
      for (const outcome of await Promise.all(inFlight)) {
        if (outcome !== 'answered') assert.ok(outcome instanceof ExecInterruptedError, String(outcome));
      }
      assert.equal(await watcher.disconnected, undefined);
      assert.equal(watcher.state, 'closed');
      assert.equal(losses.length, 1);
      assert.equal(losses[0]!.reconnecting, false);
      assert.equal(await events.next(), undefined, 'the subscription ended with the client');
      const closedError = await rejection(watcher.queryVersion());
      assert.ok(closedError instanceof StateError);
    } finally {
      await own.stop();
    }
  });

  test('with a reconnect policy, reports what was lost, refuses calls meanwhile and serves again on the new connection', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chardevd-client-'));
    const path = join(dir, 'stable.sock');
    const extra = ['-qmp', `unix:${path},server=on,wait=off`];
    let first: ServerProcess | undefined = await startChardevd(extra);
    let second: ServerProcess | undefined;
    try {
      // startChardevd waits for its own socket only; this second listener may come a moment later.
      await waitFor(() => existsSync(path), 'the second QMP listener', WAIT_MS, 20);
      const client = await QmpClient.connect(path, { connectTimeoutMs: WAIT_MS, reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
      const losses: ConnectionLost[] = [];
      const restorations: ConnectionRestored[] = [];
      client.onDisconnect((lost) => losses.push(lost));
      client.onReconnect((restored) => restorations.push(restored));
      const events = client.events();
      pause(first);
      const inFlight = [rejection(client.queryVersion()), rejection(client.queryChardev()), rejection(client.ringbufRead({ device: 'x', size: 1 }))];
      process.kill(first.pid, 'SIGKILL');
      await first.exited;
      await first.stop();
      first = undefined;
      for (const error of await Promise.all(inFlight)) {
        assert.ok(error instanceof ExecInterruptedError, String(error));
        // A plain close, a reset (unread requests in the dead server's buffer) or a failed write, depending on timing.
        assert.match(error.message, /^(Disconnected|connection lost: (read ECONNRESET|write EPIPE))$/);
      }
      assert.equal(losses.length, 1);
      assert.deepEqual(losses[0]!.interrupted, ['query-version', 'query-chardev', 'ringbuf-read']);
      assert.equal(losses[0]!.reconnecting, true);
      assert.equal(client.state, 'reconnecting');
      const refused = await rejection(client.queryVersion());
      assert.ok(refused instanceof StateError);
      assert.match(refused.message, /was lost; reconnecting/);
      assert.equal(events.gaps, 1);
      second = await startChardevd(extra);
      await waitFor(() => restorations.length === 1, 'the reconnect', WAIT_MS, 20);
      assert.equal(client.state, 'running');
      assert.ok(restorations[0]!.attempts >= 1);
      assert.ok(restorations[0]!.since.getTime() <= Date.now());
      await client.chardevAdd({ id: 'after-reconnect', backend: { type: 'null', data: {} } });
      assert.ok((await client.queryChardev()).some((info) => info.label === 'after-reconnect'));
      assert.equal(events.closed, false, 'subscriptions live across reconnects');
      client.close();
      assert.equal(client.state, 'closed');
      assert.equal(await client.disconnected, undefined);
    } finally {
      if (first !== undefined) {
        resume(first);
        await first.stop();
      }
      await second?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('gives up reconnecting after maxAttempts and closes with a ConnectError', async () => {
    const own = await startChardevd();
    const client = await QmpClient.connect(own.qmpPath, { connectTimeoutMs: WAIT_MS, reconnect: { initialDelayMs: 10, maxDelayMs: 20, maxAttempts: 3 } });
    await own.stop();
    const reason = await client.disconnected;
    assert.ok(reason instanceof ConnectError, String(reason));
    assert.match(reason.message, /^could not reconnect to .*qmp\.sock: connecting to /);
    assert.equal(client.state, 'closed');
  });

  test('a server that does not greet within connectTimeoutMs is a ConnectError, and nothing is left behind', async () => {
    pause(daemon);
    try {
      const error = await rejection(QmpClient.connect(daemon.qmpPath, { connectTimeoutMs: 200 }));
      assert.ok(error instanceof ConnectError, String(error));
      assert.match(error.message, /^no greeting from .*qmp\.sock within 200 ms$/);
    } finally {
      resume(daemon);
    }
    const client = await QmpClient.connect(daemon.qmpPath, { connectTimeoutMs: WAIT_MS });
    assert.equal(typeof (await client.queryVersion()).package, 'string');
    client.close();
  });

  test('connecting to nothing is a ConnectError, and a server that does not speak QMP a GreetingError', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chardevd-client-'));
    const server = createServer((socket) => socket.end('{"hello": "not qmp"}\r\n'));
    try {
      const missing = await rejection(QmpClient.connect(join(dir, 'none.sock'), { connectTimeoutMs: WAIT_MS }));
      assert.ok(missing instanceof ConnectError);
      assert.match(missing.message, /ENOENT/);
      await new Promise<void>((resolve) => server.listen(join(dir, 'bad.sock'), resolve));
      const bad = await rejection(QmpClient.connect(join(dir, 'bad.sock'), { connectTimeoutMs: WAIT_MS }));
      assert.ok(bad instanceof GreetingError, String(bad));
      assert.equal(bad.message, 'Did not understand Greeting: {"hello":"not qmp"}');
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

suite('QmpClient against QEMU 7.2', { skip: qemuSkipReason() }, () => {
  let qemu: ServerProcess;
  before(async () => {
    qemu = await startQemu();
  });
  after(async () => {
    await qemu.stop();
  });

  test('negotiates oob when QEMU offers it', async () => {
    const client = await QmpClient.connect(qemu.qmpPath, { connectTimeoutMs: WAIT_MS });
    try {
      assert.deepEqual(client.capabilities, ['oob']);
      assert.equal((client.greeting?.['QMP'] as { version: { qemu: { major: number } } }).version.qemu.major, 7);
      assert.deepEqual(await client.execute('query-yank', undefined, { oob: true }), [{ type: 'chardev', id: 'compat_monitor0' }]);
    } finally {
      client.close();
    }
  });

  test('STOP and RESUME arrive among the replies of pipelined stop/cont, each before its reply', async () => {
    const client = await QmpClient.connect(qemu.qmpPath, { connectTimeoutMs: WAIT_MS });
    try {
      const events = client.events({ names: ['STOP', 'RESUME'] });
      // QEMU writes the event before the command's reply: when the reply resolves, the event is already queued.
      await client.execute('stop');
      assert.equal(events.queued, 1);
      assert.equal((await events.next())?.event, 'STOP');
      await client.execute('cont');
      assert.equal(events.queued, 1);
      assert.equal((await events.next())?.event, 'RESUME');
      const calls: Promise<unknown>[] = [];
      for (let i = 0; i < 20; i++) calls.push(client.execute('stop'), client.execute('cont'));
      assert.deepEqual(
        await Promise.all(calls),
        Array.from({ length: 40 }, () => ({})),
      );
      assert.equal(events.queued, 40);
      const names: string[] = [];
      for (let i = 0; i < 40; i++) names.push((await events.next())!.event);
      assert.deepEqual(
        names,
        Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? 'STOP' : 'RESUME')),
      );
      events.close();
    } finally {
      client.close();
    }
  });

  test('a subscriber that never reads loses its oldest events, says so once, and holds back neither replies nor other subscribers', async () => {
    const client = await QmpClient.connect(qemu.qmpPath, { connectTimeoutMs: WAIT_MS });
    try {
      const overflows: number[] = [];
      const stalled = client.events({ limit: 8, onOverflow: (dropped) => overflows.push(dropped) });
      const reader = client.events();
      const received: string[] = [];
      const reading = (async () => {
        for await (const event of reader) {
          received.push(event.event);
          if (received.length === 400) break;
        }
      })();
      for (let i = 0; i < 200; i++) {
        await Promise.all([client.execute('stop'), client.execute('cont')]);
      }
      await reading;
      assert.equal(received.length, 400);
      assert.equal(stalled.queued, 8);
      assert.equal(stalled.dropped, 392);
      assert.deepEqual(overflows, [1]);
      assert.equal((await stalled.next())!.event, 'STOP', 'what is kept is the newest 8');
      stalled.close();
    } finally {
      client.close();
    }
  });

  test('waitEvent resolves with the next event of a name and honours its timeout', async () => {
    const client = await QmpClient.connect(qemu.qmpPath, { connectTimeoutMs: WAIT_MS });
    try {
      const stopped = client.waitEvent('STOP', { timeoutMs: WAIT_MS });
      await client.execute('stop');
      assert.equal((await stopped).event, 'STOP');
      await client.execute('cont');
      const never = await rejection(client.waitEvent('SHUTDOWN', { timeoutMs: 100 }));
      assert.ok(never instanceof ExecInterruptedError);
    } finally {
      client.close();
    }
  });

  test('accepts a QEMU whose monitor connects to us, over unix and over TCP, and reconnects to the next one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chardevd-client-'));
    const unixListener = await QmpListener.listen(join(dir, 'accept.sock'));
    const tcpListener = await QmpListener.listen({ host: '127.0.0.1', port: 0 });
    const port = (tcpListener.address as { port: number }).port;
    const started: ServerProcess[] = [];
    try {
      started.push(await startQemu(['-qmp', `unix:${join(dir, 'accept.sock')}`, '-qmp', `tcp:127.0.0.1:${port}`]));
      const overUnix = await QmpClient.accept(unixListener, { connectTimeoutMs: WAIT_MS, acceptTimeoutMs: WAIT_MS, reconnect: { initialDelayMs: 10 } });
      const overTcp = await QmpClient.accept(tcpListener, { connectTimeoutMs: WAIT_MS, acceptTimeoutMs: WAIT_MS });
      assert.equal(((await overUnix.execute('query-status')) as { status: string }).status, 'running');
      assert.deepEqual(await overTcp.execute('query-status'), { status: 'running', singlestep: false, running: true });
      const restored = new Promise<ConnectionRestored>((resolve) => overUnix.onReconnect(resolve));
      await started[0]!.stop();
      assert.equal(await overTcp.disconnected, undefined);
      started.push(await startQemu(['-qmp', `unix:${join(dir, 'accept.sock')}`]));
      await restored;
      assert.equal(overUnix.state, 'running');
      await overUnix.execute('stop');
      assert.equal(((await overUnix.execute('query-status')) as { status: string }).status, 'paused');
      overUnix.close();
      overTcp.close();
    } finally {
      for (const server of started) await server.stop();
      unixListener.close();
      tcpListener.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('talks to a -qmp-pretty monitor, whose messages span several lines', async () => {
    const pretty = await startQemu((dir) => ['-qmp-pretty', `unix:${join(dir, 'pretty.sock')},server=on,wait=off`]);
    try {
      await waitFor(() => existsSync(join(pretty.dir, 'pretty.sock')), 'the pretty socket', WAIT_MS, 20);
      const client = await QmpClient.connect(join(pretty.dir, 'pretty.sock'), { connectTimeoutMs: WAIT_MS });
      const events = client.events();
      const replies = await Promise.all([client.execute('stop'), client.execute('query-status'), client.execute('cont')]);
      assert.deepEqual(replies, [{}, { status: 'paused', singlestep: false, running: false }, {}]);
      assert.deepEqual([(await events.next())?.event, (await events.next())?.event], ['STOP', 'RESUME']);
      client.close();
    } finally {
      await pretty.stop();
    }
  });

  test('accept gives up after acceptTimeoutMs when nobody connects', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chardevd-client-'));
    try {
      const error = await rejection(QmpClient.accept(join(dir, 'lonely.sock'), { acceptTimeoutMs: 100 }));
      assert.ok(error instanceof ConnectError, String(error));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
