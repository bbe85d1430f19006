import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Server, Socket } from 'node:net';
import { join } from 'node:path';
import { after, afterEach, before, suite, test } from 'node:test';
import { DemuxCode, FrameType, HEADER_SIZE } from '../../src/demux/codes.js';
import { encodeFrame, FrameDecoder } from '../../src/demux/frame.js';
import { decodeReason, encodeHello, encodeOpen, encodeReason } from '../../src/demux/payloads.js';
import { DemuxSession, type DemuxSessionError } from '../../src/demux/session.js';
import { DemuxEndpoint } from '../../src/device/demux-endpoint.js';
import { connected, descriptorCount, echoServer, roundTrip, sha256 } from '../support/demux-peer.js';
import { onPath, waitFor } from '../support/peer-process.js';
import { Connection } from '../support/qmp-transcript.js';
import { type ServerProcess, startChardevd } from '../support/servers.js';

// The demux device in the daemon, end to end over real sockets: the
// guest end is this package's DemuxEndpoint (what chardevd-demux runs)
// on a connection to the device's socket chardev, as QEMU's
// virtio-serial port would connect; host services are unix echo servers.

const WAIT_MS = 20_000;
const until = (check: () => boolean | Promise<boolean>, what: string): Promise<void> => waitFor(check, what, WAIT_MS, 10);

interface Setup {
  daemon: ServerProcess;
  qmp: Connection;
  echo: Server;
}

async function setup(device: string): Promise<Setup> {
  const daemon = await startChardevd((dir) => [
    '-chardev',
    `socket,id=port0,path=${join(dir, 'port.sock')},server=on,wait=off`,
    '-device',
    `demux,id=dm0,chardev=port0,vsock=${join(dir, 'vsock.sock')}${device}`,
    '-demux-service',
    `dm0,name=echo,connect=unix:${join(dir, 'echo.sock')}`,
  ]);
  const echo = await echoServer(join(daemon.dir, 'echo.sock'));
  const qmp = await Connection.open(daemon.qmpPath);
  await qmp.execute('qmp_capabilities');
  return { daemon, qmp, echo };
}

/** What a test opened, closed after it whatever its outcome, so that a failure leaves no handle that keeps the file running. */
const opened: (Socket | Server | DemuxEndpoint)[] = [];
afterEach(() => {
  for (const thing of opened.splice(0)) {
    if ('destroy' in thing) thing.destroy();
    else thing.close();
  }
});

async function guest(
  daemon: ServerProcess,
  services: ReadonlyMap<string, { type: 'unix'; path: string }> = new Map(),
): Promise<{ endpoint: DemuxEndpoint; socket: Socket }> {
  const socket = await connected(join(daemon.dir, 'port.sock'));
  const endpoint = new DemuxEndpoint(socket, socket, { services });
  opened.push(socket, endpoint);
  await endpoint.ready;
  return { endpoint, socket };
}

const events = (qmp: Connection, name: string): Record<string, unknown>[] =>
  qmp.lines.filter((line) => line.includes(`"${name}"`)).map((line) => (JSON.parse(line) as { data: Record<string, unknown> }).data);

async function channels(qmp: Connection): Promise<unknown[]> {
  return (await qmp.execute('query-demux-channels'))['return'] as unknown[];
}

suite('demux device: many channels over one chardev', () => {
  let s: Setup;
  before(async () => {
    s = await setup('');
  });
  after(async () => {
    s.echo.close();
    await s.daemon.stop();
  });

  test('sixteen channels opened by name at once carry random data through a host service, byte for byte, and leave no channel behind', async () => {
    const { endpoint, socket } = await guest(s.daemon);
    const fwd = join(s.daemon.dir, 'fwd.sock');
    await endpoint.forward({ type: 'unix', path: fwd }, { name: 'echo' });
    const payloads = Array.from({ length: 16 }, (_, i) => randomBytes(64 * 1024 + i * 4099));
    const results = await Promise.all(payloads.map(async (data) => roundTrip(await connected(fwd), data)));
    results.forEach((result, i) => assert.deepEqual(result, { sha: sha256(payloads[i]!), bytes: payloads[i]!.length }, `channel ${i}`));
    await until(async () => (await channels(s.qmp)).length === 0, 'every channel to be gone');
    const closed = events(s.qmp, 'DEMUX_CHANNEL_CLOSED');
    assert.equal(closed.filter((e) => e['code'] === 'OK' && e['service'] === 'echo').length, 16);
    endpoint.close();
    socket.destroy();
  });

  test('a channel the host opens reaches a guest service; one to an unknown service is refused with an event, and the others go on', async () => {
    const guestEcho = await echoServer(join(s.daemon.dir, 'guest-echo.sock'));
    opened.push(guestEcho);
    const { endpoint, socket } = await guest(s.daemon, new Map([['gecho', { type: 'unix', path: join(s.daemon.dir, 'guest-echo.sock') }]]));
    const hostSide = join(s.daemon.dir, 'gecho.sock');
    assert.deepEqual((await s.qmp.execute('demux-service-add', { device: 'dm0', name: 'gecho', listen: `unix:${hostSide}` }))['return'], {});
    const data = randomBytes(300_000);
    assert.deepEqual(await roundTrip(await connected(hostSide), data), { sha: sha256(data), bytes: data.length });

    const nope = join(s.daemon.dir, 'nope.sock');
    await endpoint.forward({ type: 'unix', path: nope }, { name: 'nope' });
    const refused = await roundTrip(await connected(nope), Buffer.from('hello'));
    assert.equal(refused.bytes, 0);
    await until(() => events(s.qmp, 'DEMUX_CHANNEL_REFUSED').some((e) => e['service'] === 'nope'), 'DEMUX_CHANNEL_REFUSED');
    assert.deepEqual(
      events(s.qmp, 'DEMUX_CHANNEL_REFUSED').find((e) => e['service'] === 'nope'),
      { device: 'dm0', channel: 1, service: 'nope', initiator: 'peer', code: 'UNKNOWN_SERVICE', reason: "no service 'nope'" },
    );
    assert.deepEqual(await roundTrip(await connected(hostSide), data), { sha: sha256(data), bytes: data.length });

    const services = (await s.qmp.execute('query-demux-services', { device: 'dm0' }))['return'] as { service: { name: string }; opened: number; channels: number }[];
    assert.deepEqual(
      services.map((x) => [x.service.name, x.opened, x.channels]),
      [
        ['echo', 16, 0],
        ['gecho', 2, 0],
      ],
    );
    assert.deepEqual((await s.qmp.execute('demux-service-remove', { device: 'dm0', name: 'gecho' }))['return'], {});
    const config = (await s.qmp.execute('query-config'))['return'] as { 'demux-services': unknown[]; devices: unknown[] };
    assert.deepEqual(config['demux-services'], [{ device: 'dm0', name: 'echo', connect: `unix:${join(s.daemon.dir, 'echo.sock')}` }]);
    assert.deepEqual(config.devices, [{ driver: 'demux', id: 'dm0', chardev: 'port0', vsock: join(s.daemon.dir, 'vsock.sock') }]);
    endpoint.close();
    socket.destroy();
    guestEcho.close();
  });

  test('a service on a chardev takes one channel at a time: its bytes land in a ringbuf, a second open is refused while the first is open', async () => {
    assert.deepEqual((await s.qmp.execute('chardev-add', { id: 'ring0', backend: { type: 'ringbuf', data: {} } }))['return'], {});
    assert.deepEqual((await s.qmp.execute('demux-service-add', { device: 'dm0', name: 'ring', chardev: 'ring0' }))['return'], {});
    const { endpoint } = await guest(s.daemon);
    const fwd = join(s.daemon.dir, 'ring-fwd.sock');
    await endpoint.forward({ type: 'unix', path: fwd }, { name: 'ring' });
    const first = await connected(fwd);
    first.write('into the ring');
    await until(async () => ((await s.qmp.execute('ringbuf-read', { device: 'ring0', size: 100 }))['return'] as string) === 'into the ring', 'the bytes in the ringbuf');
    const second = await roundTrip(await connected(fwd), Buffer.from('x'));
    assert.equal(second.bytes, 0);
    await until(() => events(s.qmp, 'DEMUX_CHANNEL_REFUSED').some((e) => e['service'] === 'ring' && e['code'] === 'REFUSED'), 'the refusal of the second');
    first.destroy();
    await until(async () => (await channels(s.qmp)).length === 0, 'the first channel to end');
    const third = await connected(fwd);
    third.write('again');
    await until(
      async () => ((await s.qmp.execute('ringbuf-read', { device: 'ring0', size: 100 }))['return'] as string) === 'again',
      'the third channel to reach the ringbuf',
    );
    third.destroy();
    await s.qmp.execute('demux-service-remove', { device: 'dm0', name: 'ring' });
  });

  test('a Firecracker-style caller (socat) reaches a guest port through the hybrid vsock socket: CONNECT, OK with a host port, then bytes; an unknown port closes without a word', {
    skip: onPath('socat') ? false : 'socat is not installed',
  }, async () => {
    const guestEcho = await echoServer(join(s.daemon.dir, 'vsock-echo.sock'));
    opened.push(guestEcho);
    const { endpoint, socket } = await guest(s.daemon, new Map([['port:5000', { type: 'unix', path: join(s.daemon.dir, 'vsock-echo.sock') }]]));
    const caller = (line: string): Promise<string> =>
      new Promise((resolve) => {
        const child = spawn('socat', ['-', `UNIX-CONNECT:${join(s.daemon.dir, 'vsock.sock')}`], { stdio: ['pipe', 'pipe', 'ignore'] });
        let out = '';
        child.stdout.setEncoding('latin1').on('data', (text: string) => {
          out += text;
          // Firecracker's callers wait for the OK line before they send.
          if (out.startsWith('OK ') && out.includes('\n') && !child.stdin.writableEnded) child.stdin.end('ping through vsock\n');
        });
        child.once('close', () => resolve(out));
        child.stdin.write(line);
      });
    assert.equal(await caller('CONNECT 5000\n'), 'OK 1073741824\nping through vsock\n');
    assert.equal(await caller('connect 5000\n'), 'OK 1073741825\nping through vsock\n');
    assert.equal(await caller('CONNECT 4999\n'), '');
    assert.equal(await caller('HELLO\n'), '');
    endpoint.close();
    socket.destroy();
    guestEcho.close();
  });
});

/** A peer that speaks the protocol by hand, for bad input: its own session plus raw writes on the same socket. */
async function rawPeer(daemon: ServerProcess): Promise<{ session: DemuxSession; socket: Socket; errors: DemuxSessionError[] }> {
  const socket = await connected(join(daemon.dir, 'port.sock'));
  const errors: DemuxSessionError[] = [];
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  const session = new DemuxSession({
    role: 'secondary',
    maxChannels: 4096,
    write: (bytes) => socket.write(bytes),
    incoming: (channel) => channel.refuse(DemuxCode.UNKNOWN_SERVICE, 'none here'),
    ready,
    error: (error) => errors.push(error),
  });
  opened.push(socket);
  socket.on('data', (chunk: Buffer) => session.receive(chunk));
  socket.on('drain', () => session.drained());
  session.start();
  await isReady;
  return { session, socket, errors };
}

/** Opens a channel to `echo`, sends `data`, ends, and resolves with what came back once the channel closed. */
function echoChannel(session: DemuxSession, data: Buffer): Promise<{ received: Buffer; code: number; refused: boolean }> {
  return new Promise((resolve) => {
    const received: Buffer[] = [];
    const channel = session.open(
      { name: 'echo' },
      {
        data: (bytes) => {
          received.push(Buffer.from(bytes));
          channel.consumed(bytes.length);
        },
        closed: (info) => resolve({ received: Buffer.concat(received), code: info.code, refused: info.refused }),
      },
    );
    channel.write(data);
    channel.end();
  });
}

suite('demux device: bad input', () => {
  let s: Setup;
  before(async () => {
    s = await setup(',max-channels=8');
  });
  after(async () => {
    s.echo.close();
    await s.daemon.stop();
  });

  test('opens past the channel limit are refused with TOO_MANY_CHANNELS while the open ones go on; closed, the limit is free again', async () => {
    // A peer that ignores the limit its HELLO told it: raw frames, read back with the decoder.
    const socket = await connected(join(s.daemon.dir, 'port.sock'));
    opened.push(socket);
    const frames: { type: number; channel: number; payload: Buffer }[] = [];
    const decoder = new FrameDecoder(
      { frame: (h, p) => frames.push({ type: h.type, channel: h.channel, payload: Buffer.from(p) }), garbage: () => {}, oversize: () => {}, corrupt: () => {} },
      1 << 20,
    );
    socket.on('data', (chunk: Buffer) => decoder.push(chunk));
    const hello = encodeHello({ minVersion: 1, maxVersion: 1, role: 'secondary', maxPayload: 65536, maxChannels: 4096 });
    socket.write(encodeFrame(FrameType.HELLO, 0, 0, hello));
    const ids = Array.from({ length: 20 }, (_, i) => 2 * i + 1);
    for (const id of ids) socket.write(encodeFrame(FrameType.OPEN, 0, id, encodeOpen(65536, { name: 'echo' })));
    const answers = (): typeof frames => frames.filter((f) => f.type === FrameType.ACCEPT || f.type === FrameType.REFUSE);
    await until(() => answers().length === 20, 'an answer to every OPEN');
    const accepted = answers().filter((f) => f.type === FrameType.ACCEPT);
    const refused = answers().filter((f) => f.type === FrameType.REFUSE);
    assert.equal(accepted.length, 8);
    assert.deepEqual(
      refused.map((f) => decodeReason(f.payload)?.code),
      Array.from({ length: 12 }, () => DemuxCode.TOO_MANY_CHANNELS),
    );
    // The open ones work: data on one comes back from the echo service.
    socket.write(encodeFrame(FrameType.DATA, 0, accepted[0]!.channel, Buffer.from('still here')));
    await until(() => frames.some((f) => f.type === FrameType.DATA && f.payload.toString() === 'still here'), 'the echo on an open channel');
    for (const f of accepted) socket.write(encodeFrame(FrameType.CLOSE, 0, f.channel, encodeReason(DemuxCode.OK, '')));
    await until(() => frames.filter((f) => f.type === FrameType.CLOSE).length === 8, 'the CLOSE answers');
    socket.write(encodeFrame(FrameType.OPEN, 0, 101, encodeOpen(65536, { name: 'echo' })));
    await until(() => frames.some((f) => f.type === FrameType.ACCEPT && f.channel === 101), 'an OPEN accepted again');
    socket.destroy();
  });

  test('garbage and an oversize frame get ERROR frames, are skipped, and the stream goes on', async () => {
    const peer = await rawPeer(s.daemon);
    const data = randomBytes(50_000);
    const before = echoChannel(peer.session, data);
    // Noise between frames, without the magic byte so that it cannot start a frame by chance.
    peer.socket.write(Buffer.from(randomBytes(1000).map((b) => (b === 0xcd ? 0 : b))));
    // A valid header announcing 1 MiB, more than the 64 KiB the device takes: its payload is skipped unread.
    const payload = Buffer.alloc(1 << 20, 0x41);
    const header = Buffer.from(encodeFrame(FrameType.DATA, 0, 99, payload).subarray(0, HEADER_SIZE));
    peer.socket.write(header);
    peer.socket.write(payload);
    const after = echoChannel(peer.session, data);
    assert.ok((await before).received.equals(data));
    assert.ok((await after).received.equals(data));
    await until(() => peer.errors.some((e) => e.fromPeer && e.code === DemuxCode.FRAME_TOO_LARGE), 'FRAME_TOO_LARGE');
    assert.ok(peer.errors.some((e) => e.fromPeer && e.code === DemuxCode.GARBAGE && /skipped 1000 bytes/.test(e.reason)));
    const [info] = (await s.qmp.execute('query-demux'))['return'] as { 'garbage-bytes': number; 'dropped-frames': number }[];
    assert.ok(info!['garbage-bytes'] >= 1000 && info!['dropped-frames'] >= 1);
    peer.socket.destroy();
  });

  test('a peer that vanishes mid-frame ends its channels (TRANSPORT_LOST), their connections close, and no descriptor is left', async () => {
    await until(async () => (await channels(s.qmp)).length === 0, 'no channel from earlier tests');
    const baseline = descriptorCount(s.daemon.pid);
    const lostBefore = events(s.qmp, 'DEMUX_CHANNEL_CLOSED').filter((e) => e['code'] === 'TRANSPORT_LOST').length;
    const peer = await rawPeer(s.daemon);
    const open = Array.from({ length: 6 }, () => peer.session.open({ name: 'echo' }, { data: () => {} }));
    await until(() => open.every((c) => c.state === 'open'), 'six channels');
    assert.equal((await channels(s.qmp)).length, 6);
    // Half a DATA frame, then gone.
    peer.socket.write(encodeFrame(FrameType.DATA, 0, open[0]!.id, randomBytes(5000)).subarray(0, 2000));
    peer.socket.destroy();
    await until(async () => (await channels(s.qmp)).length === 0, 'the channels to end');
    await until(() => events(s.qmp, 'DEMUX_CHANNEL_CLOSED').filter((e) => e['code'] === 'TRANSPORT_LOST').length === lostBefore + 6, 'six TRANSPORT_LOST events');
    await until(() => descriptorCount(s.daemon.pid) <= baseline, `the daemon's descriptors to come back to ${baseline}`);
    // The device takes the next connection and works.
    const next = await rawPeer(s.daemon);
    const data = randomBytes(10_000);
    assert.ok((await echoChannel(next.session, data)).received.equals(data));
    next.socket.destroy();
  });

  test('demux-service-add refuses a taken name, a missing target, a device that is no demux device', async () => {
    const bad = async (args: object): Promise<string> => ((await s.qmp.execute('demux-service-add', args))['error'] as { desc: string }).desc;
    assert.equal(await bad({ device: 'dm0', name: 'echo', connect: 'unix:/nonexistent' }), "Demux device 'dm0' already has a service 'echo'");
    assert.equal(await bad({ device: 'dm0', name: 'x' }), "Service 'x' needs exactly one of connect, listen and chardev");
    assert.equal(await bad({ device: 'dm0', name: 'has space', connect: 'unix:/x' }), "Invalid service name 'has space': 1 to 64 printable ASCII characters, no space");
    assert.equal(await bad({ device: 'nodev', name: 'x', connect: 'unix:/x' }), "'nodev' is not a demux device");
    assert.equal(await bad({ device: 'dm0', name: 'x', connect: 'udp:1' }), "connect 'udp:1' is not unix:PATH or tcp:HOST:PORT");
  });
});
