import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite, test } from 'node:test';
import { SUPPORTED_KINDS } from '../../src/chardev/create.js';
import { NO_ADDRESS_HINT } from '../../src/chardev/socket-options.js';
import { QmpClient } from '../../src/client/qmp-client.js';
import { MonitorClient } from '../support/monitor-client.js';
import { qemuSkipReason, type ServerProcess, startChardevd, startQemu, untilListening } from '../support/servers.js';
import { CHARDEVD } from '../support/paths.js';

const WAIT_MS = 10_000;

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
  test("listens on TCP with QEMU's syntax, port 0 picking a free port it reports", async () => {
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

  test('warns on stderr about each management listener reachable over TCP, naming it and the unix socket that locks it', async () => {
    const daemon = await startChardevd((dir) => [
      '-qmp',
      'tcp:127.0.0.1:0,server=on,wait=off',
      '-monitor',
      'tcp:127.0.0.1:0,server=on,wait=off',
      '-chardev',
      'socket,id=qmon,host=127.0.0.1,port=0,server=on,wait=off',
      '-mon',
      'qmon,mode=control',
      '-chardev',
      'socket,id=hmon,host=127.0.0.1,port=0,server=on,wait=off,telnet=on',
      '-mon',
      'hmon',
      // Unix listeners and a unix socket chardev's monitor get no warning.
      '-monitor',
      `unix:${join(dir, 'hmp.sock')},server=on,wait=off`,
      '-chardev',
      `socket,id=umon,path=${join(dir, 'umon.sock')},server=on,wait=off`,
      '-mon',
      'umon',
    ]);
    try {
      await stderrMatch(daemon, /monitor listening on unix:/);
      const local = (what: string, protocol: string, option: string): string =>
        `chardevd: warning: ${what} lets every local user control this daemon (${protocol} has no authentication of its own, and this listener no TLS that checks the client); ` +
        `to keep it to this user, use a unix socket instead: ${option} unix:PATH,server=on (its file is made mode 0600), or require client certificates with tls-creds=ID (tls-creds-x509, verify-peer=on) and tls-authz=ID`;
      assert.deepEqual(
        daemon
          .stderr()
          .replaceAll(daemon.dir, 'DIR')
          .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT')
          .trimEnd()
          .split('\n'),
        [
          local("QMP monitor on chardev 'qmon' (tcp:127.0.0.1:PORT)", 'QMP', '-qmp'),
          local("monitor on chardev 'hmon' (telnet:127.0.0.1:PORT)", 'the human monitor', '-monitor'),
          'chardevd: QMP listening on unix:DIR/qmp.sock',
          'chardevd: QMP listening on tcp:127.0.0.1:PORT',
          local('QMP listener tcp:127.0.0.1:PORT', 'QMP', '-qmp'),
          'chardevd: monitor listening on tcp:127.0.0.1:PORT',
          local('monitor listener tcp:127.0.0.1:PORT', 'the human monitor', '-monitor'),
          'chardevd: monitor listening on unix:DIR/hmp.sock',
        ],
      );
    } finally {
      await daemon.stop();
    }
  });

  test("makes its QMP and monitor socket files 0600 whatever the umask, or what chardevd's perm= says", async () => {
    const { dir, remove } = tempDir();
    try {
      for (const umask of ['000', '077']) {
        const child = spawn(
          '/bin/sh',
          [
            '-c',
            `umask ${umask} && exec "$0" "$@"`,
            process.execPath,
            CHARDEVD,
            '-qmp',
            'unix:q.sock,server=on,wait=off',
            '-qmp',
            'unix:q-group.sock,server=on,wait=off,perm=0660',
            '-monitor',
            'unix:h.sock,server=on,wait=off',
            '-monitor',
            'unix:h-all.sock,server=on,wait=off,perm=666',
          ],
          { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
        );
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (text: string) => {
          stderr += text;
        });
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        try {
          await until(
            () => stderr.includes('monitor listening on unix:h-all.sock'),
            () => `the last listener; stderr: ${stderr}`,
          );
          const modes = Object.fromEntries(
            ['q.sock', 'q-group.sock', 'h.sock', 'h-all.sock'].map((name) => [name, (statSync(join(dir, name)).mode & 0o777).toString(8)]),
          );
          assert.deepEqual(modes, { 'q.sock': '600', 'q-group.sock': '660', 'h.sock': '600', 'h-all.sock': '666' }, `umask ${umask}`);
        } finally {
          child.kill('SIGTERM');
          await exited;
        }
      }
    } finally {
      remove();
    }
  });

  test('refuses a bad perm= naming the option, exit status 1', () => {
    for (const [option, text, message] of [
      ['-qmp', 'unix:q.sock,server=on,perm=0999', "Parameter 'perm' expects octal permission bits from 0 to 0777, such as 0660"],
      ['-monitor', 'tcp:127.0.0.1:0,server=on,perm=0600', "Parameter 'perm' is for unix: listeners only"],
      ['-qmp', 'unix:q.sock,perm=0600', "Parameter 'perm' is for listeners (server=on) only"],
    ] as const) {
      const result = runChardevd([option, text]);
      assert.equal(result.status, 1, text);
      assert.equal(result.stderr, `chardevd: ${option} ${text}: ${message}\n`);
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

  test("refuses a bad -qmp option with QEMU's message and exit status", { skip: qemuSkipReason() }, () => {
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
        await untilListening(join(server.dir, 'pretty.sock'));
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

/** A fresh temporary directory, removed by the returned function. */
function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'chardevd-cli-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs chardevd to its end (bounded by WAIT_MS). */
function runChardevd(args: readonly string[], cwd?: string): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CHARDEVD, ...args], { encoding: 'utf8', timeout: WAIT_MS, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs QEMU 7.2 without a machine to its end (bounded by WAIT_MS). */
function runQemu(args: readonly string[], cwd?: string): SpawnSyncReturns<string> {
  return spawnSync('qemu-system-x86_64', ['-machine', 'none', '-nodefaults', '-display', 'none', ...args], {
    encoding: 'utf8',
    timeout: WAIT_MS,
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** stderr with each program's name at the start of a line removed, so that the two compare. */
function withoutProgramName(stderr: string): string {
  return stderr.replace(/^(chardevd|qemu-system-x86_64): /gm, '');
}

/** A chardevd that keeps running, with its stderr collected. */
interface RunningDaemon {
  readonly child: ChildProcess;
  stderr(): string;
  readonly exited: Promise<number | null>;
  /** SIGTERM, then the exit status (SIGKILL after WAIT_MS). */
  stop(): Promise<number | null>;
}

function spawnChardevd(args: readonly string[], cwd?: string): RunningDaemon {
  const child = spawn(process.execPath, [CHARDEVD, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stderr: () => stderr,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), WAIT_MS);
      const status = await exited;
      clearTimeout(timer);
      return status;
    },
  };
}

/** Polls `condition` every 20 ms until it holds, failing after WAIT_MS with `what`. */
async function until(condition: () => boolean, what: () => string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Connects to a unix socket (bounded). */
function connectUnix(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connecting to ${path} timed out`));
    }, WAIT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

const CALL = { timeoutMs: WAIT_MS };

suite('chardevd -chardev and --config', () => {
  /**
   * Each case runs under both programs in the same fresh directory
   * (chardevd first, which must leave the directory as it found it);
   * stderr after the program name and the exit status must be the same.
   */
  const sameAsQemu: readonly { readonly name: string; readonly args: (dir: string) => string[] }[] = [
    { name: 'a ringbuf size that is not a power of two', args: () => ['-chardev', 'ringbuf,id=x,size=3'] },
    {
      name: 'short-form warnings, then a later chardev failing after a socket server was created',
      args: (dir) => ['-chardev', `socket,id=s,path=${dir}/s.sock,server,nowait`, '-chardev', 'ringbuf,id=r,size=3'],
    },
    { name: "a creation error before a later chardev's missing id", args: () => ['-chardev', 'ringbuf,id=a,size=3', '-chardev', 'null'] },
    { name: "a warning, then a later option's bad parameter", args: () => ['-chardev', 'null,server', '-chardev', 'null,id=x,bogus=1'] },
    { name: 'a duplicate id', args: () => ['-chardev', 'null,id=a', '-chardev', 'ringbuf,id=a'] },
    { name: 'an id that is not an identifier (two lines)', args: () => ['-chardev', 'ringbuf,id=1x'] },
    { name: 'a deprecated alias and a missing path', args: () => ['-chardev', 'tty,id=t'] },
    { name: 'a file that cannot be opened', args: (dir) => ['-chardev', `file,id=f,path=${dir}/missing/f.log`] },
    { name: 'a hex size with a suffix, then an unknown parameter', args: () => ['-chardev', 'ringbuf,id=x,size=0x1k,bogus=2'] },
    { name: 'an unknown backend', args: () => ['-chardev', 'bogus,id=b'] },
    { name: 'a udp chardev without a port', args: () => ['-chardev', 'udp,id=u'] },
    { name: 'a socket server that cannot bind', args: (dir) => ['-chardev', `socket,id=s,path=${dir}/missing/s.sock,server=on,wait=off`] },
    // Outside a monitor QEMU reads fd= as a number, of a socket.
    { name: 'a socket fd that is not a number', args: () => ['-chardev', 'socket,id=s,fd=abc'] },
    { name: 'a socket fd beyond an int', args: () => ['-chardev', 'socket,id=s,fd=2147483648x'] },
    { name: 'a socket fd that is not open', args: () => ['-chardev', 'socket,id=s,fd=+987'] },
    // The port as getaddrinfo reads it.
    { name: 'a socket port that is no service', args: () => ['-chardev', 'socket,id=s,host=localhost,port=1e3,server=on,wait=off'] },
    { name: 'a socket port whose int is negative', args: () => ['-chardev', 'socket,id=s,host=localhost,port=4294967295'] },
    { name: 'a socket port without a value (port=on)', args: () => ['-chardev', 'socket,id=s,host=localhost,port'] },
    { name: 'a socket server with neither host nor port', args: () => ['-chardev', 'socket,id=s,host=,port=,server=on,wait=off'] },
    { name: 'a socket client without a host', args: () => ['-chardev', 'socket,id=s,host=,port=80'] },
    { name: 'a udp port that is a tcp service only', args: () => ['-chardev', 'udp,id=u,host=127.0.0.1,port=http'] },
    { name: 'an unknown device model', args: () => ['-chardev', 'null,id=n', '-device', 'nope,id=d0,chardev=n'] },
    { name: 'a device id that is not an identifier (two lines)', args: () => ['-device', 'link,id=0bad'] },
    { name: 'a device without a driver', args: () => ['-device', 'id=d0'] },
    { name: 'a duplicate device id', args: () => ['-device', 'nope,id=d0', '-device', 'nope,id=d0'] },
    { name: 'a mux without its chardev', args: () => ['-chardev', 'mux,id=x'] },
    { name: 'a mux on a missing base', args: () => ['-chardev', 'mux,id=x,chardev=nope'] },
    { name: 'a mux on a base that already has one', args: () => ['-chardev', 'null,id=b', '-chardev', 'mux,id=x,chardev=b', '-chardev', 'mux,id=y,chardev=b'] },
    { name: 'mux=on with a base that cannot be created', args: () => ['-chardev', 'ringbuf,id=m,size=3,mux=on'] },
    { name: 'mux=on when ID-base is taken', args: () => ['-chardev', 'null,id=m-base', '-chardev', 'null,id=m,mux=on'] },
    {
      name: 'mux=on on a socket server that cannot bind, after one that could',
      args: (dir) => [
        '-chardev',
        `socket,id=a,path=${dir}/a.sock,server=on,wait=off,mux=on`,
        '-chardev',
        `socket,id=s,path=${dir}/missing/s.sock,server=on,wait=off,mux=on`,
      ],
    },
  ];

  for (const { name, args } of sameAsQemu) {
    test(`fails as QEMU does: ${name}`, { skip: qemuSkipReason() }, () => {
      const { dir, remove } = tempDir();
      try {
        const ours = runChardevd(args(dir));
        assert.deepEqual(readdirSync(dir), [], 'chardevd left files behind');
        const theirs = runQemu(args(dir));
        assert.equal(theirs.status, 1, theirs.stderr);
        assert.equal(ours.status, 1, ours.stderr);
        assert.equal(withoutProgramName(ours.stderr), withoutProgramName(theirs.stderr));
      } finally {
        remove();
      }
    });
  }

  test("a socket without an address: QEMU's text for an empty fd=, then a hint naming the options that give one", { skip: qemuSkipReason() }, () => {
    for (const text of ['socket,id=s', 'socket,id=s,port=4444', 'socket,id=s,mux=on', 'socket,id=s,fd=']) {
      const ours = runChardevd(['-chardev', text]);
      const theirs = runQemu(['-chardev', text]);
      assert.equal(theirs.stderr, `qemu-system-x86_64: -chardev ${text}: Unable to parse FD number \n`);
      assert.equal(ours.stderr, `chardevd: -chardev ${text}: Unable to parse FD number \n${NO_ADDRESS_HINT}\n`);
      assert.equal(ours.status, 1);
      assert.equal(theirs.status, 1);
    }
  });

  test('a socket server on a port in use fails as QEMU does', { skip: qemuSkipReason() }, async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    try {
      const port = (holder.address() as AddressInfo).port;
      for (const text of [
        `socket,id=s,host=127.0.0.1,port=${port},server=on,wait=off`,
        `socket,id=s,host=127.0.0.1,port=${port},to=${port},telnet=on,server=on,wait=off`,
      ]) {
        const ours = runChardevd(['-chardev', text]);
        const theirs = runQemu(['-chardev', text]);
        assert.equal(withoutProgramName(ours.stderr), `-chardev ${text}: Failed to find an available port: Address already in use\n`);
        assert.equal(withoutProgramName(ours.stderr), withoutProgramName(theirs.stderr));
        assert.equal(ours.status, 1);
        assert.equal(theirs.status, 1);
      }
    } finally {
      holder.close();
    }
  });

  test('lists the backends it creates for -chardev help and exits 0, as QEMU lists its own', { skip: qemuSkipReason() }, () => {
    const ours = runChardevd(['-chardev', 'help']);
    const theirs = runQemu(['-chardev', 'help']);
    assert.equal(ours.status, 0);
    assert.equal(theirs.status, 0);
    assert.equal(ours.stdout, `Available chardev backend types: ${SUPPORTED_KINDS.map((kind) => `\n  ${kind}`).join('')}\n`);
    assert.equal(ours.stdout.split('\n')[0], theirs.stdout.split('\n')[0]);
    assert.equal(ours.stderr, '');
  });

  test('lists the options for -chardev BACKEND,help and exits 1, as QEMU does (plus its extensions)', { skip: qemuSkipReason() }, () => {
    const ours = runChardevd(['-chardev', 'ringbuf,help']);
    const theirs = runQemu(['-chardev', 'ringbuf,help']);
    assert.equal(ours.status, 1);
    assert.equal(theirs.status, 1);
    const ourLines = new Set(ours.stdout.split('\n'));
    for (const line of theirs.stdout.split('\n')) assert.ok(ourLines.has(line), `missing: ${line}`);
    assert.ok(ourLines.has('  logsize=<size>'));
  });

  test('creates every -chardev before serving QMP, and query-chardev lists them', async () => {
    const daemon = await startChardevd((dir) => [
      '-chardev',
      'ringbuf,id=rb,size=1K',
      '-chardev',
      `socket,id=viewer,path=${join(dir, 'viewer.sock')},server=on,wait=off`,
      '-chardev',
      `file,id=log,path=${join(dir, 'out.log')}`,
      '-chardev',
      'null,id=nothing',
    ]);
    try {
      const client = await QmpClient.connect(daemon.qmpPath, { connectTimeoutMs: WAIT_MS });
      try {
        const chardevs = await client.queryChardev(CALL);
        assert.deepEqual(chardevs.map((c) => [c.label, c.filename]).sort(), [
          ['log', 'file'],
          ['nothing', 'null'],
          ['rb', 'ringbuf'],
          ['viewer', `disconnected:unix:${join(daemon.dir, 'viewer.sock')},server=on`],
        ]);
        // size=1K took effect: of 2000 bytes written, the last 1024 are kept.
        await client.ringbufWrite({ device: 'rb', data: 'x'.repeat(976) + 'y'.repeat(1024) }, CALL);
        assert.equal(await client.ringbufRead({ device: 'rb', size: 4096 }, CALL), 'y'.repeat(1024));
        assert.ok(existsSync(join(daemon.dir, 'out.log')));
      } finally {
        client.close();
      }
    } finally {
      await daemon.stop();
    }
  });

  test('holds startup at a socket chardev without wait=off until its client comes, before any QMP listener opens', async () => {
    const { dir, remove } = tempDir();
    const qmpPath = join(dir, 'qmp.sock');
    const chardevPath = join(dir, 'guest.sock');
    const daemon = spawnChardevd(['-qmp', `unix:${qmpPath},server=on,wait=off`, '-chardev', `socket,id=guest,path=${chardevPath},server=on`]);
    let peer: Socket | undefined;
    try {
      await until(
        () => daemon.stderr().includes(`QEMU waiting for connection on: disconnected:unix:${chardevPath},server=on`),
        () => `the waiting message; stderr: ${daemon.stderr()}`,
      );
      assert.equal(existsSync(qmpPath), false, 'the QMP listener opened before the chardev was ready');
      peer = await connectUnix(chardevPath);
      await until(
        () => existsSync(qmpPath),
        () => `the QMP socket after the chardev's client came; stderr: ${daemon.stderr()}`,
      );
      const client = await QmpClient.connect(qmpPath, { connectTimeoutMs: WAIT_MS });
      try {
        const [guest] = await client.queryChardev(CALL);
        assert.equal(guest?.label, 'guest');
        assert.equal(guest?.filename, `unix:${chardevPath},server=on`);
      } finally {
        client.close();
      }
      assert.equal(await daemon.stop(), 0);
      assert.deepEqual(readdirSync(dir), [], 'sockets left behind after exit');
    } finally {
      peer?.destroy();
      await daemon.stop();
      remove();
    }
  });

  test('-device link joins a guest-facing socket to a ringbuf at startup; QMP lists, removes and re-adds links', async () => {
    const daemon = await startChardevd((dir) => [
      '-device',
      'link,id=l0,chardev=guest,peer=console',
      '-chardev',
      `socket,id=guest,path=${join(dir, 'guest.sock')},server=on,wait=off`,
      '-chardev',
      'ringbuf,id=console,size=4K',
    ]);
    try {
      const guest = await connectUnix(join(daemon.dir, 'guest.sock'));
      const client = await QmpClient.connect(daemon.qmpPath, { connectTimeoutMs: WAIT_MS });
      try {
        guest.write('boot log line\n');
        let text = '';
        const deadline = Date.now() + WAIT_MS;
        while (!text.endsWith('\n')) {
          assert.ok(Date.now() < deadline, `timed out waiting for the guest's output in the console ringbuf; it has ${JSON.stringify(text)}`);
          text += await client.ringbufRead({ device: 'console', size: 4096 }, CALL);
          if (!text.endsWith('\n')) await new Promise((resolve) => setTimeout(resolve, 20));
        }
        assert.equal(text, 'boot log line\n');
        const links = await client.queryLinks(CALL);
        assert.deepEqual(
          links.map((link) => ({ ...link })),
          [{ id: 'l0', path: '/machine/peripheral/l0', chardev: 'guest', peer: 'console', 'chardev-to-peer': 14, 'peer-to-chardev': 0 }],
        );
        await assert.rejects(client.chardevRemove({ id: 'console' }, CALL), { message: "Chardev 'console' is busy" });
        await client.deviceDel({ id: 'l0' }, CALL);
        assert.deepEqual(await client.queryLinks(CALL), []);
        await client.deviceAdd({ driver: 'link', id: 'l0', chardev: 'guest', peer: 'console' }, CALL);
        assert.equal((await client.queryLinks(CALL)).length, 1);
      } finally {
        client.close();
        guest.destroy();
      }
    } finally {
      await daemon.stop();
    }
  });

  test("reads -qmp and -monitor in QEMU's legacy chardev syntax, failing with QEMU's messages and exit status", { skip: qemuSkipReason() }, () => {
    const { dir, remove } = tempDir();
    try {
      for (const args of [
        ['-qmp', 'foo'],
        ['-qmp', 'tcp:nohostport'],
        ['-qmp', `unix:${join(dir, 'q.sock')},server=on,bogus=1`],
        ['-qmp', `unix:${join(dir, 'q.sock')},wait=maybe`],
        ['-qmp', 'unix:/a=b'],
        ['-monitor', 'vc:abc'],
        ['-chardev', 'null,id=compat_monitor0', '-qmp', 'stdio'],
        ['-qmp', `unix:${join(dir, 'nobody-listens.sock')}`],
        ['-monitor', `unix:${join(dir, 'nobody-listens.sock')}`],
      ]) {
        const ours = runChardevd(args, dir);
        const theirs = runQemu(args, dir);
        assert.equal(ours.status, 1, args.join(' '));
        assert.equal(theirs.status, 1, args.join(' '));
        assert.equal(withoutProgramName(ours.stderr), withoutProgramName(theirs.stderr));
      }
    } finally {
      remove();
    }
  });

  test("refuses a QMP monitor on a missing or busy chardev with QEMU's message and exit status", { skip: qemuSkipReason() }, () => {
    for (const args of [
      ['-mon', 'nope,mode=control'],
      ['-chardev', 'null,id=c', '-mon', 'c,mode=control', '-mon', 'c,mode=control'],
      ['-chardev', 'null,id=c', '-mon', 'c', '-mon', 'c,mode=control'],
      ['-mon', 'c,mode=control,pretty=maybe'],
    ]) {
      const ours = runChardevd(args);
      const theirs = runQemu(args);
      assert.equal(ours.status, 1, args.join(' '));
      assert.equal(theirs.status, 1, args.join(' '));
      assert.equal(withoutProgramName(ours.stderr), withoutProgramName(theirs.stderr));
    }
  });

  /** Messages with hint lines (QEMU's error_append_hint): only the report lines carry the program's name. */
  const hinted: readonly (readonly [readonly string[], string])[] = [
    [
      ['-chardev', 'ringbuf,id=0c'],
      "chardevd: -chardev ringbuf,id=0c: Parameter 'id' expects an identifier\nIdentifiers consist of letters, digits, '-', '.', '_', starting with a letter.\n",
    ],
    [
      ['-chardev', 'ringbuf,id=x,size=1x'],
      "chardevd: -chardev ringbuf,id=x,size=1x: Parameter 'size' expects a non-negative number below 2^64\n" +
        'Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\nand exabytes, respectively.\n',
    ],
    [
      ['-chardev', 'null,id=a,server', '-chardev', 'null,id=x,bogus=1'],
      "chardevd: -chardev null,id=a,server: warning: short-form boolean option 'server' deprecated\nPlease use server=on instead\n" +
        "chardevd: -chardev null,id=x,bogus=1: Invalid parameter 'bogus'\n",
    ],
    [['-qmp', 'bogus:x'], "chardevd: -qmp bogus:x: 'bogus:x' is not a valid char driver\nchardevd: -qmp bogus:x: parse error: bogus:x\n"],
  ];

  test('prints hint lines without the program name, as QEMU prints error_append_hint lines', () => {
    for (const [args, stderr] of hinted) {
      const result = runChardevd(args);
      assert.equal(result.status, 1, args.join(' '));
      assert.equal(result.stderr, stderr);
    }
  });

  test('puts the program name on the same lines as QEMU 7.2 does', { skip: qemuSkipReason() }, () => {
    for (const [args] of hinted) {
      const ours = runChardevd(args);
      const theirs = runQemu(args);
      assert.equal(ours.stderr.replace(/^chardevd: /gm, 'qemu-system-x86_64: '), theirs.stderr, args.join(' '));
    }
  });

  test('keeps running with nothing but file chardevs until a signal stops it, as QEMU does', async () => {
    const { dir, remove } = tempDir();
    const daemon = spawnChardevd(['-chardev', 'file,id=f,path=out.txt'], dir);
    try {
      await until(
        () => daemon.stderr().includes('nothing can manage this daemon'),
        () => daemon.stderr(),
      );
      assert.ok(existsSync(join(dir, 'out.txt')));
      // Nothing else keeps Node's event loop busy: a daemon that does not
      // hold it ends within milliseconds of this line. One second is the bound.
      const early = await Promise.race([daemon.exited, new Promise((resolve) => setTimeout(() => resolve('running'), 1000))]);
      assert.equal(early, 'running', daemon.stderr());
      assert.equal(await daemon.stop(), 0);
      assert.match(daemon.stderr(), /terminating on signal 15/);
    } finally {
      await daemon.stop();
      remove();
    }
  });

  test('refuses to run with nothing to serve (no listener, chardev or device), saying what to give, with exit status 1', () => {
    const { dir, remove } = tempDir();
    try {
      writeFileSync(join(dir, 'empty.yaml'), 'qmp: []\nchardevs: []\n');
      for (const args of [[], ['-echr', '20'], ['-monitor', 'none'], ['--config', 'empty.yaml']]) {
        const result = runChardevd(args, dir);
        assert.equal(result.status, 1, args.join(' '));
        assert.equal(result.stderr, 'chardevd: nothing to serve: give -qmp, -monitor, -mon, -chardev, -web or -config FILE (chardevd --help lists them)\n');
      }
    } finally {
      remove();
    }
  });

  test('exits 1 on a device it cannot create, after creating the chardevs, naming the -device', () => {
    const result = runChardevd(['-chardev', 'ringbuf,id=r', '-device', 'link,id=l0,chardev=r,peer=nope']);
    assert.equal(result.status, 1);
    assert.equal(result.stderr, "chardevd: -device link,id=l0,chardev=r,peer=nope: Property 'link.peer' can't find value 'nope'\n");
  });

  test('exits 1 on a chardev it cannot create, closing the ones before it and leaving no socket files', () => {
    const { dir, remove } = tempDir();
    try {
      const result = runChardevd([
        '-qmp',
        `unix:${join(dir, 'qmp.sock')},server=on,wait=off`,
        '-chardev',
        `socket,id=s,path=${join(dir, 's.sock')},server=on,wait=off`,
        '-chardev',
        `file,id=f,path=${join(dir, 'f.log')}`,
        '-chardev',
        'ringbuf,id=r,size=3',
      ]);
      assert.equal(result.status, 1);
      assert.equal(result.stderr, 'chardevd: -chardev ringbuf,id=r,size=3: size of ringbuf chardev must be power of two\n');
      // The file chardev's log was created (as QEMU creates it); no socket is left.
      assert.deepEqual(readdirSync(dir), ['f.log']);
    } finally {
      remove();
    }
  });

  test('takes listeners and chardevs from --config, config first, then the command line', async () => {
    const { dir, remove } = tempDir();
    writeFileSync(
      join(dir, 'chardevd.yaml'),
      [
        '# paths are relative to where chardevd starts',
        'qmp:',
        '  - unix:cfg-qmp.sock,server=on,wait=off',
        'hmp:',
        '  - unix:cfg-hmp.sock,server=on,wait=off',
        'chardevs:',
        '  - id: console0',
        '    backend: { type: ringbuf, data: { size: 1024 } }',
        '  - socket,id=viewer,path=viewer.sock,server=on,wait=off',
        '',
      ].join('\n'),
    );
    const daemon = spawnChardevd(['--config', 'chardevd.yaml', '-chardev', 'ringbuf,id=cli'], dir);
    try {
      await until(
        () => existsSync(join(dir, 'cfg-qmp.sock')),
        () => `the config's QMP socket; stderr: ${daemon.stderr()}`,
      );
      const client = await QmpClient.connect(join(dir, 'cfg-qmp.sock'), { connectTimeoutMs: WAIT_MS });
      try {
        const chardevs = await client.queryChardev(CALL);
        assert.deepEqual(chardevs.map((c) => c.label).sort(), ['cli', 'console0', 'viewer']);
        await client.ringbufWrite({ device: 'console0', data: 'a'.repeat(1000) + 'b'.repeat(1024) }, CALL);
        assert.equal(await client.ringbufRead({ device: 'console0', size: 4096 }, CALL), 'b'.repeat(1024));
      } finally {
        client.close();
      }
      // The config's monitor listener runs the same chardevs.
      const monitor = await MonitorClient.open(join(dir, 'cfg-hmp.sock'));
      try {
        assert.match(await monitor.command('info chardev'), /console0: filename=ringbuf\r\n/);
      } finally {
        monitor.close();
      }
      // A listener from the config counts: no complaint about a missing -qmp.
      assert.doesNotMatch(daemon.stderr(), /no -qmp/);
      assert.equal(await daemon.stop(), 0);
      assert.deepEqual(readdirSync(dir), ['chardevd.yaml'], 'sockets left behind after exit');
    } finally {
      await daemon.stop();
      remove();
    }
  });

  test('exits 1 on a config chardev it cannot create, naming the file, line and id, and leaves no socket files', () => {
    const { dir, remove } = tempDir();
    try {
      writeFileSync(
        join(dir, 'c.yaml'),
        'qmp: [ "unix:q.sock,server=on,wait=off" ]\nchardevs:\n  - socket,id=s,path=s.sock,server=on,wait=off\n  - { id: small, backend: { type: ringbuf, data: { size: 3 } } }\n',
      );
      const result = runChardevd(['--config', 'c.yaml'], dir);
      assert.equal(result.status, 1);
      assert.equal(result.stderr, "chardevd: c.yaml:4: chardevs[1] (id 'small'): Failed to add chardev 'small': size of ringbuf chardev must be power of two\n");
      assert.deepEqual(readdirSync(dir), ['c.yaml']);
    } finally {
      remove();
    }
  });

  test('refuses a bad config file on one line with exit status 1', () => {
    const { dir, remove } = tempDir();
    try {
      writeFileSync(join(dir, 'syntax.yaml'), 'chardevs:\n  - [ringbuf\n');
      writeFileSync(join(dir, 'shape.yaml'), 'chardevs:\n  - { id: x, backend: { type: ringbuf, data: { size: "64K" } } }\n');
      writeFileSync(join(dir, 'key.yaml'), 'listeners: []\n');
      const cases: [string, string][] = [
        ['missing.yaml', 'chardevd: missing.yaml: cannot read config file: No such file or directory\n'],
        ['syntax.yaml', 'chardevd: syntax.yaml:3:1: Flow sequence in block collection must be sufficiently indented and end with a ]\n'],
        ['shape.yaml', "chardevd: shape.yaml:2: chardevs[0] (id 'x'): Invalid parameter type for 'backend.data.size', expected: integer\n"],
        ['key.yaml', "chardevd: key.yaml:1: unknown key 'listeners' (the keys are objects, qmp, hmp, chardevs, devices, demux-services, web)\n"],
      ];
      for (const [file, message] of cases) {
        const result = runChardevd(['--config', file], dir);
        assert.equal(result.status, 1, file);
        assert.equal(result.stderr, message);
      }
    } finally {
      remove();
    }
  });
});
