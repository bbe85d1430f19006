import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, suite, test } from 'node:test';
import { QmpClient } from '../../src/client/qmp-client.js';
import { CHARDEVCTL } from '../support/paths.js';
import { onPath, waitFor } from '../support/peer-process.js';
import { startSocat } from '../support/peer-socat.js';
import { TmuxServer } from '../support/peer-terminal.js';
import { qemuSkipReason, type ServerProcess, startChardevd, startQemu, untilListening } from '../support/servers.js';

const WAIT_MS = 10_000;

function ctl(socket: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CHARDEVCTL, '-s', socket, ...args], { encoding: 'utf8', timeout: WAIT_MS });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A shell-quoted word for a tmux command line. */
function quote(word: string): string {
  return `'${word.replace(/'/g, "'\\''")}'`;
}

/**
 * A tmux pane's command: `chardevctl console ID` between two snapshots
 * of the terminal settings (`stty -a` into `dir`), then its exit status,
 * so that a test sees the terminal restored after the console detaches.
 */
function consoleScript(dir: string, qmpPath: string, id: string): { command: string; before: string; after: string } {
  const before = join(dir, 'stty-before');
  const after = join(dir, 'stty-after');
  const script = [
    `stty -a > ${quote(before)}`,
    `${quote(process.execPath)} ${quote(CHARDEVCTL)} -s ${quote(qmpPath)} console ${id}`,
    `echo "exit status $?"`,
    `stty -a > ${quote(after)}`,
    'sleep 30',
  ].join('; ');
  return { command: `sh -c ${quote(script)}`, before, after };
}

test('--help says that tail consumes nothing, and when it falls back to the destructive ringbuf-read', () => {
  const result = spawnSync(process.execPath, [CHARDEVCTL, '--help'], { encoding: 'utf8', timeout: WAIT_MS });
  assert.equal(result.status, 0, result.stderr);
  const tailHelp = result.stdout.slice(result.stdout.indexOf('  tail '), result.stdout.indexOf('  gen-bindings '));
  assert.match(tailHelp, /Reads by cursor \(ringbuf-read-cursor\): consumes nothing\./);
  assert.match(tailHelp, /A server without it \(QEMU\) is read with ringbuf-read,\s+which removes what it prints/);
  assert.doesNotMatch(result.stdout, /CONSUMES/);
});

suite('chardevctl against chardevd', () => {
  let daemon: ServerProcess;
  before(async () => {
    daemon = await startChardevd(['-chardev', 'ringbuf,id=rb,size=1024']);
  });
  after(async () => {
    await daemon.stop();
  });

  test('runs one command given in qmp-shell shorthand, nested keys and typed values included', () => {
    const added = ctl(daemon.qmpPath, 'chardev-add', 'id=short', 'backend.type=ringbuf', 'backend.data.size=2048');
    assert.deepEqual(added, { status: 0, stdout: '{}\n', stderr: '' });
    const listed = ctl(daemon.qmpPath, 'query-chardev');
    assert.equal(listed.status, 0, listed.stderr);
    assert.ok((JSON.parse(listed.stdout) as { label: string }[]).some((c) => c.label === 'short'));
    const json = ctl(daemon.qmpPath, 'chardev-add', 'id=json', 'backend={"type": "null", "data": {}}');
    assert.equal(json.status, 0, json.stderr);
  });

  test('runs one request given as raw JSON', () => {
    const result = ctl(daemon.qmpPath, '{"execute": "ringbuf-write", "arguments": {"device": "rb", "data": "raw"}}');
    assert.deepEqual(result, { status: 0, stdout: '{}\n', stderr: '' });
    assert.equal(ctl(daemon.qmpPath, 'ringbuf-read', 'device=rb', 'size=3').stdout, '"raw"\n');
  });

  test("prints the server's error class and text and exits 1", () => {
    assert.deepEqual(ctl(daemon.qmpPath, 'ringbuf-read', 'device=nope', 'size=1'), {
      status: 1,
      stdout: '',
      stderr: "chardevctl: ringbuf-read: GenericError: Device 'nope' not found\n",
    });
    assert.deepEqual(ctl(daemon.qmpPath, 'chardev-add', 'id=a', 'id=b'), { status: 1, stdout: '', stderr: 'chardevctl: Cannot set "id" multiple times\n' });
    const missing = ctl(join(daemon.dir, 'none.sock'), 'query-version');
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /^chardevctl: connecting to .*none\.sock: connect ENOENT/);
  });

  test('pointed at a socket that is not QMP (a human monitor), it says what the socket sent', async () => {
    const own = await startChardevd((dir) => ['-monitor', `unix:${join(dir, 'hmp.sock')},server=on,wait=off`]);
    try {
      await untilListening(join(own.dir, 'hmp.sock'));
      const result = ctl(join(own.dir, 'hmp.sock'), 'query-version');
      assert.equal(result.status, 1);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, /^chardevctl: \S*hmp\.sock sent no QMP greeting; it sent: "chardevd \S+ monitor - type 'help' for more information\\r\\n/);
    } finally {
      await own.stop();
    }
  });

  test('hmp runs human-monitor-command, or reports plainly that the server has none', async () => {
    const client = await QmpClient.connect(daemon.qmpPath, { connectTimeoutMs: WAIT_MS });
    const commands = (await client.queryCommands()).map((c) => c.name);
    client.close();
    const result = ctl(daemon.qmpPath, 'hmp', 'info chardev');
    if (commands.includes('human-monitor-command')) {
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, /^rb: filename=ringbuf$/m);
    } else {
      assert.deepEqual(result, {
        status: 1,
        stdout: '',
        stderr: 'chardevctl: human-monitor-command: CommandNotFound: The command human-monitor-command has not been found\n',
      });
    }
  });

  test('tail prints what a ringbuf holds, byte for byte, without consuming it; tail -f follows new bytes', async () => {
    const client = await QmpClient.connect(daemon.qmpPath, { connectTimeoutMs: WAIT_MS });
    try {
      await client.chardevAdd({ id: 'log', backend: { type: 'ringbuf', data: { size: 4096 } } });
      await client.ringbufWrite({ device: 'log', data: Buffer.from('line one\n\u0000\u00ff\n').toString('base64'), format: 'base64' });
      const first = spawnSync(process.execPath, [CHARDEVCTL, '-s', daemon.qmpPath, 'tail', 'log'], { timeout: WAIT_MS });
      assert.equal(first.status, 0, String(first.stderr));
      assert.deepEqual(first.stdout, Buffer.from('line one\n\u0000\u00ff\n'));
      assert.equal(ctl(daemon.qmpPath, 'tail', 'log').stdout, 'line one\n\u0000\u00ff\n', 'a second tail prints the same');
      assert.equal(await client.ringbufRead({ device: 'log', size: 100 }), 'line one\n\u0000\u00ff\n', 'ringbuf-read still finds every byte');
      const follower = spawn(process.execPath, [CHARDEVCTL, '-s', daemon.qmpPath, 'tail', '-f', 'log'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let followed = '';
      follower.stdout.setEncoding('utf8').on('data', (text: string) => (followed += text));
      try {
        // It starts with what the ring holds, then follows.
        const held = 'line one\n\u0000\u00ff\n';
        await client.ringbufWrite({ device: 'log', data: 'first\n' });
        await waitFor(() => followed === `${held}first\n`, 'tail -f to print what is held and "first"', WAIT_MS, 20);
        await client.ringbufWrite({ device: 'log', data: 'second\n' });
        await waitFor(() => followed === `${held}first\nsecond\n`, 'tail -f to print "second"', WAIT_MS, 20);
        assert.equal(await client.ringbufRead({ device: 'log', size: 100 }), 'first\nsecond\n', 'following consumed nothing');
      } finally {
        follower.kill('SIGTERM');
      }
    } finally {
      client.close();
    }
  });

  test('events prints each event as one JSON line and ends when the server closes', async () => {
    const own = await startChardevd();
    try {
      const watcher = spawn(process.execPath, [CHARDEVCTL, '-s', own.qmpPath, 'events'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      watcher.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
      watcher.stderr.setEncoding('utf8').on('data', (text: string) => (err += text));
      const exited = new Promise<number | null>((resolve) => watcher.once('exit', resolve));
      // It says on stderr when it is subscribed; events sent before that would not reach it.
      await waitFor(() => err.includes('chardevctl: printing events'), `the watcher to subscribe (stderr ${JSON.stringify(err)})`, WAIT_MS, 20);
      const client = await QmpClient.connect(own.qmpPath, { connectTimeoutMs: WAIT_MS });
      await client.quit().catch(() => {});
      assert.equal(await exited, 0);
      const lines = out.trim().split('\n');
      assert.equal(lines.length, 1, out);
      const event = JSON.parse(lines[0]!) as { event: string; data: unknown; timestamp: { seconds: number } };
      assert.equal(event.event, 'SHUTDOWN');
      assert.deepEqual(event.data, { guest: false, reason: 'host-qmp-quit' });
    } finally {
      await own.stop();
    }
  });
});

suite('chardevctl console against chardevd', { skip: onPath('tmux') && onPath('socat') ? undefined : 'tmux and socat are needed (apt-get install tmux socat)' }, () => {
  test("a console on a socket chardev linked to a guest's: keys reach the guest, its output shows, Ctrl-] detaches and restores the terminal", async () => {
    const daemon = await startChardevd((dir) => [
      '-chardev',
      `socket,id=con,path=${join(dir, 'con.sock')},server=on,wait=off`,
      '-chardev',
      `socket,id=guest,path=${join(dir, 'guest.sock')},server=on,wait=off`,
      '-device',
      'link,id=l0,chardev=guest,peer=con',
    ]);
    const tmux = new TmuxServer(daemon.dir);
    await waitFor(() => existsSync(join(daemon.dir, 'guest.sock')) && existsSync(join(daemon.dir, 'con.sock')), 'the chardev sockets', WAIT_MS, 20);
    const guest = startSocat(`UNIX-CONNECT:${join(daemon.dir, 'guest.sock')}`);
    try {
      const { command, before, after: afterFile } = consoleScript(daemon.dir, daemon.qmpPath, 'con');
      await tmux.newSession(command);
      await waitFor(async () => (await tmux.capture()).includes("[attached to chardev 'con'"), 'the console to attach', WAIT_MS);
      await tmux.type('login: root');
      await tmux.sendKeys('Enter');
      await guest.until(() => guest.received.toString('latin1') === 'login: root\r', 'the typed keys at the guest (raw: Enter is CR)');
      await guest.write('guest says hello\r\n');
      await waitFor(async () => (await tmux.capture()).includes('guest says hello'), "the guest's output on the terminal", WAIT_MS);
      await tmux.sendKeys('C-]');
      await waitFor(async () => (await tmux.capture()).includes('exit status 0'), 'chardevctl to detach and exit', WAIT_MS);
      await waitFor(() => existsSync(afterFile) && readFileSync(afterFile, 'utf8') !== '', 'stty after', WAIT_MS);
      assert.equal(readFileSync(afterFile, 'utf8'), readFileSync(before, 'utf8'), 'the terminal settings are as before');
      assert.equal(guest.received.toString('latin1'), 'login: root\r', 'the escape byte itself is not sent');
    } finally {
      await tmux.kill();
      await guest.stop();
      await daemon.stop();
    }
  });
});

suite('chardevctl against QEMU 7.2', { skip: qemuSkipReason() }, () => {
  let qemu: ServerProcess;
  before(async () => {
    qemu = await startQemu((dir) => ['-chardev', `socket,id=con,path=${join(dir, 'con.sock')},server=on,wait=off`, '-mon', 'chardev=con,mode=readline']);
  });
  after(async () => {
    await qemu.stop();
  });

  test("hmp 'info chardev' prints QEMU's human monitor output", () => {
    const result = ctl(qemu.qmpPath, 'hmp', 'info chardev');
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^con: filename=disconnected:unix:.*con\.sock,server=on$/m);
    assert.match(result.stdout, /^compat_monitor0: filename=unix:.*qmp\.sock,server=on$/m);
    assert.ok(!result.stdout.includes('\r'), 'line ends are the terminal’s');
  });

  test('tail on QEMU, which has no cursor reads, reads destructively and says so', () => {
    ctl(qemu.qmpPath, 'chardev-add', 'id=tailed', 'backend.type=ringbuf', 'backend.data.size=64');
    ctl(qemu.qmpPath, 'ringbuf-write', 'device=tailed', 'data=from qemu');
    assert.deepEqual(ctl(qemu.qmpPath, 'tail', 'tailed'), {
      status: 0,
      stdout: 'from qemu',
      stderr: 'chardevctl: this server has no ringbuf-read-cursor; reading with ringbuf-read, which removes what it reads\n',
    });
    assert.equal(ctl(qemu.qmpPath, 'tail', 'tailed').stdout, '');
  });

  test('console refuses a chardev that is not a socket server, naming its filename', () => {
    ctl(qemu.qmpPath, 'chardev-add', 'id=mem', 'backend.type=ringbuf', 'backend.data.size=64');
    assert.deepEqual(ctl(qemu.qmpPath, 'console', 'mem'), {
      status: 1,
      stdout: '',
      stderr: "chardevctl: chardev 'mem' is not a socket server (its filename is 'ringbuf'); console attaches to socket chardevs with server=on\n",
    });
    assert.equal(ctl(qemu.qmpPath, 'console', 'nope').stderr, "chardevctl: chardev 'nope' not found\n");
  });

  suite('under a terminal (tmux)', { skip: onPath('tmux') ? undefined : 'tmux is not installed (apt-get install tmux)' }, () => {
    let dir: string;
    let tmux: TmuxServer;
    const extraServers: TmuxServer[] = [];
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'chardevctl-tty-'));
      tmux = new TmuxServer(dir);
    });
    after(async () => {
      await tmux.kill();
      for (const server of extraServers) await server.kill();
      rmSync(dir, { recursive: true, force: true });
    });

    test("console joins the terminal to a chardev: keys reach QEMU's monitor, its output shows, Ctrl-] detaches and restores the terminal", async () => {
      const { command, before, after: afterFile } = consoleScript(dir, qemu.qmpPath, 'con');
      await tmux.newSession(command);
      const screen = async (): Promise<string> => tmux.capture();
      await waitFor(async () => (await screen()).includes('(qemu)'), 'the QEMU monitor prompt through the console', WAIT_MS);
      assert.match(await screen(), /\[attached to chardev 'con'; escape is \^\]\]/);
      const tty = (await tmux.tmux('display-message', '-p', '#{pane_tty}')).trim();
      const raw = spawnSync('stty', ['-a', '-F', tty], { encoding: 'utf8' });
      assert.match(raw.stdout, /-icanon/, 'raw mode while attached');
      assert.match(raw.stdout, /-echo /);
      await tmux.type('info chardev');
      await tmux.sendKeys('Enter');
      await waitFor(async () => /con: filename=unix:.*con\.sock,server=on/.test(await screen()), 'the output of info chardev', WAIT_MS);
      await tmux.sendKeys('C-]');
      await waitFor(async () => (await screen()).includes('exit status 0'), 'chardevctl to detach and exit', WAIT_MS);
      assert.match(await screen(), /\[detached\]/);
      await waitFor(() => existsSync(afterFile) && readFileSync(afterFile, 'utf8') !== '', 'stty after', WAIT_MS);
      assert.equal(readFileSync(afterFile, 'utf8'), readFileSync(before, 'utf8'), 'the terminal settings are as before');
      // The chardev is free again for the next client.
      const info = ctl(qemu.qmpPath, 'hmp', 'info chardev');
      assert.match(info.stdout, /^con: filename=disconnected:unix:/m);
    });

    test('the shell completes command and argument names from the schema and keeps its history', async () => {
      const history = join(dir, 'history');
      // A tmux server of its own: a killed one may still be exiting on the old socket.
      mkdirSync(join(dir, 'shell'));
      const shellTmux = new TmuxServer(join(dir, 'shell'));
      extraServers.push(shellTmux);
      const tmux = shellTmux;
      await tmux.newSession(`env CHARDEVCTL_HISTORY=${quote(history)} ${quote(process.execPath)} ${quote(CHARDEVCTL)} -s ${quote(qemu.qmpPath)}`);
      await waitFor(async () => (await tmux.capture()).includes('(qmp)'), 'the shell prompt', WAIT_MS);
      assert.match(await tmux.capture(), /Connected to QEMU 7\.2\.\d+/);
      await tmux.type('query-statu');
      await tmux.sendKeys('Tab');
      await waitFor(async () => (await tmux.capture()).includes('(qmp) query-status'), 'query-statu to complete to query-status', WAIT_MS);
      await tmux.sendKeys('Enter');
      await waitFor(async () => (await tmux.capture()).includes('"status": "running"'), 'the reply of query-status', WAIT_MS);
      await tmux.type('ringbuf-write dev');
      await tmux.sendKeys('Tab');
      await waitFor(async () => (await tmux.capture()).includes('(qmp) ringbuf-write device='), 'an argument name to complete', WAIT_MS);
      await tmux.sendKeys('C-u');
      await tmux.type('chardev-add id=x backend.type=null backend.data={}');
      await tmux.sendKeys('Enter');
      await tmux.type('chardev-add id=x backend.type=null backend.data={}');
      await tmux.sendKeys('Enter');
      await waitFor(async () => (await tmux.capture()).includes("Error: GenericError: Chardev with id 'x' already exists"), 'the second add to fail', WAIT_MS);
      await tmux.type('exit');
      await tmux.sendKeys('Enter');
      // The history file is rewritten after every line: wait for the last one, exit.
      await waitFor(() => existsSync(history) && readFileSync(history, 'utf8').trim().endsWith('exit'), 'exit in the history file', WAIT_MS);
      assert.deepEqual(readFileSync(history, 'utf8').trim().split('\n'), ['query-status', 'chardev-add id=x backend.type=null backend.data={}', 'exit']);
    });
  });
});
