import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, suite, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MonitorClient } from '../support/monitor-client.js';
import { waitFor } from '../support/peer-process.js';
import { Connection } from '../support/qmp-transcript.js';
import { qemuSkipReason } from '../support/servers.js';
import { CHARDEVD } from '../support/paths.js';

/**
 * The configuration `npm start` uses (chardevd.yaml), run as a new user
 * runs it: only unix sockets, the management ones and the web console's
 * mode 0600 whatever the umask; the web console on its socket; the
 * README's first session as printed; `console console0` on the shared
 * console; and QEMU's qmp-shell -H, which sends cpu-index 0.
 */

const WAIT_MS = 10_000;
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Daemon {
  readonly dir: string;
  readonly child: ChildProcess;
  stderr(): string;
  stop(): Promise<void>;
}

/** Starts chardevd on a copy of chardevd.yaml in a fresh directory, under `umask`, and waits until its last listener is open. */
async function startDefault(umask: string): Promise<Daemon> {
  const dir = mkdtempSync(join(tmpdir(), 'chardevd-default-'));
  copyFileSync(join(ROOT, 'chardevd.yaml'), join(dir, 'chardevd.yaml'));
  const child = spawn('/bin/sh', ['-c', `umask ${umask} && exec "$0" "$@"`, process.execPath, CHARDEVD, '--config', 'chardevd.yaml'], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), WAIT_MS);
    await exited;
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
  };
  // The web console opens last.
  const deadline = Date.now() + WAIT_MS;
  while (!stderr.includes('web console on')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`chardevd did not start on chardevd.yaml: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { dir, child, stderr: () => stderr, stop };
}

/** The inodes of the sockets process `pid` holds. */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // A descriptor closed while the list was read.
    }
  }
  return inodes;
}

/** The socket inodes listed in one of /proc/PID/net's tables (the inode is the 10th field of tcp/udp, the 7th of unix). */
function tableInodes(pid: number, table: string): Set<string> {
  const column = table === 'unix' ? 6 : 9;
  const lines = readFileSync(`/proc/${pid}/net/${table}`, 'utf8').trim().split('\n').slice(1);
  return new Set(lines.map((line) => line.trim().split(/\s+/)[column]!));
}

async function connected(path: string): Promise<Socket> {
  const socket = connect(path);
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return socket;
}

async function negotiated(path: string): Promise<Connection> {
  const qmp = await Connection.open(path);
  await qmp.until((lines) => lines.length >= 1, 'the greeting');
  assert.deepEqual(await qmp.execute('qmp_capabilities'), { return: {}, id: 'qmp_capabilities-1' });
  return qmp;
}

suite('the default configuration (chardevd.yaml)', () => {
  for (const umask of ['000', '022']) {
    test(`under umask ${umask}: no TCP port, every listener a unix socket, the management sockets mode 0600`, async () => {
      const daemon = await startDefault(umask);
      try {
        const pid = daemon.child.pid!;
        const ours = socketInodes(pid);
        assert.ok(ours.size > 0, 'the daemon holds no socket');
        for (const table of ['tcp', 'tcp6', 'udp', 'udp6']) {
          const open = [...tableInodes(pid, table)].filter((inode) => ours.has(inode));
          assert.deepEqual(open, [], `the daemon has ${table} sockets`);
        }
        const unix = tableInodes(pid, 'unix');
        assert.deepEqual(
          [...ours].filter((inode) => !unix.has(inode)),
          [],
          'sockets that are not unix sockets',
        );
        for (const name of ['chardevd-qmp.sock', 'chardevd-hmp.sock', 'chardevd-web.sock']) {
          assert.equal((statSync(join(daemon.dir, name)).mode & 0o777).toString(8), '600', name);
        }
        assert.doesNotMatch(daemon.stderr(), /warning/);
      } finally {
        await daemon.stop();
      }
    });
  }

  suite('running', () => {
    let daemon: Daemon;
    before(async () => {
      daemon = await startDefault('022');
    });
    after(async () => {
      await daemon.stop();
    });

    test('the web console answers on its unix socket: the page, the chardev list and /metrics', async () => {
      const get = (path: string): Promise<{ status: number; body: string }> =>
        new Promise((resolve, reject) => {
          request({ socketPath: join(daemon.dir, 'chardevd-web.sock'), path, headers: { host: '127.0.0.1:8080' } }, (response) => {
            let body = '';
            response.setEncoding('utf8').on('data', (text: string) => (body += text));
            response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
          })
            .on('error', reject)
            .end();
        });
      const page = await get('/');
      assert.equal(page.status, 200);
      assert.match(page.body, /<title>chardevd<\/title>/);
      const list = JSON.parse((await get('/api/chardevs')).body) as { id: string; hub?: string }[];
      assert.deepEqual(
        list.map(({ id, hub }) => [id, hub ?? null]),
        [
          ['console0-log', null],
          ['console0', 'console0'],
          ['guest0', 'console0'],
        ],
      );
      assert.match((await get('/metrics')).body, /^chardevd_hub_members\{hub="console0"\} 1$/m);
    });

    test("README.md's first session works as printed", async () => {
      const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
      const block = /A first session[^\n]*\n\n```console\n([\s\S]*?)```/.exec(readme);
      assert.ok(block, "README.md has no console block after 'A first session'");
      const lines = block[1]!.trimEnd().split('\n');
      // First the guest's line, sent by the shell command as printed.
      const guest = lines.shift()!;
      assert.match(guest, /^\$ echo '[^']*' \| socat - UNIX-CONNECT:chardevd-console\.sock$/);
      execFileSync('/bin/sh', ['-c', guest.slice(2)], { cwd: daemon.dir, timeout: WAIT_MS });
      const sent = Buffer.byteLength(`${/'([^']*)'/.exec(guest)![1]}\n`);
      // A person types the next command seconds later; the test waits until the bytes are in the log instead.
      const watch = await negotiated(join(daemon.dir, 'chardevd-qmp.sock'));
      try {
        for (const deadline = Date.now() + WAIT_MS; ; ) {
          const chardevs = (await watch.execute('query-chardev'))['return'] as { label: string; hub?: { members: { written: number }[] } }[];
          if (chardevs.find((c) => c.label === 'console0')?.hub?.members[0]?.written === sent) break;
          assert.ok(Date.now() < deadline, 'the guest line never reached the console log');
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      } finally {
        watch.socket.destroy();
      }
      // Then the QMP session: the greeting, and each request followed by its reply, as printed.
      assert.equal(lines.shift(), '$ socat - UNIX-CONNECT:chardevd-qmp.sock');
      const socat = spawn('socat', ['-', 'UNIX-CONNECT:chardevd-qmp.sock'], { cwd: daemon.dir, stdio: ['pipe', 'pipe', 'ignore'] });
      let output = '';
      socat.stdout.setEncoding('utf8').on('data', (text: string) => {
        output += text;
      });
      const outputLines = async (count: number): Promise<string[]> => {
        const deadline = Date.now() + WAIT_MS;
        // QMP ends its lines in CR LF, as QEMU does; a terminal shows them as the README prints them.
        while (output.split('\r\n').length - 1 < count) {
          assert.ok(Date.now() < deadline, `socat printed ${JSON.stringify(output.slice(-200))}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        return output.split('\r\n').slice(0, count);
      };
      try {
        const expected: string[] = [];
        for (const line of lines) {
          if (line.startsWith('{"execute"')) socat.stdin.write(`${line}\n`);
          else expected.push(line);
          assert.deepEqual(await outputLines(expected.length), expected);
        }
      } finally {
        socat.kill();
      }
    });

    test('console console0 shares the console: the guest output shows, the keys reach the guest, Ctrl-] returns', async () => {
      const guest = await connected(join(daemon.dir, 'chardevd-console.sock'));
      let fromConsole = '';
      guest.setEncoding('latin1').on('data', (text: string) => {
        fromConsole += text;
      });
      const monitor = await MonitorClient.open(join(daemon.dir, 'chardevd-hmp.sock'));
      try {
        monitor.send('console console0\r');
        await monitor.until(() => monitor.received.includes("Connected to chardev 'console0'. Escape character is '^]'.\r\n"), 'the console banner');
        guest.write('guest output\r\n');
        await monitor.until(() => monitor.received.endsWith('guest output\r\n'), 'the guest output on the console');
        monitor.send('typed keys\r');
        await waitFor(() => fromConsole === 'typed keys\r', 'the keys at the guest', WAIT_MS, 5);
        monitor.send('\x1d');
        await monitor.until(() => monitor.received.endsWith('(chardevd) '), 'the prompt after Ctrl-]');
        assert.match(await monitor.command('info chardev'), /console0: filename=hub\r\n/);
      } finally {
        monitor.close();
        guest.destroy();
      }
    });

    test("qmp-shell -H works: QEMU's HMP shell sends cpu-index 0 with every line, which is ignored", async () => {
      const qmp = await negotiated(join(daemon.dir, 'chardevd-qmp.sock'));
      try {
        // What qmp-shell -H (python qemu.qmp, HMPShell) sends: `help` and `info` to fill its completion, then the lines typed.
        const hmp = async (line: string, cpuIndex: number): Promise<Record<string, unknown>> =>
          qmp.execute('human-monitor-command', { 'command-line': line, 'cpu-index': cpuIndex });
        const help = (await hmp('help', 0))['return'];
        assert.equal(typeof help, 'string');
        // HMPShell takes each line's first word as a command, and each `info` line's second word as a subcommand.
        assert.ok((help as string).split('\r\n').includes('ringbuf_read device size -- Read from a ring buffer character device'));
        const info = (await hmp('info', 0))['return'] as string;
        assert.deepEqual(
          info
            .split('\r\n')
            .filter((line) => line !== '')
            .map((line) => line.split(/\s+/)[1]),
          ['chardev', 'history', 'version'],
        );
        assert.match((await hmp('info chardev', 0))['return'] as string, /^console0: filename=hub\r\n/m);
        // Its `cpu N` checks N with `info version`: any other index gets QEMU's error, so the shell says "bad CPU index".
        for (const index of [1, -1]) {
          assert.deepEqual((await hmp('info version', index))['error'], { class: 'GenericError', desc: "Parameter 'cpu-index' expects a CPU number" });
        }
      } finally {
        qmp.socket.destroy();
      }
    });
  });

  test('a second daemon in the same folder refuses to start, names what collided, and leaves the first one reachable', async () => {
    const first = await startDefault('022');
    try {
      const second = spawn(process.execPath, [CHARDEVD, '--config', 'chardevd.yaml'], { cwd: first.dir, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      second.stderr.setEncoding('utf8').on('data', (text: string) => {
        stderr += text;
      });
      const status = await new Promise<number | null>((resolve) => second.once('exit', (code) => resolve(code)));
      assert.equal(status, 1, stderr);
      // Chardevs come before listeners (QEMU's order): the console socket is the first path in use.
      assert.match(stderr, /chardevs\[\d+\] \(id 'guest0'\): Failed to bind socket to chardevd-console\.sock: a process is listening on chardevd-console\.sock already/);
      for (const name of ['chardevd-qmp.sock', 'chardevd-hmp.sock', 'chardevd-console.sock']) assert.ok(statSync(join(first.dir, name)).isSocket(), name);
      const qmp = await negotiated(join(first.dir, 'chardevd-qmp.sock'));
      assert.deepEqual(Object.keys(((await qmp.execute('query-version'))['return'] as object) ?? {}).sort(), ['package', 'qemu']);
      qmp.socket.destroy();
      const guest = await connected(join(first.dir, 'chardevd-console.sock'));
      guest.destroy();
    } finally {
      await first.stop();
    }
  });

  test("a QMP listener on a TCP port in use fails in QEMU 7.2's words, naming the option", { skip: qemuSkipReason() }, async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    try {
      const option = `tcp:127.0.0.1:${(holder.address() as AddressInfo).port},server=on,wait=off`;
      const run = (program: string, args: string[]) => spawnSync(program, [...args, '-qmp', option], { encoding: 'utf8', timeout: WAIT_MS });
      const ours = run(process.execPath, [CHARDEVD]);
      const qemu = run('qemu-system-x86_64', ['-machine', 'none', '-nodefaults', '-display', 'none']);
      assert.equal(ours.status, 1);
      assert.equal(qemu.status, 1);
      assert.equal(ours.stderr.replace(/^chardevd: /, ''), qemu.stderr.replace(/^qemu-system-x86_64: /, ''));
    } finally {
      holder.close();
    }
  });
});
