import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite, test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { parse } from 'yaml';
import { QmpClient } from '../../src/client/qmp-client.js';
import { parseConfig } from '../../src/daemon/config.js';
import type { ChardevdConfig, ChardevInfo } from '../../src/generated/qapi-types.gen.js';
import { CHARDEVD } from '../support/paths.js';

const WAIT_MS = 10_000;

interface RunningDaemon {
  readonly client: QmpClient;
  stderr(): string;
  quit(): Promise<void>;
  kill(): void;
}

/**
 * Starts chardevd in `dir`, so that the relative paths of a config file
 * mean the same files each time, and connects to its `qmp.sock`.
 */
async function startDaemon(dir: string, args: readonly string[]): Promise<RunningDaemon> {
  const child: ChildProcess = spawn(process.execPath, [CHARDEVD, ...args], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + WAIT_MS;
  let client: QmpClient | undefined;
  while (client === undefined) {
    try {
      client = await QmpClient.connect(join(dir, 'qmp.sock'), { connectTimeoutMs: WAIT_MS });
    } catch (error: unknown) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`chardevd did not serve qmp.sock: ${error instanceof Error ? error.message : String(error)}; stderr: ${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  const connected = client;
  return {
    client: connected,
    stderr: () => stderr,
    async quit() {
      await connected.execute('quit');
      const timer = setTimeout(() => child.kill('SIGKILL'), WAIT_MS);
      await exited;
      clearTimeout(timer);
      connected.close();
    },
    kill() {
      connected.close();
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

async function hmp(client: QmpClient, commandLine: string): Promise<void> {
  assert.equal(await client.execute('human-monitor-command', { 'command-line': commandLine }), '', commandLine);
}

/**
 * query-chardev as it should be after a restart: by label, since a hub's
 * member added at run time is created before the hub, with what a restart
 * gives anew left out: a pty's name, the port a port-0 server was given.
 */
function comparableChardevs(list: unknown): ChardevInfo[] {
  return (list as ChardevInfo[])
    .map((info) => ({
      ...info,
      filename: info.filename.replace(/^pty:\/dev\/pts\/\d+$/, 'pty:PTS').replace(/127\.0\.0\.1:[1-9]\d*,server=on/, '127.0.0.1:PORT,server=on'),
    }))
    .sort((a, b) => a.label.localeCompare(b.label));
}

/** Waits, bounded, until `check` holds. */
async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${WAIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

suite('query-config and --config-save', () => {
  test('a daemon started from query-config has the same chardevs, hub members and links, changes made at run time included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chardevd-query-config-'));
    let first: RunningDaemon | undefined;
    let second: RunningDaemon | undefined;
    try {
      first = await startDaemon(dir, [
        '-qmp',
        'unix:qmp.sock,server=on,wait=off',
        '-qmp',
        'tcp:127.0.0.1:0,server=on,wait=off',
        '-monitor',
        'unix:hmp.sock,server=on,wait=off',
        '-chardev',
        'ringbuf,id=log0,size=64K',
        '-chardev',
        'socket,id=guest0,path=guest0.sock,server=on,wait=off',
        '-chardev',
        'file,id=out0,path=out0.log,logfile=out0-copy.log',
        '-chardev',
        'null,id=null0',
        '-chardev',
        'null,id=gone',
        '-chardev',
        'null,id=spare',
        '-chardev',
        'ringbuf,id=view0',
        '-chardev',
        'hub,id=hub0,chardevs.0=view0,queue-size=64K',
        '-chardev',
        'socket,id=tcp0,host=127.0.0.1,port=0,server=on,wait=off,telnet=on',
        '-chardev',
        'socket,id=con,path=con.sock,server=on,wait=off,mux=on',
        '-mon',
        'chardev=con',
        '-chardev',
        'pty,id=pty0',
        '-device',
        'link,id=l0,chardev=guest0,peer=hub0',
        '-device',
        'link,chardev=null0,peer=log0',
      ]);
      const { client } = first;
      // Over QMP: a hub member younger than its hub, a member gone, a changed backend under a link, a device come and gone.
      await client.execute('chardev-add', { id: 'view1', backend: { type: 'ringbuf', data: { size: 4096 } } });
      await client.execute('hub-add-member', { hub: 'hub0', member: 'view1' });
      await client.execute('hub-remove-member', { hub: 'hub0', member: 'view0' });
      await client.execute('chardev-remove', { id: 'view0' });
      await client.execute('chardev-add', {
        id: 'ws0',
        backend: { type: 'socket', data: { addr: { type: 'unix', data: { path: 'ws0.sock' } }, server: true, wait: false, websocket: true } },
      });
      await client.execute('device_add', { driver: 'link', id: 'l1', chardev: 'ws0', peer: 'out0' });
      await client.execute('chardev-change', { id: 'out0', backend: { type: 'file', data: { out: 'out1.log', append: true } } });
      await client.execute('device_add', { driver: 'link', id: 'l2', chardev: 'gone', peer: 'spare' });
      await client.execute('device_del', { id: 'l2' });
      // Over the human monitor: a chardev, a muxed one, a removal.
      await hmp(client, 'chardev-add ringbuf,id=hmp0,size=4K');
      await hmp(client, 'chardev-add null,id=hmux,mux=on');
      await hmp(client, 'chardev-remove gone');

      const config = (await client.execute('query-config')) as ChardevdConfig;
      const chardevs = await client.execute('query-chardev');
      const links = await client.execute('query-links');
      assert.deepEqual(config.qmp, ['unix:qmp.sock,server=on,wait=off', 'tcp:127.0.0.1:0,server=on,wait=off']);
      assert.deepEqual(config.hmp, ['unix:hmp.sock,server=on,wait=off', 'chardev:con']);
      const ids = config.chardevs.map((item) => item.id);
      assert.ok(!ids.includes('view0') && !ids.includes('gone'), ids.join(' '));
      assert.ok(ids.indexOf('view1') < ids.indexOf('hub0'), ids.join(' '));
      await first.quit();
      first = undefined;

      // The reply as it is, written to a file (JSON is YAML), is the whole configuration.
      writeFileSync(join(dir, 'saved.json'), JSON.stringify(config));
      second = await startDaemon(dir, ['-config', 'saved.json']);
      assert.deepEqual(comparableChardevs(await second.client.execute('query-chardev')), comparableChardevs(chardevs));
      assert.deepEqual(await second.client.execute('query-links'), links);
      assert.deepEqual(await second.client.execute('query-config'), config);
      // Nothing in the saved configuration is deprecated; only the TCP listener's own warning is expected.
      const warnings = second
        .stderr()
        .split('\n')
        .filter((line) => line.includes('warning') && !line.includes('lets every local user control this daemon'));
      assert.deepEqual(warnings, []);
    } finally {
      first?.kill();
      second?.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--config-save rewrites its file after every change, always complete, and a restart from it brings the changes back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chardevd-config-save-'));
    const file = join(dir, 'state.yaml');
    let first: RunningDaemon | undefined;
    let second: RunningDaemon | undefined;
    let reading = true;
    const problems: string[] = [];
    let reads = 0;
    try {
      first = await startDaemon(dir, ['-qmp', 'unix:qmp.sock,server=on,wait=off', '-chardev', 'ringbuf,id=r0', '-config-save', 'state.yaml']);
      const { client } = first;
      const saved = (): unknown => parse(readFileSync(file, 'utf8'));
      const current = async (): Promise<boolean> => existsSync(file) && isDeepStrictEqual(saved(), await client.execute('query-config'));
      await until('the file is written at startup', current);

      // Read the file over and over while it changes: every read must be a whole config file.
      const reader = (async () => {
        while (reading) {
          const text = readFileSync(file, 'utf8');
          reads++;
          try {
            // An empty file is a valid config file too, so check that this one has what every version has.
            const read = parseConfig(text, 'state.yaml', () => {});
            if (read.qmp.length !== 1 || read.chardevs[0]?.id !== 'r0') problems.push(`an incomplete file (${text.length} bytes)`);
          } catch (error: unknown) {
            problems.push(`${error instanceof Error ? error.message : String(error)} (${text.length} bytes)`);
          }
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      await client.execute('chardev-add', { id: 'h0-view', backend: { type: 'ringbuf', data: {} } });
      await client.execute('chardev-add', { id: 'h0', backend: { type: 'hub', data: { chardevs: ['h0-view'] } } });
      for (let i = 1; i <= 20; i++) {
        await client.execute('chardev-add', { id: `r${i}`, backend: { type: 'ringbuf', data: { size: 4096 } } });
        if (i % 5 === 0) await client.execute('chardev-remove', { id: `r${i}` });
        else if (i % 2 === 0) await client.execute('hub-add-member', { hub: 'h0', member: `r${i}` });
        // A pause now and then, so that there are several writes as well as coalesced ones.
        if (i % 7 === 0) await new Promise((resolve) => setTimeout(resolve, 150));
      }
      await client.execute('device_add', { driver: 'link', id: 'l0', chardev: 'r0', peer: 'h0' });
      await hmp(client, 'chardev-add socket,id=con,path=con.sock,server=on,wait=off,mux=on');
      await until('the file follows the changes', current);
      reading = false;
      await reader;
      assert.equal(problems.length, 0, problems.slice(0, 3).join('; '));
      assert.ok(reads > 0);
      assert.deepEqual(
        readdirSync(dir).filter((name) => name.includes('state.yaml')),
        ['state.yaml'],
      );

      // A change right before quit is saved too.
      await client.execute('chardev-add', { id: 'last', backend: { type: 'null', data: {} } });
      const config = await client.execute('query-config');
      const chardevs = await client.execute('query-chardev');
      await first.quit();
      first = undefined;
      assert.deepEqual(saved(), config);
      const text = readFileSync(file, 'utf8');

      // The file holds everything, the command line's listener and chardev included.
      second = await startDaemon(dir, ['-config', 'state.yaml', '-config-save', 'state.yaml']);
      assert.deepEqual(comparableChardevs(await second.client.execute('query-chardev')), comparableChardevs(chardevs));
      assert.deepEqual(await second.client.execute('query-config'), config);
      // Nothing changed, so nothing was rewritten.
      assert.equal(readFileSync(file, 'utf8'), text);
    } finally {
      reading = false;
      first?.kill();
      second?.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
