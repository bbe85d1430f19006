import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite, test } from 'node:test';
import { nativeAddonUnavailable } from '../../src/base/native-addon.js';
import { CHARDEVD } from '../support/paths.js';
import { Connection } from '../support/qmp-transcript.js';
import { untilListening } from '../support/servers.js';

const EXIT_WAIT_MS = 10_000;

/**
 * Node's built-in modules a daemon serving QMP on a unix socket has no use
 * for until a chardev, object or command asks for them: TLS and crypto
 * (tls-creds objects, web tokens), DNS and UDP (inet addresses), zlib
 * (demux frames), node:module (packages loaded on demand) and
 * fs/promises (a configuration being saved).
 */
const NOT_AT_START = ['tls', 'crypto', 'dns', 'zlib', 'module', 'fs/promises', 'http'];

suite('the chardevd program', () => {
  test('starts from a code cache this Node.js accepts', () => {
    const script = `const launcher = require(${JSON.stringify(CHARDEVD)});
const compiled = launcher.compileBundle(launcher.readCache());
process.stdout.write(String(compiled.cachedDataRejected));`;
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(child.status, 0, child.stderr.slice(-2000));
    assert.equal(child.stdout, 'false', 'V8 rejected the code cache the build wrote');
  });

  test('maps its bundle instead of reading it', { skip: nativeAddonUnavailable }, async () => {
    assert.equal(await withProbedDaemon(bundleMappingProbe(''), servesAndQuits), 'mapped');
  });

  test('starts and serves without its native addon, reading its bundle', async () => {
    // The addon cannot be opened, as when it was not built.
    const noAddon = "process.dlopen = () => { throw new Error('no addon here'); };";
    assert.equal(await withProbedDaemon(bundleMappingProbe(noAddon), servesAndQuits), 'read');
  });

  test('starts when its code cache does not fit (other V8 flags), compiled as usual', () => {
    const child = spawnSync(process.execPath, ['--no-opt', CHARDEVD, '--version'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(child.status, 0, child.stderr.slice(-2000));
    assert.match(child.stdout, /^chardevd version \S+\n$/);
  });

  test('serves QMP without loading TLS, crypto, DNS, zlib or node:module', async () => {
    // At exit, the built-in modules the daemon loaded, one per line.
    const probe = (record: string) =>
      `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(record)}, process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)).join('\\n')));`;
    const listing = await withProbedDaemon(probe, servesAndQuits);
    const loaded = listing.split('\n');
    assert.ok(loaded.includes('net'), 'the listing is not of built-in modules');
    assert.deepEqual(
      NOT_AT_START.filter((name) => loaded.includes(name)),
      [],
    );
  });

  test('sets its V8 memory flags once it has started', async () => {
    // The V8 flags the daemon sets, one call per line.
    const probe = (record: string) =>
      `const v8 = require('node:v8'); const set = v8.setFlagsFromString; v8.setFlagsFromString = (flags) => { require('node:fs').appendFileSync(${JSON.stringify(record)}, flags + '\\n'); set(flags); };`;
    await withProbedDaemon(probe, async (qmp, recorded) => {
      const deadline = Date.now() + EXIT_WAIT_MS;
      while (recorded() === '' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(recorded(), '--optimize-for-size --semi-space-growth-factor=1\n');
      // Still serving after them.
      assert.ok('return' in (await qmp.execute('query-version')));
    });
  });
});

/** A probe that runs `before`, then writes at the daemon's exit whether its bundle is mapped ('mapped') or was read ('read'). */
const bundleMappingProbe = (before: string) => (record: string) =>
  `${before} const fs = require('node:fs'); process.on('exit', () => fs.writeFileSync(${JSON.stringify(record)}, fs.readFileSync('/proc/self/maps', 'utf8').includes('chardevd-bundle.cjs') ? 'mapped' : 'read'));`;

/** Answers query-version, then quits with status 0 (so that a probe's exit handler runs). */
async function servesAndQuits(qmp: Connection, _recorded: () => string, exited: Promise<number | null>): Promise<void> {
  const version = await qmp.execute('query-version');
  assert.ok('return' in version, JSON.stringify(version));
  await qmp.execute('quit');
  const status = await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, EXIT_WAIT_MS, 'still running'))]);
  assert.equal(status, 0);
}

/**
 * Starts the daemon with a probe preloaded (`probe(record)`, a script that
 * writes what it observes to the file `record`), runs `use` on a negotiated
 * QMP connection, stops the daemon, and returns what the probe recorded.
 */
async function withProbedDaemon(
  probe: (record: string) => string,
  use: (qmp: Connection, recorded: () => string, exited: Promise<number | null>) => Promise<void>,
): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'chardevd-test-'));
  try {
    const preload = join(dir, 'probe.cjs');
    const record = join(dir, 'record.txt');
    writeFileSync(preload, probe(record));
    const recorded = (): string => {
      try {
        return readFileSync(record, 'utf8');
      } catch {
        return '';
      }
    };
    const qmpPath = join(dir, 'qmp.sock');
    const daemon = spawn(process.execPath, ['-r', preload, CHARDEVD, '-qmp', `unix:${qmpPath},server=on,wait=off`], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => daemon.once('exit', resolve));
    try {
      await untilListening(qmpPath);
      await use(await Connection.negotiated(qmpPath), recorded, exited);
    } finally {
      daemon.kill('SIGKILL');
      await exited;
    }
    return recorded();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
