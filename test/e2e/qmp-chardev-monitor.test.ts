import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { after, before, suite, test } from 'node:test';
import { QmpClient } from '../../src/client/qmp-client.js';
import { WebSocketPeer } from '../support/peer-websocket.js';
import { compare, Connection, NEGOTIATE, play, playOn, sortQueryChardev, type Transcript } from '../support/qmp-transcript.js';
import { MonitorClient } from '../support/monitor-client.js';
import { qemuSkipReason, type ServerProcess, startChardevd, startQemu, untilListening } from '../support/servers.js';
import { CHARDEVD } from '../support/paths.js';

/**
 * QMP on a chardev (`-mon chardev=ID,mode=control`), as libvirt starts
 * QEMU: a socket chardev with a QMP monitor on it. The same transcripts go
 * to QEMU 7.2 and to chardevd through that socket; every client that
 * connects gets a greeting and must negotiate again (monitor_qmp_event
 * resets the capabilities on each open), and `pretty=on` works as on -qmp.
 */

const WAIT_MS = 10_000;

const monitorArgs = (dir: string): string[] => [
  '-chardev',
  `socket,id=qmon,path=${join(dir, 'qmon.sock')},server=on,wait=off`,
  '-mon',
  'chardev=qmon,mode=control',
  '-chardev',
  `socket,id=qpretty,path=${join(dir, 'qpretty.sock')},server=on,wait=off`,
  '-mon',
  'qpretty,mode=control,pretty=on',
];

const QUERY = '{"execute":"query-chardev","id":"query"}';

/** query-chardev sorted, without QEMU's own -qmp chardev (chardevd's -qmp is a listener, not a chardev). */
const normalise = (lines: readonly string[]): string[] => sortQueryChardev(lines, (label) => label.startsWith('compat_monitor'));

const transcripts: Transcript[] = [
  {
    name: 'a first client: commands before negotiation, negotiation, chardev commands, the monitor chardev busy',
    steps: [
      '{"execute":"query-version","id":1}',
      NEGOTIATE,
      NEGOTIATE,
      '{"execute":"chardev-add","arguments":{"id":"r","backend":{"type":"ringbuf","data":{"size":1024}}}}',
      '{"execute":"ringbuf-write","arguments":{"device":"r","data":"through a chardev monitor"}}',
      '{"execute":"ringbuf-read","arguments":{"device":"r","size":100}}',
      QUERY,
      '{"execute":"chardev-remove","arguments":{"id":"qmon"}}',
      '{"execute":"chardev-change","arguments":{"id":"qmon","backend":{"type":"null","data":{}}}}',
      '{"execute":"chardev-remove","arguments":{"id":"r"}}',
    ],
  },
  {
    name: 'the next client starts over: a greeting and negotiation again',
    steps: ['{"execute":"query-status"}', NEGOTIATE, '{"execute":"ringbuf-read","arguments":{"device":"nope","size":1}}'],
  },
];

suite('QMP on a chardev: chardevd answers as QEMU 7.2', { skip: qemuSkipReason() }, () => {
  let qemu: ServerProcess;
  let chardevd: ServerProcess;

  before(async () => {
    [qemu, chardevd] = await Promise.all([startQemu(monitorArgs), startChardevd(monitorArgs)]);
    await Promise.all([qemu, chardevd].flatMap((server) => ['qmon.sock', 'qpretty.sock'].map((name) => untilListening(join(server.dir, name)))));
  });

  after(async () => {
    await Promise.all([qemu?.stop(), chardevd?.stop()]);
  });

  for (const transcript of transcripts) {
    test(transcript.name, async () => {
      const theirs = await play(join(qemu.dir, 'qmon.sock'), transcript, qemu.dir);
      const ours = await play(join(chardevd.dir, 'qmon.sock'), transcript, chardevd.dir);
      compare(normalise(ours), normalise(theirs));
    });
  }

  test('pretty=on prints multi-line replies as -qmp-pretty does', async () => {
    const transcript: Transcript = { name: 'pretty', steps: [NEGOTIATE, '{"execute":"query-chardev-backends","id":"list-backends"}', '{"execute":"nope"}'] };
    const theirs = await play(join(qemu.dir, 'qpretty.sock'), transcript, qemu.dir);
    const ours = await play(join(chardevd.dir, 'qpretty.sock'), transcript, chardevd.dir);
    // The backend lists differ (chardevd has no emulator backends); the shape of the output must not.
    const shape = (lines: readonly string[]) => lines.filter((line) => !/^ {8}/.test(line) && !/^ {12}/.test(line));
    assert.ok(ours.some((line) => line === '{'));
    compare(normalise(shape(ours)), normalise(shape(theirs)));
  });
});

suite('QMP on a chardev: sessions, events and the chardev', () => {
  let daemon: ServerProcess;

  before(async () => {
    daemon = await startChardevd((dir) => [
      ...monitorArgs(dir),
      '-chardev',
      `socket,id=guest,path=${join(dir, 'guest.sock')},server=on,wait=off`,
      '-chardev',
      'ringbuf,id=log',
      '-chardev',
      'socket,id=qws,host=127.0.0.1,port=0,server=on,wait=off,websocket=on',
      '-mon',
      'qws,mode=control',
    ]);
    await untilListening(join(daemon.dir, 'qmon.sock'));
  });

  after(async () => {
    await daemon?.stop();
  });

  test('a session on the chardev gets the events every QMP client gets', async () => {
    const onChardev = await QmpClient.connect(join(daemon.dir, 'qmon.sock'), { connectTimeoutMs: WAIT_MS });
    const onListener = await QmpClient.connect(daemon.qmpPath, { connectTimeoutMs: WAIT_MS });
    try {
      const events = onChardev.events({ names: ['DEVICE_DELETED'] });
      await onListener.execute('device_add', { driver: 'link', id: 'l0', chardev: 'guest', peer: 'log' });
      await onListener.execute('device_del', { id: 'l0' });
      const event = await events.next();
      assert.deepEqual(event?.data, { device: 'l0', path: '/machine/peripheral/l0' });
    } finally {
      onChardev.close();
      onListener.close();
    }
  });

  test('QMP over a websocket chardev: a browser-style client negotiates and runs commands', async () => {
    const manager = await QmpClient.connect(daemon.qmpPath, { connectTimeoutMs: WAIT_MS });
    const chardevs = (await manager.execute('query-chardev')) as { label: string; filename: string }[];
    manager.close();
    const port = /:(\d+),server=on$/.exec(chardevs.find((entry) => entry.label === 'qws')!.filename)![1];
    const peer = await WebSocketPeer.connect(`ws://127.0.0.1:${port}/`);
    try {
      const lines = (): string[] => peer.received.toString('utf8').split('\r\n');
      await peer.until(() => lines().length > 1, 'the greeting');
      assert.match(lines()[0]!, /^\{"QMP": \{"version": /);
      await peer.write(
        '{"execute":"qmp_capabilities"}{"execute":"ringbuf-write","arguments":{"device":"log","data":"hi"}}{"execute":"ringbuf-read","arguments":{"device":"log","size":10},"id":7}',
      );
      await peer.until(() => lines().length > 4, 'three replies');
      assert.deepEqual(lines().slice(1, 4), ['{"return": {}}', '{"return": {}}', '{"return": "hi", "id": 7}']);
    } finally {
      await peer.close();
    }
  });

  test('a config file puts QMP on one of its chardevs with chardev:ID', async () => {
    const configDir = mkdtempSync(join(tmpdir(), 'chardevd-qmp-config-'));
    const config = join(configDir, 'c.yaml');
    writeFileSync(config, `chardevs:\n  - socket,id=qmon,path=${join(configDir, 'q.sock')},server=on,wait=off\nqmp:\n  - chardev:qmon\n`);
    const server = await startChardevd(['--config', config]);
    try {
      await untilListening(join(configDir, 'q.sock'));
      const client = await QmpClient.connect(join(configDir, 'q.sock'), { connectTimeoutMs: WAIT_MS });
      const chardevs = (await client.execute('query-chardev')) as { label: string; 'frontend-open': boolean }[];
      client.close();
      assert.equal(chardevs.find((entry) => entry.label === 'qmon')?.['frontend-open'], true);
    } finally {
      await server.stop();
      rmSync(configDir, { recursive: true, force: true });
    }
  });

  test('a client that leaves with a command queued does not disturb the next one', async () => {
    const first = await QmpClient.connect(join(daemon.dir, 'qmon.sock'), { connectTimeoutMs: WAIT_MS });
    const pending = first.execute('query-version').catch((error: unknown) => error);
    first.close();
    await pending;
    const second = await QmpClient.connect(join(daemon.dir, 'qmon.sock'), { connectTimeoutMs: WAIT_MS });
    try {
      const version = (await second.execute('query-version')) as { qemu: { major: number } };
      assert.equal(typeof version.qemu.major, 'number');
      const chardevs = (await second.execute('query-chardev')) as { label: string; 'frontend-open': boolean }[];
      assert.equal(chardevs.find((entry) => entry.label === 'qmon')?.['frontend-open'], true);
    } finally {
      second.close();
    }
  });
});

/**
 * `-qmp` and `-monitor` in QEMU's legacy chardev syntax: without
 * server=on they connect out to a management program that listens, and
 * `stdio` puts the monitor on the process's standard input and output.
 * The same session goes to QEMU 7.2 and to chardevd.
 */
suite('-qmp and -monitor connecting out, and on stdio: chardevd answers as QEMU 7.2', { skip: qemuSkipReason() }, () => {
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'chardevd-qmp-out-'));
  });

  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Listens on `path`, starts the server, and resolves with the connection it makes (bounded). */
  async function acceptFrom(path: string, start: () => Promise<ServerProcess>): Promise<{ server: ServerProcess; socket: Socket }> {
    const listener = createServer();
    await new Promise<void>((resolve) => listener.listen(path, resolve));
    try {
      const accepted = new Promise<Socket>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`nothing connected to ${path}`)), WAIT_MS);
        listener.once('connection', (socket) => {
          clearTimeout(timer);
          resolve(socket);
        });
      });
      const server = await start();
      return { server, socket: await accepted };
    } finally {
      listener.close();
    }
  }

  const outgoing: Transcript = {
    name: 'out',
    steps: [
      '{"execute":"query-version","id":1}',
      NEGOTIATE,
      '{"execute":"chardev-add","arguments":{"id":"r","backend":{"type":"ringbuf","data":{}}}}',
      '{"execute":"ringbuf-write","arguments":{"device":"r","data":"out"}}',
      '{"execute":"ringbuf-read","arguments":{"device":"r","size":8}}',
      '{"execute":"query-chardev","id":"query"}',
    ],
  };

  /** The -qmp listener the servers start with is QEMU's compat_monitor0 (chardevd's is no chardev), so the one connecting out is compat_monitor1 in both. */
  const sortedQuery = (lines: readonly string[], skip?: string): string[] => sortQueryChardev(lines, (label) => label === skip);

  test('-qmp unix:PATH connects out as a QMP client chardev named compat_monitor1', async () => {
    const path = join(dir, 'manager.sock');
    const runs: string[][] = [];
    for (const start of [startQemu, startChardevd]) {
      const { server, socket } = await acceptFrom(path, () => start(['-qmp', `unix:${path}`]));
      try {
        runs.push(await playOn(Connection.of(socket), outgoing));
      } finally {
        await server.stop();
      }
    }
    const [theirs, ours] = runs as [string[], string[]];
    assert.match(ours.join('\n'), /\{"frontend-open": true, "filename": "unix:", "label": "compat_monitor1"\}/);
    compare(sortedQuery(ours, 'compat_monitor0'), sortedQuery(theirs, 'compat_monitor0'));
  });

  test("-monitor unix:PATH connects out with a human monitor, the same screen as QEMU's", async () => {
    const path = join(dir, 'hmp-manager.sock');
    const screens: string[] = [];
    for (const [start, prompt] of [
      [startQemu, '(qemu) '],
      [startChardevd, '(chardevd) '],
    ] as const) {
      const { server, socket } = await acceptFrom(path, () => start(['-monitor', `unix:${path}`]));
      const client = MonitorClient.of(socket, prompt);
      try {
        await client.until(() => client.received.endsWith(prompt), 'the banner and prompt');
        client.send('help ringbuf_read\r');
        await client.until(() => client.received.split(prompt).length === 3, 'the help and the next prompt');
        screens.push(client.received.replace(/^(QEMU|chardevd) \S+ monitor/gm, 'NAME monitor').replaceAll(prompt, '(PROMPT) '));
      } finally {
        client.close();
        await server.stop();
      }
    }
    assert.equal(JSON.stringify(screens[1]), JSON.stringify(screens[0]));
  });

  test('-qmp stdio serves QMP on standard input and output', async () => {
    const runs: string[][] = [];
    for (const command of [
      ['qemu-system-x86_64', '-machine', 'none', '-nodefaults', '-display', 'none', '-qmp', 'stdio'],
      [process.execPath, CHARDEVD, '-qmp', 'stdio'],
    ]) {
      const child = spawn(command[0]!, command.slice(1), { stdio: ['pipe', 'pipe', 'ignore'] });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      try {
        const stream = Duplex.from({ readable: child.stdout, writable: child.stdin });
        runs.push(await playOn(Connection.of(stream as unknown as Socket), outgoing));
      } finally {
        child.kill('SIGTERM');
        await exited;
      }
    }
    const [theirs, ours] = runs as [string[], string[]];
    assert.match(ours.join('\n'), /\{"frontend-open": true, "filename": "stdio", "label": "compat_monitor0"\}/);
    compare(sortedQuery(ours), sortedQuery(theirs));
  });
});
