import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { suite, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { QmpClient } from '../../src/qmp/client.js';
import { qemuSkipReason, type ServerProcess, startChardevd, startQemu } from '../support/servers.js';

const WAIT_MS = 10_000;
const CHARDEVD = fileURLToPath(new URL('../../src/cli/chardevd.js', import.meta.url));

/** Waits (bounded) until the server's stderr matches `pattern`. */
async function stderrMatch(server: ServerProcess, pattern: RegExp): Promise<RegExpMatchArray> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const match = pattern.exec(server.stderr());
    if (match) return match;
    if (Date.now() > deadline) throw new Error(`stderr never matched ${pattern}: ${server.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Sends `input` on a fresh connection and collects everything until the server closes it. */
function converse(path: string, input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = connect(path);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within ${WAIT_MS} ms; got ${JSON.stringify(text)}`));
    }, WAIT_MS);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('connect', () => socket.write(input));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
}

function normalise(text: string): string {
  return text
    .replace(/"qemu": \{\s*"micro": \d+,\s*"minor": \d+,\s*"major": \d+\s*\},\s*"package": "[^"]*"/g, '<version>')
    .replace(/"seconds": \d+,(\s*)"microseconds": \d+/g, '"seconds": S,$1"microseconds": U');
}

suite('the chardevd command', () => {
  test('listens on TCP with QEMU\'s syntax, port 0 picking a free port it reports', async () => {
    const daemon = await startChardevd(['-qmp', 'tcp:127.0.0.1:0,server=on,wait=off']);
    try {
      const [, port] = await stderrMatch(daemon, /QMP listening on tcp:127\.0\.0\.1:(\d+)/);
      const client = await QmpClient.connect({ host: '127.0.0.1', port: Number(port) }, { connectTimeoutMs: WAIT_MS });
      assert.match((await client.queryVersion()).package, /^chardevd-/);
      client.close();
    } finally {
      await daemon.stop();
    }
  });

  test('holds startup for the first client of a listener without wait=off, as QEMU does', async () => {
    const daemon = await startChardevd((dir) => ['-qmp', `unix:${join(dir, 'waiting.sock')},server=on`]);
    try {
      await stderrMatch(daemon, /waiting for connection on: unix:.*waiting\.sock,server=on/);
      const client = await QmpClient.connect(join(daemon.dir, 'waiting.sock'), { connectTimeoutMs: WAIT_MS });
      assert.match((await client.queryVersion()).package, /^chardevd-/);
      client.close();
    } finally {
      await daemon.stop();
    }
  });

  test('refuses a bad -qmp option with QEMU\'s message and exit status', { skip: qemuSkipReason() }, () => {
    const arg = 'unix:/nonexistent/q.sock,server=on,wait=off,bogus=1';
    const ours = spawnSync(process.execPath, [CHARDEVD, '-qmp', arg], { encoding: 'utf8', timeout: WAIT_MS });
    const theirs = spawnSync('qemu-system-x86_64', ['-machine', 'none', '-nodefaults', '-display', 'none', '-qmp', arg], { encoding: 'utf8', timeout: WAIT_MS });
    assert.equal(ours.status, 1);
    assert.equal(theirs.status, 1);
    assert.equal(ours.stderr.split('\n')[0], `chardevd: -qmp ${arg}: Invalid parameter 'bogus'`);
    assert.equal(ours.stderr.split('\n')[0]!.replace(/^chardevd/, ''), theirs.stderr.split('\n')[0]!.replace(/^qemu-system-x86_64/, ''));
  });

  test('pretty-prints on a -qmp-pretty listener exactly as QEMU 7.2 does', { skip: qemuSkipReason() }, async () => {
    const input = '{"execute":"qmp_capabilities"}{"execute":"query-version","id":[1,{"a":{},"b":[]}]}{"execute":"bogus"}{"execute":"quit"}';
    const transcripts: string[] = [];
    for (const start of [startChardevd, startQemu]) {
      const server = await start((dir) => ['-qmp-pretty', `unix:${join(dir, 'pretty.sock')},server=on,wait=off`]);
      try {
        transcripts.push(normalise(await converse(join(server.dir, 'pretty.sock'), input)));
        await server.exited;
      } finally {
        await server.stop();
      }
    }
    assert.ok(transcripts[0]!.includes('{\r\n    "return": {\r\n    }\r\n}\r\n'), transcripts[0]);
    assert.equal(transcripts[0], transcripts[1]);
  });

  test('on SIGTERM sends SHUTDOWN with reason host-signal to clients and exits 0, as QEMU does', { skip: qemuSkipReason() }, async () => {
    for (const start of [startChardevd, startQemu]) {
      const server = await start();
      const client = await QmpClient.connect(server.qmpPath, { connectTimeoutMs: WAIT_MS });
      const events = client.events({ names: ['SHUTDOWN'] });
      process.kill(server.pid, 'SIGTERM');
      const event = await events.next();
      assert.deepEqual({ ...event?.data }, { guest: false, reason: 'host-signal' });
      assert.equal(await server.exited, 0);
      client.close();
      await server.stop();
    }
  });
});
