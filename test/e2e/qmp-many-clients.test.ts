import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, suite, type TestContext, test } from 'node:test';
import { ExecuteError, QmpClient } from '../../src/index.js';
import { type ServerProcess, startChardevd, untilListening } from '../support/servers.js';

/** Bound for every wait in this file. */
const WAIT_MS = 10_000;

function rawConnect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once('connect', () => resolve(socket)).once('error', reject);
  });
}

/** Reads lines until `count` have arrived. */
function readLines(socket: Socket, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`only got ${JSON.stringify(text)} of ${count} lines`)), WAIT_MS);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      const lines = text.split('\r\n');
      if (lines.length > count) {
        clearTimeout(timer);
        resolve(lines.slice(0, count));
      }
    });
  });
}

/** A field of /proc/PID/FILE, e.g. VmRSS (kB) of status or rchar (bytes read by any read call) of io. */
function procField(pid: number, file: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/${file}`, 'utf8'));
  assert.ok(match, `no ${field} in /proc/${pid}/${file}`);
  return Number(match[1]);
}

const residentMiB = (pid: number): number => procField(pid, 'status', 'VmRSS') / 1024;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** MAX_TOKEN_COUNT of QEMU's json-streamer.c: one message may have this many tokens. */
const MAX_TOKENS = 2 << 20;
/** More than the daemon's resident memory may grow by for one flooding client (it grew by 385 MiB before parsing paused on output). */
const FLOOD_MEMORY_BOUND_MIB = 64;

/**
 * A client on `path` sends one input that makes 102,851 errors and reads none of them: the daemon's memory
 * stays within FLOOD_MEMORY_BOUND_MIB of what it was, the bystander is answered meanwhile, and then the
 * client reads every error.
 */
async function floodWithoutReading(t: TestContext, daemon: ServerProcess, path: string): Promise<void> {
  // The first 2 Mi tokens of this message are refused together, then every token after them is a message
  // and an error of its own (QEMU 7.2 answers exactly this many: 51,425 of each kind after the first).
  const pairs = 1_100_000;
  const expectedErrors = 1 + (2 * pairs + 3 - MAX_TOKENS - 1);
  const bystander = await QmpClient.connect(daemon.qmpPath, { connectTimeoutMs: WAIT_MS });
  const flooder = await rawConnect(path);
  try {
    await bystander.queryVersion({ timeoutMs: WAIT_MS });
    const baseline = residentMiB(daemon.pid);
    let peak = baseline;
    let lines = 0;
    flooder.on('data', (chunk: Buffer) => {
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
    });
    flooder.pause();
    const readBefore = procField(daemon.pid, 'io', 'rchar');
    flooder.write(`[${'1,'.repeat(pairs)}1]`);

    // Until the daemon has read past the refused part (a token a byte) and then stopped reading: it waits for the flooder.
    let read = -1;
    for (let still = 0, deadline = Date.now() + 60_000; still < 10 && Date.now() < deadline; await sleep(50)) {
      peak = Math.max(peak, residentMiB(daemon.pid));
      const now = procField(daemon.pid, 'io', 'rchar') - readBefore;
      still = now === read && now > MAX_TOKENS ? still + 1 : 0;
      read = now;
    }
    const start = performance.now();
    assert.match((await bystander.queryVersion({ timeoutMs: WAIT_MS })).package, /^chardevd-/);
    t.diagnostic(`query-version beside the flood: ${(performance.now() - start).toFixed(1)} ms`);
    t.diagnostic(`resident: ${baseline.toFixed(0)} MiB before, ${peak.toFixed(0)} MiB at most while the flooder read nothing`);
    assert.ok(peak - baseline < FLOOD_MEMORY_BOUND_MIB, `grew by ${(peak - baseline).toFixed(0)} MiB`);

    flooder.resume();
    for (const deadline = Date.now() + 120_000; lines < 1 + expectedErrors && !flooder.readableEnded && Date.now() < deadline; await sleep(50)) {
      peak = Math.max(peak, residentMiB(daemon.pid));
    }
    assert.equal(lines, 1 + expectedErrors, 'the greeting and every error');
    t.diagnostic(`resident: ${peak.toFixed(0)} MiB at most until it had read ${expectedErrors} errors`);
    assert.ok(peak - baseline < FLOOD_MEMORY_BOUND_MIB, `grew by ${(peak - baseline).toFixed(0)} MiB`);
    assert.doesNotMatch(daemon.stderr(), /reads nothing/);

    const closed = new Promise<void>((resolve) => flooder.once('close', () => resolve()));
    flooder.end();
    await Promise.race([closed, sleep(WAIT_MS)]);
    await bystander.queryVersion({ timeoutMs: WAIT_MS });
    t.diagnostic(`resident after it closed: ${residentMiB(daemon.pid).toFixed(0)} MiB`);
    assert.ok(residentMiB(daemon.pid) - baseline < FLOOD_MEMORY_BOUND_MIB);
  } finally {
    flooder.destroy();
    bystander.close();
  }
}

suite('chardevd with many QMP clients at once', () => {
  let daemon: ServerProcess;

  before(async () => {
    // QMP on a socket chardev too (-mon), which serves one client at a time.
    daemon = await startChardevd((dir) => ['-chardev', `socket,id=qmon,path=${join(dir, 'qmon.sock')},server=on,wait=off`, '-mon', 'qmon,mode=control']);
    await untilListening(join(daemon.dir, 'qmon.sock'));
  });

  after(async () => {
    await daemon.stop();
  });

  test('ten clients negotiate and run pipelined commands independently', async () => {
    const clients = await Promise.all(Array.from({ length: 10 }, () => QmpClient.connect(daemon.qmpPath, { connectTimeoutMs: WAIT_MS })));
    try {
      const replies = await Promise.all(clients.map((client) => Promise.all(Array.from({ length: 50 }, () => client.queryVersion({ timeoutMs: WAIT_MS })))));
      for (const perClient of replies) {
        assert.equal(perClient.length, 50);
        for (const version of perClient) assert.match(version.package, /^chardevd-/);
      }
      // Negotiation is per connection: each one's second attempt is refused on its own.
      for (const client of clients) {
        await assert.rejects(
          client.qmpCapabilities({}, { timeoutMs: WAIT_MS }),
          (error: unknown) => error instanceof ExecuteError && error.errorClass === 'CommandNotFound',
        );
      }
    } finally {
      for (const client of clients) client.close();
    }
  });

  test('a client that has not negotiated stays in negotiation mode while others run commands', async () => {
    const negotiated = await QmpClient.connect(daemon.qmpPath, { connectTimeoutMs: WAIT_MS });
    const raw = await rawConnect(daemon.qmpPath);
    try {
      const lines = readLines(raw, 2);
      raw.write('{"execute":"query-version","id":1}');
      const [greeting, reply] = await lines;
      assert.match(greeting!, /^\{"QMP": /);
      assert.equal(reply, '{"id": 1, "error": {"class": "CommandNotFound", "desc": "Expecting capabilities negotiation with \'qmp_capabilities\'"}}');
      assert.match((await negotiated.queryVersion()).package, /^chardevd-/);
    } finally {
      raw.destroy();
      negotiated.close();
    }
  });

  test('garbage, a half-sent request and a mid-command disconnect on other connections affect nobody', async () => {
    const bystander = await QmpClient.connect(daemon.qmpPath, { connectTimeoutMs: WAIT_MS });
    try {
      const garbage = await rawConnect(daemon.qmpPath);
      const errors = readLines(garbage, 3);
      garbage.write('\xff\x01{"execute": nul}]');
      const [, first, second] = await errors;
      assert.match(first!, /JSON parse error/);
      assert.match(second!, /JSON parse error/);
      garbage.write('{"execute":"query-vers'); // never finished
      garbage.destroy();

      const quitter = await rawConnect(daemon.qmpPath);
      quitter.write('{"execute":"qmp_capabilities"}{"execute":"query-qmp-schema"}');
      quitter.destroy(); // gone before its replies

      // A client that sends and never reads its replies.
      const deaf = await rawConnect(daemon.qmpPath);
      deaf.pause();
      deaf.write('{"execute":"qmp_capabilities"}');
      deaf.write('{"execute":"query-qmp-schema"}'.repeat(2000));

      const versions = await Promise.all(Array.from({ length: 20 }, () => bystander.queryVersion({ timeoutMs: WAIT_MS })));
      assert.equal(versions.length, 20);
      deaf.destroy();
    } finally {
      bystander.close();
    }
  });

  test('a client whose one input makes 100,000 errors and that reads none of them holds bounded memory and nobody up', async (t) => {
    await floodWithoutReading(t, daemon, daemon.qmpPath);
  });

  test('the same on QMP on a chardev; the next client there gets a session of its own', async (t) => {
    const path = join(daemon.dir, 'qmon.sock');
    await floodWithoutReading(t, daemon, path);
    const next = await rawConnect(path);
    try {
      const lines = readLines(next, 2);
      next.write('{"execute":"query-version","id":1}');
      const [greeting, reply] = await lines;
      assert.match(greeting!, /^\{"QMP": /);
      assert.match(reply!, /Expecting capabilities negotiation/);
    } finally {
      next.destroy();
    }
  });

  test('quit sends SHUTDOWN to every negotiated client, then its reply, then closes all and exits', async () => {
    const watcher = await QmpClient.connect(daemon.qmpPath, { connectTimeoutMs: WAIT_MS });
    const events = watcher.events({ names: ['SHUTDOWN'] });
    const unnegotiated = await rawConnect(daemon.qmpPath);
    const unnegotiatedText: string[] = [];
    unnegotiated.setEncoding('utf8').on('data', (t: string) => unnegotiatedText.push(t));
    const unnegotiatedClosed = new Promise<void>((resolve) => unnegotiated.once('close', () => resolve()));
    const quitting = await rawConnect(daemon.qmpPath);
    const lines = readLines(quitting, 4);
    quitting.write('{"execute":"qmp_capabilities"}{"execute":"quit","id":"q"}');
    const [, , shutdown, reply] = await lines;
    assert.match(shutdown!, /^\{"timestamp": \{"seconds": \d+, "microseconds": \d+\}, "event": "SHUTDOWN", "data": \{"guest": false, "reason": "host-qmp-quit"\}\}$/);
    assert.equal(reply, '{"return": {}, "id": "q"}');

    const event = await events.next();
    assert.equal(event?.event, 'SHUTDOWN');
    assert.deepEqual({ ...event?.data }, { guest: false, reason: 'host-qmp-quit' });
    assert.equal(await watcher.disconnected, undefined);
    await unnegotiatedClosed;
    assert.ok(!unnegotiatedText.join('').includes('SHUTDOWN'), 'an unnegotiated client gets no events');
    await daemon.exited;
  });
});
