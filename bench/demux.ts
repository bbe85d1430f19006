/**
 * The demux device against plain socket relays over the same path. A
 * client's connections go through two relay processes to a host service:
 *
 *   demux:  client -> chardevd-demux (the guest end, --forward) -> one unix
 *           socket carrying every channel -> chardevd's demux device -> service
 *   socat:  client -> socat (fork) -> unix socket per connection -> socat (fork) -> service
 *
 * With 1, 16 and 256 connections at once, each sends its share of the
 * data to a sink service that checks every byte: aggregate MiB/s, and the
 * slowest connection's MiB/s (a channel starved by the others shows
 * there). Then a 64-byte request/response on one connection to an echo
 * service, one at a time: round-trip latency. Rounds alternate which
 * path goes first.
 * Run: npm run bench:demux [-- --mib N --rounds N --pings N]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CHARDEVD_DEMUX } from '../test/support/paths.js';
import { startChardevd } from '../test/support/servers.js';
import { connectWithRetry } from './support/connect.js';
import { describeRun, loadAverage } from './support/machine.js';

const { values } = parseArgs({
  options: { mib: { type: 'string', default: '128' }, rounds: { type: 'string', default: '3' }, pings: { type: 'string', default: '2000' } },
});
const TOTAL = Number(values.mib) << 20;
const ROUNDS = Number(values.rounds);
const PINGS = Number(values.pings);
const CHANNELS = [1, 16, 256];
const CHUNK = 64 << 10;
const BLOCK = randomBytes(1 << 20);

interface Path {
  /** Where the client connects: to the sink, or to the echo service. */
  readonly sink: string;
  readonly echo: string;
  stop(): Promise<void>;
}

interface Services {
  readonly dir: string;
  readonly sinkPath: string;
  readonly echoPath: string;
  /** Resolves with each connection's bytes once `count` connections have ended. */
  expect(count: number): Promise<number[]>;
  close(): void;
}

/** The host services: a sink that checks each connection's bytes against BLOCK, and an echo. */
async function services(): Promise<Services> {
  const dir = mkdtempSync(join(tmpdir(), 'chardevd-bench-demux-'));
  let waiting: { count: number; done: number[]; resolve: (bytes: number[]) => void } | undefined;
  const sink = createServer((socket) => {
    let received = 0;
    socket.on('error', () => {});
    socket.on('data', (data: Buffer) => {
      for (let at = 0; at < data.length; ) {
        const offset = (received + at) % BLOCK.length;
        const length = Math.min(data.length - at, BLOCK.length - offset);
        if (data.compare(BLOCK, offset, offset + length, at, at + length) !== 0) throw new Error(`wrong bytes at offset ${received + at}`);
        at += length;
      }
      received += data.length;
    });
    socket.on('end', () => {
      socket.end();
      // A probe that only checked the relays were up brings nothing.
      if (waiting === undefined || received === 0) return;
      waiting.done.push(received);
      if (waiting.done.length === waiting.count) waiting.resolve(waiting.done);
    });
  });
  const echo = createServer((socket) => {
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  const listen = (server: Server, path: string): Promise<void> => new Promise((resolve) => server.listen(path, resolve));
  await listen(sink, join(dir, 'sink.sock'));
  await listen(echo, join(dir, 'echo.sock'));
  return {
    dir,
    sinkPath: join(dir, 'sink.sock'),
    echoPath: join(dir, 'echo.sock'),
    expect: (count) => new Promise((resolve) => (waiting = { count, done: [], resolve })),
    close: () => {
      sink.close();
      echo.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function demuxPath(host: Services): Promise<Path> {
  const daemon = await startChardevd((dir) => [
    '-chardev',
    `socket,id=port,path=${join(dir, 'port.sock')},server=on,wait=off`,
    '-device',
    'demux,id=dm0,chardev=port',
    '-demux-service',
    `dm0,name=sink,connect=unix:${host.sinkPath}`,
    '-demux-service',
    `dm0,name=echo,connect=unix:${host.echoPath}`,
  ]);
  const sink = join(daemon.dir, 'sink-fwd.sock');
  const echo = join(daemon.dir, 'echo-fwd.sock');
  const guest = spawn(process.execPath, [CHARDEVD_DEMUX, `unix:${join(daemon.dir, 'port.sock')}`, '--forward', `unix:${sink}=sink`, '--forward', `unix:${echo}=echo`], {
    stdio: 'ignore',
  });
  (await connectWithRetry(echo)).destroy();
  return {
    sink,
    echo,
    stop: async () => {
      guest.kill();
      await daemon.stop();
    },
  };
}

async function socatPath(host: Services): Promise<Path> {
  const dir = mkdtempSync(join(tmpdir(), 'chardevd-bench-socat-'));
  const relay = (from: string, to: string): ChildProcess => spawn('socat', ['-b', String(CHUNK), `UNIX-LISTEN:${from},fork`, `UNIX-CONNECT:${to}`], { stdio: 'ignore' });
  const processes = [
    relay(join(dir, 'sink-mid.sock'), host.sinkPath),
    relay(join(dir, 'sink.sock'), join(dir, 'sink-mid.sock')),
    relay(join(dir, 'echo-mid.sock'), host.echoPath),
    relay(join(dir, 'echo.sock'), join(dir, 'echo-mid.sock')),
  ];
  // A connection through both hops: each listener is up.
  const probe = await connectWithRetry(join(dir, 'echo.sock'));
  await new Promise<void>((resolve) => {
    probe.once('data', () => resolve());
    probe.write('x');
  });
  probe.destroy();
  await connectWithRetry(join(dir, 'sink-mid.sock')).then((s) => s.end());
  await connectWithRetry(join(dir, 'sink.sock')).then((s) => s.end());
  return {
    sink: join(dir, 'sink.sock'),
    echo: join(dir, 'echo.sock'),
    stop: async () => {
      for (const child of processes) child.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Transfer {
  /** Aggregate bytes per second. */
  readonly rate: number;
  /** The slowest connection's bytes per second, over the time it took to finish. */
  readonly slowest: number;
}

async function transfer(path: Path, host: Services, channels: number): Promise<Transfer> {
  const share = Math.floor(TOTAL / channels / CHUNK) * CHUNK || CHUNK;
  const sockets = await Promise.all(Array.from({ length: channels }, () => connectWithRetry(path.sink)));
  const ended = host.expect(channels);
  const start = performance.now();
  const finished: number[] = [];
  await Promise.all(
    sockets.map(async (socket: Socket) => {
      socket.on('error', () => {});
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.resume();
      for (let sent = 0; sent < share; sent += CHUNK) {
        const offset = sent % BLOCK.length;
        if (!socket.write(BLOCK.subarray(offset, offset + CHUNK))) await new Promise((resolve) => socket.once('drain', resolve));
      }
      socket.end();
      // The sink answers the end with its own once it has read everything: then this connection is done.
      await closed;
      finished.push(performance.now() - start);
    }),
  );
  const bytes = await ended;
  const seconds = (performance.now() - start) / 1000;
  if (bytes.some((n) => n !== share)) throw new Error(`a connection delivered ${bytes.find((n) => n !== share)} of ${share} bytes`);
  return { rate: (share * channels) / seconds, slowest: share / (Math.max(...finished) / 1000) };
}

async function latency(path: Path): Promise<number[]> {
  const socket = await connectWithRetry(path.echo);
  const message = randomBytes(64);
  const times: number[] = [];
  let got = 0;
  let wake: (() => void) | undefined;
  socket.on('data', (data: Buffer) => {
    got += data.length;
    wake?.();
  });
  for (let i = 0; i < PINGS; i++) {
    const start = performance.now();
    const want = got + message.length;
    socket.write(message);
    while (got < want) await new Promise<void>((resolve) => (wake = resolve));
    times.push(performance.now() - start);
  }
  socket.destroy();
  return times.sort((a, b) => a - b);
}

interface Run {
  transfers: Map<number, Transfer[]>;
  p50: number[];
  p99: number[];
}

async function measure(make: (host: Services) => Promise<Path>, run: Run): Promise<void> {
  const host = await services();
  const path = await make(host);
  try {
    for (const channels of CHANNELS) {
      const list = run.transfers.get(channels) ?? [];
      list.push(await transfer(path, host, channels));
      run.transfers.set(channels, list);
    }
    const times = await latency(path);
    run.p50.push(times[Math.floor(times.length * 0.5)]!);
    run.p99.push(times[Math.floor(times.length * 0.99)]!);
  } finally {
    await path.stop();
    host.close();
  }
}

if (!['/usr/bin/socat', '/bin/socat'].some((path) => existsSync(path))) throw new Error('socat is not installed (apt-get install socat)');
console.log(describeRun());
const ours: Run = { transfers: new Map(), p50: [], p99: [] };
const theirs: Run = { transfers: new Map(), p50: [], p99: [] };
for (let round = 0; round < ROUNDS; round++) {
  if (round % 2 === 0) {
    await measure(demuxPath, ours);
    await measure(socatPath, theirs);
  } else {
    await measure(socatPath, theirs);
    await measure(demuxPath, ours);
  }
}

const median = (list: number[]): number => {
  const sorted = [...list].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const mib = (n: number): number => n / (1 << 20);
console.log(`load average after the rounds ${loadAverage()}`);
console.log(`client -> relay -> relay -> host service, ${TOTAL >> 20} MiB per transfer split over the connections, every byte checked; median of ${ROUNDS} rounds`);
console.log(`| ${'measure'.padEnd(42)} | ${'chardevd demux'.padStart(14)} | ${'socat x2 (fork)'.padStart(15)} |  ratio |`);
console.log(`|${'-'.repeat(44)}|${'-'.repeat(15)}:|${'-'.repeat(16)}:|-------:|`);
const row = (name: string, a: number, b: number, digits: number): void =>
  console.log(`| ${name.padEnd(42)} | ${a.toFixed(digits).padStart(14)} | ${b.toFixed(digits).padStart(15)} | ${(a / b).toFixed(2).padStart(5)}x |`);
for (const channels of CHANNELS) {
  const a = ours.transfers.get(channels)!;
  const b = theirs.transfers.get(channels)!;
  row(`${channels} channel(s): aggregate MiB/s`, median(a.map((t) => mib(t.rate))), median(b.map((t) => mib(t.rate))), 1);
  row(`${channels} channel(s): slowest channel MiB/s`, median(a.map((t) => mib(t.slowest))), median(b.map((t) => mib(t.slowest))), 2);
}
row('64-byte round trip, median ms', median(ours.p50), median(theirs.p50), 3);
row('64-byte round trip, p99 ms', median(ours.p99), median(theirs.p99), 3);
