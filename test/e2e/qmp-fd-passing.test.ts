import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, suite, test } from 'node:test';
import { socketFd } from '../../src/base/fd-passing.js';
import { FdPeer, openFdCount, untilFdCount } from '../support/fd-peer.js';
import { qemuSkipReason, type ServerProcess, startChardevd, startQemu } from '../support/servers.js';

/** Connect-pass-disconnect cycles of the leak test; CHARDEVD_FD_CYCLES=10000 for the long run. */
const CYCLES = Number(process.env['CHARDEVD_FD_CYCLES'] ?? 300);

/**
 * Descriptors of each kind to pass: a file (read-write, read-only and
 * write-only), a pipe (a FIFO opened both ways), a connected socket and a
 * listening one.
 */
class Descriptors {
  readonly dir = mkdtempSync(join(tmpdir(), 'chardevd-fds-'));
  readonly file = openSync(join(this.dir, 'file'), 'w+');
  readonly readOnly = openSync(join(this.dir, 'file'), 'r');
  readonly writeOnly = openSync(join(this.dir, 'file'), 'w');
  readonly pipe: number;
  socket: Socket | undefined;
  #server!: Server;

  constructor() {
    execFileSync('mkfifo', [join(this.dir, 'fifo')]);
    this.pipe = openSync(join(this.dir, 'fifo'), constants.O_RDWR | constants.O_NONBLOCK);
  }

  async open(): Promise<void> {
    this.#server = createServer();
    await new Promise<void>((resolve) => this.#server.listen(join(this.dir, 'sock'), resolve));
    this.socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(join(this.dir, 'sock'));
      s.once('connect', () => resolve(s)).once('error', reject);
    });
  }

  /** The socket's descriptor; -1 before open(), when only the names of the sequences are read. */
  get sock(): number {
    return this.socket === undefined ? -1 : (socketFd(this.socket) ?? -1);
  }

  /** The listening socket's descriptor (Node names it only on its handle); -1 before open(). */
  get listener(): number {
    return (this.#server as unknown as { _handle?: { fd: number } } | undefined)?._handle?.fd ?? -1;
  }

  close(): void {
    this.socket?.destroy();
    this.#server.close();
    closeSync(this.readOnly);
    closeSync(this.writeOnly);
    closeSync(this.file);
    closeSync(this.pipe);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Descriptor numbers differ between servers: each becomes the order it first appeared in. */
function normalize(lines: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return lines.map((line) =>
    line.replace(/"fd": (\d+)/g, (_match, fd: string) => {
      if (!seen.has(fd)) seen.set(fd, seen.size);
      return `"fd": #${seen.get(fd)}`;
    }),
  );
}

/** One step: a command, the descriptors sent with it, and whether they go in a message of their own first (as qemu.qmp's send_fd_scm). */
type Step = readonly [command: string, fds?: readonly number[], alone?: boolean];

async function transcript(path: string, steps: readonly Step[]): Promise<string[]> {
  const peer = await FdPeer.open(path);
  const lines: string[] = [];
  try {
    for (const [command, fds = [], alone = false] of steps) {
      if (alone) {
        peer.send(' ', fds);
        lines.push(await peer.command(command));
      } else {
        lines.push(await peer.command(command, fds));
      }
    }
  } finally {
    peer.close();
  }
  return lines;
}

const exec = (name: string, args?: object): string => JSON.stringify(args === undefined ? { execute: name } : { execute: name, arguments: args });
const chardevAdd = (id: string, type: string, data: object): string => exec('chardev-add', { id, backend: { type, data } });
const socketAdd = (id: string, name: string, server: boolean, more: object = {}): string =>
  chardevAdd(id, 'socket', { addr: { type: 'fd', data: { str: name } }, server, ...(server ? { wait: false } : {}), ...more });

function sequences(d: Descriptors): Record<string, readonly Step[]> {
  return {
    'getfd and closefd': [
      [exec('getfd', { fdname: 'f' }), [d.file]],
      [exec('getfd', { fdname: 's' }), [d.sock], true],
      [exec('getfd', { fdname: 'f' }), [d.pipe]],
      [exec('getfd', { fdname: '9x' }), [d.pipe]],
      [exec('getfd', { fdname: 'none' })],
      [exec('closefd', { fdname: 'f' })],
      [exec('closefd', { fdname: 'f' })],
      [exec('closefd', { fdname: 's' })],
      [exec('getfd', { fdname: 'two' }), [d.file, d.pipe]],
      [exec('closefd', { fdname: 'two' })],
      [exec('getfd', {})],
      [exec('closefd', { fdname: 1 })],
    ],
    'add-fd, remove-fd, query-fdsets': [
      [exec('query-fdsets')],
      [exec('add-fd', { 'fdset-id': 2, opaque: 'rw' }), [d.file]],
      [exec('add-fd'), [d.pipe]],
      [exec('add-fd'), [d.sock], true],
      [exec('add-fd', { 'fdset-id': 2 }), [d.pipe]],
      [exec('add-fd', { 'fdset-id': 9, opaque: '' }), [d.sock]],
      [exec('add-fd', { 'fdset-id': -1 }), [d.file]],
      [exec('add-fd', { 'fdset-id': 3 })],
      [exec('add-fd', { opaque: 7 }), [d.file]],
      [exec('query-fdsets')],
      [exec('remove-fd', { 'fdset-id': 7 })],
      [exec('remove-fd', { 'fdset-id': 2, fd: 100000 })],
      [exec('remove-fd', { 'fdset-id': 0 })],
      [exec('query-fdsets')],
      [exec('remove-fd', { 'fdset-id': 1 })],
      [exec('remove-fd', { 'fdset-id': 0 })],
      [exec('query-fdsets')],
    ],
    // The sets were cleaned when the last connection went away.
    'query-fdsets on a new connection': [[exec('query-fdsets')]],
    // A name is taken by the chardev whether or not it then works; QEMU closes what it took.
    'socket chardevs on getfd names: errors': [
      [socketAdd('s0', 'nope', false)],
      [socketAdd('s0', '5', false)],
      [exec('getfd', { fdname: 'reg' }), [d.file]],
      [socketAdd('s0', 'reg', false)],
      [exec('closefd', { fdname: 'reg' })],
      [exec('getfd', { fdname: 'p' }), [d.pipe]],
      [socketAdd('s0', 'p', true)],
      [exec('getfd', { fdname: 'conn' }), [d.sock]],
      [socketAdd('s0', 'conn', true)],
      [exec('closefd', { fdname: 'conn' })],
      [exec('getfd', { fdname: 'r' }), [d.sock]],
      [socketAdd('s0', 'r', false, { reconnect: 1 })],
      [exec('closefd', { fdname: 'r' })],
      [exec('human-monitor-command', { 'command-line': 'chardev-add socket,id=h0,fd=zz' })],
      [exec('human-monitor-command', { 'command-line': 'chardev-add socket,id=h0,fd=7' })],
    ],
    'a listening socket passed by name serves a socket chardev': [
      [exec('getfd', { fdname: 'l' }), [d.listener]],
      [socketAdd('s1', 'l', true)],
      [socketAdd('s2', 'l', true)],
      [exec('closefd', { fdname: 'l' })],
      [exec('chardev-remove', { id: 's1' })],
    ],
    'chardevs on fd sets: /dev/fdset/N with the access mode that fits': [
      [chardevAdd('f0', 'file', { out: '/dev/fdset/3' })],
      [exec('add-fd', { 'fdset-id': 3 }), [d.readOnly]],
      [chardevAdd('f0', 'file', { out: '/dev/fdset/3' })],
      [chardevAdd('f0', 'file', { out: '/dev/fdset/x' })],
      [chardevAdd('f0', 'file', { out: '/dev/fdset/-1' })],
      [chardevAdd('f0', 'file', { out: '/dev/fdset/' })],
      [chardevAdd('p0', 'pipe', { device: '/dev/fdset/3' })],
      [chardevAdd('t0', 'serial', { device: '/dev/fdset/3' })],
      [chardevAdd('t0', 'serial', { device: '/dev/fdset/9' })],
      [exec('add-fd', { 'fdset-id': 3 }), [d.writeOnly]],
      [chardevAdd('f0', 'file', { out: '/dev/fdset/3' })],
      [exec('query-fdsets')],
      [exec('human-monitor-command', { 'command-line': 'chardev-add file,id=h1,path=/dev/fdset/77' })],
      [exec('human-monitor-command', { 'command-line': 'chardev-add file,id=h1,path=/dev/fdset/3' })],
      [exec('chardev-remove', { id: 'f0' })],
      [exec('chardev-remove', { id: 'h1' })],
      [exec('add-fd', { 'fdset-id': 4 }), [d.pipe]],
      [chardevAdd('p0', 'pipe', { device: '/dev/fdset/4' })],
      [exec('chardev-remove', { id: 'p0' })],
      [exec('remove-fd', { 'fdset-id': 3 })],
      [exec('query-fdsets')],
    ],
    'the human monitor passes no descriptors': [
      [exec('human-monitor-command', { 'command-line': 'getfd x' }), [d.file]],
      [exec('human-monitor-command', { 'command-line': 'closefd x' })],
      [exec('human-monitor-command', { 'command-line': 'help getfd' })],
      [exec('human-monitor-command', { 'command-line': 'help closefd' })],
    ],
  };
}

const skip = qemuSkipReason();

suite('descriptors passed over QMP, compared with QEMU 7.2', { skip }, () => {
  let chardevd: ServerProcess;
  let qemu: ServerProcess;
  const d = new Descriptors();

  before(async () => {
    [chardevd, qemu] = await Promise.all([startChardevd(), startQemu()]);
    await d.open();
  });

  after(async () => {
    d.close();
    await Promise.all([chardevd.stop(), qemu.stop()]);
  });

  for (const name of Object.keys(sequences(d))) {
    test(name, async () => {
      const steps = sequences(d)[name]!;
      const ours = await transcript(chardevd.qmpPath, steps);
      const theirs = await transcript(qemu.qmpPath, steps);
      assert.deepEqual(normalize(ours), normalize(theirs));
    });
  }
});

suite('descriptors passed over QMP are never leaked', () => {
  let chardevd: ServerProcess;
  let baseline: number;
  const d = new Descriptors();

  before(async () => {
    chardevd = await startChardevd();
    await d.open();
    // One connection first, so that whatever the first one sets up once is in the baseline.
    (await FdPeer.open(chardevd.qmpPath)).close();
    baseline = await untilFdCount(chardevd.pid, openFdCount(chardevd.pid) - 1);
  });

  after(async () => {
    d.close();
    await chardevd.stop();
  });

  const settled = async (): Promise<void> => {
    assert.equal(await untilFdCount(chardevd.pid, baseline), baseline, 'descriptors left open');
  };

  test('every command and error path, then the connection ends', async () => {
    for (const steps of Object.values(sequences(d))) {
      await transcript(chardevd.qmpPath, steps);
      await settled();
    }
  });

  test('named descriptors and fd sets are closed with the connection', async () => {
    const peer = await FdPeer.open(chardevd.qmpPath);
    assert.equal(await peer.command(exec('getfd', { fdname: 'a' }), [d.file]), '{"return": {}}');
    assert.match(await peer.command(exec('add-fd'), [d.sock]), /"fdset-id": 0/);
    assert.ok(openFdCount(chardevd.pid) >= baseline + 3);
    peer.close();
    await settled();
  });

  test('bad input: a clear error, nothing kept, every connection keeps working', async () => {
    const other = await FdPeer.open(chardevd.qmpPath);
    const peer = await FdPeer.open(chardevd.qmpPath);
    try {
      // Descriptors with no command: the next command has them, and closes what it does not claim.
      peer.send(' ', [d.file, d.pipe]);
      assert.equal(await peer.command(exec('query-version')).then((line) => line.startsWith('{"return": {"qemu"')), true);
      assert.equal(await peer.command(exec('getfd', { fdname: 'late' })), '{"error": {"class": "GenericError", "desc": "No file descriptor supplied via SCM_RIGHTS"}}');
      // With a malformed command.
      assert.match(await peer.command('{"execute": getfd}', [d.file]), /JSON parse error/);
      assert.equal(await peer.command(exec('getfd', { fdname: 'x' })), '{"error": {"class": "GenericError", "desc": "No file descriptor supplied via SCM_RIGHTS"}}');
      // More than one message may carry (QEMU takes 16): none are kept.
      const many = Array.from({ length: 40 }, (_, i) => [d.file, d.pipe, d.sock][i % 3]!);
      assert.equal(
        await peer.command(exec('getfd', { fdname: 'many' }), many),
        '{"error": {"class": "GenericError", "desc": "No file descriptor supplied via SCM_RIGHTS"}}',
      );
      // stderr reaches this process on its own schedule.
      const deadline = Date.now() + 10_000;
      while (!chardevd.stderr().includes('passed more than 16 descriptors with one message') && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.match(chardevd.stderr(), /passed more than 16 descriptors with one message/);
      assert.match(await other.command(exec('query-version')), /^\{"return": \{"qemu"/);
      assert.match(await peer.command(exec('query-version')), /^\{"return": \{"qemu"/);
    } finally {
      peer.close();
      other.close();
    }
    await settled();
  });

  test('a client that vanishes mid-command', async () => {
    for (const partial of ['{"execute": "getfd", "argum', ' ', '{"execute": "add-fd"}{"execute": "getfd", "arguments": {"fdname": "x"}}']) {
      const peer = await FdPeer.open(chardevd.qmpPath);
      peer.send(partial, [d.file, d.sock]);
      peer.close();
      await settled();
    }
    // Before negotiation too.
    const early = await FdPeer.open(chardevd.qmpPath, false);
    early.send(exec('getfd', { fdname: 'x' }), [d.pipe]);
    early.close();
    await settled();
  });

  test(`${CYCLES} connect-pass-disconnect cycles`, async () => {
    for (let i = 0; i < CYCLES; i++) {
      const peer = await FdPeer.open(chardevd.qmpPath);
      const kind = [d.file, d.pipe, d.sock][i % 3]!;
      assert.equal(await peer.command(exec('getfd', { fdname: 'c' }), [kind]), '{"return": {}}');
      // The set's id depends on whether the last connection's end was processed yet.
      if (i % 2 === 0) assert.match(await peer.command(exec('add-fd'), [kind]), /"fdset-id": \d+/);
      peer.close();
    }
    await settled();
  });
});
