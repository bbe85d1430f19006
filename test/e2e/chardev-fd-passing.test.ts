import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { closeSync, constants, existsSync, linkSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, suite, test } from 'node:test';
import { socketFd } from '../../src/base/fd-passing.js';
import { StateError } from '../../src/client/errors.js';
import { QmpListener } from '../../src/client/listener.js';
import { QmpClient } from '../../src/client/qmp-client.js';
import { FdPeer, settledFdCount, untilFdCount } from '../support/fd-peer.js';
import { MonitorClient } from '../support/monitor-client.js';
import { CHARDEVCTL } from '../support/paths.js';
import { onPath } from '../support/peer-process.js';
import { type ServerProcess, startChardevd, untilListening } from '../support/servers.js';
import { TtyPeer } from '../support/tty-peer.js';

const WAIT_MS = 10_000;

const exec = (name: string, args?: object): string => JSON.stringify(args === undefined ? { execute: name } : { execute: name, arguments: args });
const chardevAdd = (id: string, type: string, data: object): string => exec('chardev-add', { id, backend: { type, data } });
const fdAddress = (name: string, server: boolean): object => ({ addr: { type: 'fd', data: { str: name } }, server, ...(server ? { wait: false } : {}) });
const OK = '{"return": {}}';

/** Waits, bounded, until `done()` holds. */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A socket's input, collected. */
function collect(socket: Socket): { text: () => string } {
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    text += chunk;
  });
  socket.on('error', () => {});
  return { text: () => text };
}

function connected(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once('connect', () => resolve(socket)).once('error', reject);
  });
}

function listening(path: string): Promise<Server> {
  const server = createServer();
  return new Promise((resolve) => server.listen(path, () => resolve(server)));
}

/**
 * Closes the test's own listening server on `path` once its socket was
 * passed on, keeping the path, which libuv unlinks on close (a hard link
 * keeps the name for the socket's new owner).
 */
function closeKeepingPath(server: Server, path: string): void {
  linkSync(path, `${path}.keep`);
  server.close();
  renameSync(`${path}.keep`, path);
}

/** A listening server's descriptor (Node names it only on its handle). */
function serverFd(server: Server): number {
  return (server as unknown as { _handle: { fd: number } })._handle.fd;
}

/** A unix socket server chardev linked to chardev `id`, with a peer connected: the other end of `id`'s bytes. */
async function linkPartner(qmp: FdPeer, dir: string, id: string): Promise<{ other: Socket; received: () => string; remove(): Promise<void> }> {
  const partner = join(dir, `${id}-partner.sock`);
  assert.equal(await qmp.command(chardevAdd(`${id}-partner`, 'socket', { addr: { type: 'unix', data: { path: partner } }, server: true, wait: false })), OK);
  const other = await connected(partner);
  const got = collect(other);
  // Served before the link starts moving bytes: a socket chardev drops output while no peer is connected.
  const deadline = Date.now() + WAIT_MS;
  while (!(await qmp.command(exec('query-chardev'))).includes(`"filename": "unix:${partner},server=on", "label": "${id}-partner"`)) {
    if (Date.now() > deadline) throw new Error(`${id}-partner never served its peer`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(await qmp.command(exec('device_add', { driver: 'link', id: `${id}-link`, chardev: id, peer: `${id}-partner` })), OK);
  return {
    other,
    received: got.text,
    async remove() {
      other.destroy();
      assert.equal(await qmp.command(exec('device_del', { id: `${id}-link` })), OK);
      assert.equal(await qmp.command(exec('chardev-remove', { id: `${id}-partner` })), OK);
    },
  };
}

/**
 * Links chardev `id` to a fresh unix socket server chardev and checks that
 * bytes go both ways: `side.send(text)` puts `text` into `id`'s side (or
 * it is there already), `side.received()` is what `id`'s side got.
 * Everything made here is removed again.
 */
async function checkBothWays(
  qmp: FdPeer,
  dir: string,
  id: string,
  side: { send(text: string): void; received(): string },
  fromSide = 'from the passed descriptor',
): Promise<void> {
  const partner = await linkPartner(qmp, dir, id);
  try {
    partner.other.write('to the passed descriptor');
    await until(() => side.received().includes('to the passed descriptor'), `${id} to receive what its partner's peer sent`);
    side.send(fromSide);
    await until(() => partner.received().includes(fromSide), `${id}'s partner's peer to receive what ${id} read`);
  } finally {
    await partner.remove();
  }
}

/** The peer of a socket chardev: a connected socket. */
function socketSide(socket: Socket): { send(text: string): void; received(): string } {
  const got = collect(socket);
  return { send: (text) => socket.write(text), received: got.text };
}

suite('chardevs on passed descriptors move bytes both ways', () => {
  let chardevd: ServerProcess;
  let qmp: FdPeer;
  let startupListener: Server;
  let baseline: number;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chardevd-fdchr-'));
    startupListener = await listening(join(dir, 'startup.sock'));
    // Inherited as descriptor 3: -chardev socket,fd=3 listens on it.
    chardevd = await startChardevd(['-chardev', 'socket,id=inherited,fd=3,server=on,wait=off'], [serverFd(startupListener)]);
    closeKeepingPath(startupListener, join(dir, 'startup.sock'));
    qmp = await FdPeer.open(chardevd.qmpPath);
    // Once through the link code first, so that what it loads once is in the baseline.
    const warm = join(dir, 'warm.sock');
    assert.equal(await qmp.command(chardevAdd('warm', 'socket', { addr: { type: 'unix', data: { path: warm } }, server: true, wait: false })), OK);
    await checkBothWays(qmp, dir, 'warm', socketSide(await connected(warm)));
    assert.equal(await qmp.command(exec('chardev-remove', { id: 'warm' })), OK);
    baseline = await settledFdCount(chardevd.pid);
  });

  after(async () => {
    qmp.close();
    await chardevd.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a listening socket inherited on the command line (socket,fd=3) serves clients', async () => {
    assert.match(await qmp.command(exec('query-chardev')), /"filename": "disconnected:unix:[^"]*startup\.sock,server=on", "label": "inherited"/);
    const peer = await connected(join(dir, 'startup.sock'));
    try {
      await checkBothWays(qmp, dir, 'inherited', socketSide(peer));
    } finally {
      peer.destroy();
    }
    // The chardev owns the inherited descriptor: it goes with it (counted in the baseline, so the baseline drops).
    assert.equal(await qmp.command(exec('chardev-remove', { id: 'inherited' })), OK);
    baseline--;
  });

  test('a listening socket passed with getfd serves clients, and the chardev owns it', async () => {
    const server = await listening(join(dir, 'passed.sock'));
    assert.equal(await qmp.command(exec('getfd', { fdname: 'l' }), [serverFd(server)]), OK);
    closeKeepingPath(server, join(dir, 'passed.sock'));
    assert.equal(await qmp.command(chardevAdd('listen', 'socket', fdAddress('l', true))), OK);
    // The name went with the descriptor (monitor_get_fd).
    assert.equal(await qmp.command(exec('closefd', { fdname: 'l' })), `{"error": {"class": "GenericError", "desc": "File descriptor named 'l' not found"}}`);
    const peer = await connected(join(dir, 'passed.sock'));
    try {
      await checkBothWays(qmp, dir, 'listen', socketSide(peer));
    } finally {
      peer.destroy();
    }
    assert.equal(await qmp.command(exec('chardev-remove', { id: 'listen' })), OK);
    // As QEMU's socket_listen_cleanup: the path the socket was bound to is gone with it.
    assert.equal(existsSync(join(dir, 'passed.sock')), false);
  });

  test('a connected socket passed with getfd is a client chardev, which outlives the connection that passed it', async () => {
    const server = await listening(join(dir, 'remote.sock'));
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    const client = await connected(join(dir, 'remote.sock'));
    const remote = await accepted;
    const passer = await FdPeer.open(chardevd.qmpPath);
    assert.equal(await passer.command(exec('getfd', { fdname: 'c' }), [socketFd(client)!]), OK);
    assert.equal(await passer.command(chardevAdd('client', 'socket', fdAddress('c', false))), OK);
    passer.close();
    client.destroy();
    try {
      assert.match(await qmp.command(exec('query-chardev')), /"filename": "unix:", "label": "client"/);
      await checkBothWays(qmp, dir, 'client', socketSide(remote));
    } finally {
      remote.destroy();
      server.close();
    }
    assert.equal(await qmp.command(exec('chardev-remove', { id: 'client' })), OK);
  });

  test('a file chardev on fd sets writes and reads through them', async () => {
    const input = join(dir, 'input');
    writeFileSync(input, 'from the input file');
    const output = join(dir, 'output');
    const outFd = openSync(output, constants.O_WRONLY | constants.O_CREAT, 0o600);
    const inFd = openSync(input, constants.O_RDONLY);
    try {
      assert.match(await qmp.command(exec('add-fd', { 'fdset-id': 5 }), [outFd]), /"fdset-id": 5/);
      assert.match(await qmp.command(exec('add-fd', { 'fdset-id': 6 }), [inFd]), /"fdset-id": 6/);
    } finally {
      closeSync(outFd);
      closeSync(inFd);
    }
    assert.equal(await qmp.command(chardevAdd('file', 'file', { out: '/dev/fdset/5', in: '/dev/fdset/6' })), OK);
    // The input file is read as it is (the chardev holds it until the link takes it); the output file gets what comes.
    await checkBothWays(qmp, dir, 'file', { send: () => {}, received: () => readFileSync(output, 'latin1') }, 'from the input file');
    assert.equal(await qmp.command(exec('chardev-remove', { id: 'file' })), OK);
    assert.equal(await qmp.command(exec('remove-fd', { 'fdset-id': 5 })), OK);
    assert.equal(await qmp.command(exec('remove-fd', { 'fdset-id': 6 })), OK);
  });

  test('a pipe chardev on an fd set reads and writes its FIFO', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    try {
      assert.match(await qmp.command(exec('add-fd', { 'fdset-id': 7 }), [fd]), /"fdset-id": 7/);
      assert.equal(await qmp.command(chardevAdd('pipe', 'pipe', { device: '/dev/fdset/7' })), OK);
      const partner = await linkPartner(qmp, dir, 'pipe');
      try {
        // One FIFO both ways: what the pipe chardev writes into it, it reads back.
        partner.other.write('through the FIFO and back');
        await until(() => partner.received().includes('through the FIFO and back'), 'the bytes back from the FIFO');
        writeSync(fd, 'from the test');
        await until(() => partner.received().includes('from the test'), 'what the test wrote into the FIFO');
      } finally {
        await partner.remove();
      }
    } finally {
      closeSync(fd);
    }
    assert.equal(await qmp.command(exec('chardev-remove', { id: 'pipe' })), OK);
    assert.equal(await qmp.command(exec('remove-fd', { 'fdset-id': 7 })), OK);
  });

  test('a serial chardev on an fd set drives a pty', { skip: onPath('socat') ? undefined : 'socat is not installed (apt-get install socat)' }, async () => {
    const a = join(dir, 'pty-a');
    const b = join(dir, 'pty-b');
    const socat: ChildProcess = spawn('socat', [`PTY,link=${a},raw,echo=0`, `PTY,link=${b},raw,echo=0`], { stdio: 'ignore' });
    try {
      await until(() => existsSync(a) && existsSync(b), 'socat to make its ptys');
      const terminal = new TtyPeer(b);
      const fd = openSync(a, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
      try {
        assert.match(await qmp.command(exec('add-fd', { 'fdset-id': 8 }), [fd]), /"fdset-id": 8/);
      } finally {
        closeSync(fd);
      }
      try {
        assert.equal(await qmp.command(chardevAdd('serial', 'serial', { device: '/dev/fdset/8' })), OK);
        await checkBothWays(qmp, dir, 'serial', {
          send: (text) => terminal.write(text),
          received: () => {
            terminal.readNow();
            return terminal.text;
          },
        });
        assert.equal(await qmp.command(exec('chardev-remove', { id: 'serial' })), OK);
      } finally {
        terminal.close();
      }
      assert.equal(await qmp.command(exec('remove-fd', { 'fdset-id': 8 })), OK);
    } finally {
      socat.kill();
    }
  });

  test('nothing is left open once the chardevs are gone', async () => {
    assert.equal(await untilFdCount(chardevd.pid, baseline), baseline, 'descriptors left open');
  });
});

suite('descriptors of the wrong kind, and monitors besides QMP listeners', () => {
  let chardevd: ServerProcess;
  let dir: string;
  let baseline: number;

  before(async () => {
    chardevd = await startChardevd((d) => {
      dir = d;
      return [
        '-chardev',
        `socket,id=qmon,path=${d}/qmon.sock,server=on,wait=off`,
        '-mon',
        'chardev=qmon,mode=control',
        '-chardev',
        `socket,id=hmon,path=${d}/hmon.sock,server=on,wait=off`,
        '-mon',
        'chardev=hmon',
        '-monitor',
        `unix:${d}/hmp.sock,server=on,wait=off`,
      ];
    });
    await untilListening(join(dir, 'hmp.sock'));
    // Each kind of connection once, so that what they load once is in the baseline.
    (await FdPeer.open(join(dir, 'qmon.sock'))).close();
    for (const path of ['hmp.sock', 'hmon.sock']) {
      const hmp = await MonitorClient.open(join(dir, path));
      await hmp.command('info chardev');
      hmp.close();
    }
    baseline = await settledFdCount(chardevd.pid);
  });

  after(async () => {
    await chardevd.stop();
  });

  const settled = async (): Promise<void> => {
    assert.equal(await untilFdCount(chardevd.pid, baseline), baseline, 'descriptors left open');
  };

  test('a datagram socket as a socket chardev: a clear error, and it is closed', async () => {
    const udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    // dgram keeps its handle in a symbol-keyed state (its _handle getter is deprecated).
    const state = Object.getOwnPropertySymbols(udp).map((key) => (udp as unknown as Record<symbol, { handle?: { fd?: number } }>)[key]);
    const fd = state.find((value) => typeof value?.handle?.fd === 'number')!.handle!.fd!;
    const peer = await FdPeer.open(chardevd.qmpPath);
    try {
      assert.equal(await peer.command(exec('getfd', { fdname: 'u' }), [fd]), OK);
      assert.equal(
        await peer.command(chardevAdd('u', 'socket', fdAddress('u', true))),
        `{"error": {"class": "GenericError", "desc": "Failed to add chardev 'u': Failed to listen on fd socket: Operation not supported"}}`,
      );
      assert.equal(await peer.command(exec('getfd', { fdname: 'u' }), [fd]), OK);
      assert.equal(
        await peer.command(chardevAdd('u', 'socket', fdAddress('u', false))),
        `{"error": {"class": "GenericError", "desc": "Failed to add chardev 'u': File descriptor 'u' is not a stream socket (unix or TCP)"}}`,
      );
      assert.match(await peer.command(exec('query-version')), /^\{"return": \{"qemu"/);
    } finally {
      peer.close();
      udp.close();
    }
    await settled();
  });

  test('a human monitor connection takes the descriptor sent with getfd, and closes it with the connection', async () => {
    const server = await listening(join(dir, 'hmp-passed.sock'));
    const hmp = await MonitorClient.open(join(dir, 'hmp.sock'));
    try {
      assert.equal(await hmp.command('getfd kept', [serverFd(server)]), '');
      assert.equal(await hmp.command('getfd dropped', [serverFd(server)]), '');
      assert.equal(await hmp.command('closefd dropped'), '');
      assert.match(await hmp.command('closefd dropped'), /File descriptor named 'dropped' not found/);
      // Descriptors with a line that claims none are closed once it ran.
      await hmp.command('info chardev', [serverFd(server)]);
      assert.match(await hmp.command('getfd late'), /No file descriptor supplied via SCM_RIGHTS/);
      assert.equal(await hmp.command('chardev-add socket,id=fromhmp,fd=kept,server=on,wait=off'), '');
      assert.match(await hmp.command('info chardev'), /fromhmp: filename=disconnected:unix:[^\r]*hmp-passed\.sock,server=on/);
      // More than one message may carry: none are kept, and the daemon says so.
      assert.match(
        await hmp.command(
          'getfd many',
          Array.from({ length: 20 }, () => serverFd(server)),
        ),
        /No file descriptor supplied via SCM_RIGHTS/,
      );
      await until(() => chardevd.stderr().includes('passed more than 16 descriptors with one message'), 'the log line');
    } finally {
      hmp.close();
      server.close();
    }
    const peer = await FdPeer.open(chardevd.qmpPath);
    assert.equal(await peer.command(exec('chardev-remove', { id: 'fromhmp' })), OK);
    peer.close();
    await settled();
  });

  test('the human monitor on a socket chardev (-mon chardev=ID) takes the descriptor sent with getfd', async () => {
    const file = openSync(join(dir, 'hmon-file'), 'w');
    const hmon = await MonitorClient.open(join(dir, 'hmon.sock'));
    try {
      assert.equal(await hmon.command('getfd f', [file]), '');
      assert.match(await hmon.command('getfd g'), /No file descriptor supplied via SCM_RIGHTS/);
      assert.equal(await hmon.command('getfd h', [file]), '');
      assert.equal(await hmon.command('closefd f'), '');
    } finally {
      hmon.close();
      closeSync(file);
    }
    // 'h' belongs to the monitor, which outlives the connection (as QEMU's monitor on a chardev): close it.
    const again = await MonitorClient.open(join(dir, 'hmon.sock'));
    assert.equal(await again.command('closefd h'), '');
    again.close();
    await settled();
  });

  test('QMP on a socket chardev (-mon mode=control) takes passed descriptors', async () => {
    const server = await listening(join(dir, 'qmon-passed.sock'));
    const peer = await FdPeer.open(join(dir, 'qmon.sock'));
    try {
      assert.equal(await peer.command(exec('getfd', { fdname: 'a' }), [serverFd(server)]), OK);
      assert.equal(await peer.command(exec('getfd', { fdname: 'b' }), [serverFd(server)]), OK);
      assert.equal(await peer.command(chardevAdd('fromqmon', 'socket', fdAddress('a', true))), OK);
      assert.match(await peer.command(exec('add-fd'), [serverFd(server)]), /"fdset-id": 0/);
      // Descriptors that no command claims are closed.
      peer.send(' ', [serverFd(server), serverFd(server)]);
      assert.match(await peer.command(exec('query-version')), /^\{"return": \{"qemu"/);
      assert.equal(await peer.command(exec('getfd', { fdname: 'c' })), '{"error": {"class": "GenericError", "desc": "No file descriptor supplied via SCM_RIGHTS"}}');
      assert.equal(
        await peer.command(
          exec('getfd', { fdname: 'd' }),
          Array.from({ length: 20 }, () => serverFd(server)),
        ),
        '{"error": {"class": "GenericError", "desc": "No file descriptor supplied via SCM_RIGHTS"}}',
      );
      assert.equal(await peer.command(exec('chardev-remove', { id: 'fromqmon' })), OK);
    } finally {
      peer.close();
      server.close();
    }
    // 'b' and the fd set went with the chardev's connection.
    await settled();
  });

  test('the client passes descriptors on a unix socket, and refuses to on TCP', async () => {
    const file = openSync(join(dir, 'client-file'), 'w');
    const client = await QmpClient.connect(chardevd.qmpPath);
    try {
      // Requests before and after keep their order around the one with descriptors.
      const [version, got, closed] = await Promise.all([
        client.execute('query-version'),
        client.execute('getfd', { fdname: 'f' }, { fds: [file] }),
        client.execute('closefd', { fdname: 'f' }),
      ]);
      assert.ok(version !== undefined);
      assert.deepEqual([got, closed], [{}, {}]);
      assert.deepEqual(await client.execute('add-fd', { 'fdset-id': 1 }, { fds: [file] }), { 'fdset-id': 1, fd: (await client.queryFdsets())[0]!.fds[0]!.fd });
    } finally {
      client.close();
      closeSync(file);
    }
    const listener = await QmpListener.listen({ host: '127.0.0.1', port: 0 });
    const port = (listener.address as { port: number }).port;
    const overTcp = await startChardevd(['-qmp', `tcp:127.0.0.1:${port}`]);
    try {
      const tcp = await QmpClient.accept(listener, { connectTimeoutMs: WAIT_MS, acceptTimeoutMs: WAIT_MS });
      try {
        await assert.rejects(tcp.execute('getfd', { fdname: 'f' }, { fds: [0] }), (error: unknown) => {
          assert.ok(error instanceof StateError);
          assert.equal(error.message, 'getfd: descriptors can be passed on a unix socket only, not on TCP');
          return true;
        });
        assert.ok((await tcp.queryVersion()).qemu !== undefined);
      } finally {
        tcp.close();
      }
    } finally {
      listener.close();
      await overTcp.stop();
    }
    await settled();
  });

  test('chardevctl passes an inherited descriptor (--fd) and a file it opens (--fd-file)', async () => {
    const server = await listening(join(dir, 'ctl.sock'));
    const run = spawnSync(
      process.execPath,
      [
        CHARDEVCTL,
        '-s',
        chardevd.qmpPath,
        ...['getfd', 'fdname=l', '--fd', '3', ';'],
        ...['chardev-add', 'id=fromctl', 'backend.type=socket', 'backend.data.addr.type=fd', 'backend.data.addr.data.str=l', 'backend.data.wait=false', ';'],
        ...['add-fd', 'fdset-id=2', '--fd-file', `w:${join(dir, 'ctl-out')}`, ';'],
        ...['chardev-add', 'id=ctlfile', 'backend.type=file', 'backend.data.out=/dev/fdset/2', ';'],
        ...['query-fdsets'],
      ],
      { encoding: 'utf8', timeout: WAIT_MS, stdio: ['ignore', 'pipe', 'pipe', serverFd(server)] },
    );
    server.close();
    assert.equal(run.stderr, '');
    assert.equal(run.status, 0);
    assert.match(run.stdout, /"fdset-id": 2/);
    assert.equal(existsSync(join(dir, 'ctl-out')), true);
    const bad = spawnSync(process.execPath, [CHARDEVCTL, '-s', chardevd.qmpPath, 'getfd', 'fdname=x', '--fd', '99'], { encoding: 'utf8', timeout: WAIT_MS });
    assert.equal(bad.status, 1);
    assert.equal(bad.stderr, 'chardevctl: --fd 99: no such open descriptor (pass one with a redirection, e.g. 99<FILE)\n');
    const peer = await FdPeer.open(chardevd.qmpPath);
    assert.match(await peer.command(exec('query-chardev')), /"filename": "disconnected:unix:[^"]*ctl\.sock,server=on", "label": "fromctl"/);
    assert.equal(await peer.command(exec('chardev-remove', { id: 'fromctl' })), OK);
    // The fd set went when chardevctl's connection ended; the chardev holds its duplicate until removed.
    assert.equal(await peer.command(exec('chardev-remove', { id: 'ctlfile' })), OK);
    peer.close();
    await settled();
  });
});
