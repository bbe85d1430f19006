/**
 * Fan-out with a source that writes as fast as the relay takes its bytes
 * (the benchmark never paces it): a TCP source -> relay -> three TCP
 * viewers, two reading and one that never reads (or, without the stalled
 * viewer, two reading). Relays: chardevd's hub in its three modes and
 * ser2net 4 with max-connections (one port, every connection gets the
 * device's output; "a single TCP connection can stop all the others",
 * ser2net.yaml(5)). Both relays connect to the source as a client.
 *
 * Per viewer: bytes received and lost, and whether what it received is
 * the source's stream byte for byte (SHA-256); the stalled viewer's
 * losses as query-chardev counts them; the source's total wait (time
 * spent waiting for its socket to drain); the relay's peak RSS (VmHWM).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChardevd } from '../../test/support/servers.js';
import { qmpOnce } from './qmp-once.js';

/** isolation: the hub's default; stall-timeout: stall-timeout=MS; qemu: backpressure=on (QEMU 10's hub). */
export type UnpacedRelay = 'isolation' | 'stall-timeout' | 'qemu' | 'ser2net';

export interface UnpacedOptions {
  readonly relay: UnpacedRelay;
  readonly stalledViewer: boolean;
  readonly total: number;
  readonly stallTimeoutMs: number;
}

export interface ViewerResult {
  readonly received: number;
  /** Received every byte the source sent, in order (SHA-256). */
  readonly intact: boolean;
}

export interface UnpacedResult {
  readonly sent: number;
  /** From the first byte sent until both readers had everything, or stopped getting anything. */
  readonly seconds: number;
  /** Time the source spent waiting for its socket to drain. */
  readonly sourceWaitMs: number;
  /** The source waited STUCK_MS for a drain that did not come. */
  readonly stuck: boolean;
  readonly readers: readonly ViewerResult[];
  /** What query-chardev says the stalled viewer lost (chardevd only). */
  readonly stalledDropped: number | undefined;
  readonly peakRssKiB: number;
}

const CHUNK = 64 << 10;
/** Random data the source sends over and over. */
const BLOCK = randomBytes(1 << 20);
/** Marks where the measured stream starts, after the probes that found every viewer connected. */
const START = Buffer.concat([Buffer.from([0xff]), randomBytes(31)]);
const STUCK_MS = 5000;
/** Readers that got nothing for this long after the source finished have all they will get. */
const QUIET_MS = 2000;
const WAIT_MS = 60_000;

const expectedDigests = new Map<number, string>();
function expectedDigest(total: number): string {
  let digest = expectedDigests.get(total);
  if (digest === undefined) {
    const hash = createHash('sha256');
    for (let sent = 0; sent < total; sent += BLOCK.length) hash.update(BLOCK.subarray(0, Math.min(BLOCK.length, total - sent)));
    digest = hash.digest('hex');
    expectedDigests.set(total, digest);
  }
  return digest;
}

async function until(done: () => boolean | Promise<boolean>, what: string, pollMs = 10): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

async function connectTcp(port: number): Promise<net.Socket> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await new Promise<net.Socket>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1');
        socket.once('connect', () => resolve(socket)).once('error', reject);
      });
    } catch (error: unknown) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function peakRssKiB(pid: number): number {
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
}

/** A viewer: sees probes until the start mark, then counts and hashes the stream (unless stalled, when it stops reading). */
class Viewer {
  probed = false;
  started = false;
  received = 0;
  lastData = 0;
  readonly #hash = createHash('sha256');
  #tail = Buffer.alloc(0);

  constructor(readonly socket: net.Socket) {
    socket.on('error', () => {});
    socket.on('data', (data: Buffer) => {
      this.probed = true;
      if (!this.started) {
        const seen = Buffer.concat([this.#tail, data]);
        const at = seen.indexOf(START);
        if (at < 0) {
          this.#tail = seen.subarray(Math.max(0, seen.length - START.length));
          return;
        }
        this.started = true;
        data = seen.subarray(at + START.length);
      }
      this.received += data.length;
      this.lastData = performance.now();
      this.#hash.update(data);
    });
  }

  result(sent: number, digest: string): ViewerResult {
    return { received: this.received, intact: this.received === sent && this.#hash.digest('hex') === digest };
  }
}

interface Relay {
  readonly pid: number;
  /** Viewers connect to these ports, in order. */
  readonly ports: readonly number[];
  stalledDropped(): Promise<number | undefined>;
  stop(): Promise<void>;
}

async function startHub(options: UnpacedOptions, sourcePort: number, viewerIds: readonly string[]): Promise<Relay> {
  const mode = { isolation: '', 'stall-timeout': `,stall-timeout=${options.stallTimeoutMs}`, qemu: ',backpressure=on', ser2net: '' }[options.relay];
  const daemon = await startChardevd([
    '-chardev',
    `socket,id=guest,host=127.0.0.1,port=${sourcePort}`,
    ...viewerIds.flatMap((id) => ['-chardev', `socket,id=${id},host=127.0.0.1,port=0,server=on,wait=off`]),
    '-chardev',
    `hub,id=h,${viewerIds.map((id, i) => `chardevs.${i}=${id}`).join(',')}${mode}`,
    '-device',
    'link,id=l0,chardev=guest,peer=h',
  ]);
  const chardevs = (await qmpOnce(daemon.qmpPath, 'query-chardev')) as { label: string; filename: string; hub?: { members: { id: string; dropped: number }[] } }[];
  const ports = viewerIds.map((id) => Number(/:(\d+),server=on$/.exec(chardevs.find((entry) => entry.label === id)!.filename)![1]));
  return {
    pid: daemon.pid,
    ports,
    async stalledDropped() {
      const list = (await qmpOnce(daemon.qmpPath, 'query-chardev')) as typeof chardevs;
      return list.find((entry) => entry.label === 'h')!.hub!.members.find((member) => member.id === 'stall')?.dropped;
    },
    stop: () => daemon.stop(),
  };
}

async function startSer2net(sourcePort: number, viewers: number): Promise<Relay> {
  const dir = mkdtempSync(join(tmpdir(), 'chardevd-bench-ser2net-'));
  const port = await freePort();
  const config = join(dir, 'ser2net.yaml');
  // chardelay off and 64 KiB buffers: ser2net's defaults (a wait after each read, small buffers) are made for serial lines.
  writeFileSync(
    config,
    [
      'connection: &fan',
      `  accepter: tcp,127.0.0.1,${port}`,
      `  connector: tcp,127.0.0.1,${sourcePort}`,
      '  options:',
      `    max-connections: ${viewers}`,
      '    chardelay: false',
      '    dev-to-net-bufsize: 65536',
      '    net-to-dev-bufsize: 65536',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('ser2net', ['-n', '-u', '-c', config, '-P', join(dir, 'ser2net.pid')], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    pid: child.pid!,
    ports: Array.from({ length: viewers }, () => port),
    stalledDropped: () => Promise.resolve(undefined),
    async stop() {
      child.kill();
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One run: the source streams `total` bytes through the relay to the viewers. */
export async function runUnpaced(options: UnpacedOptions): Promise<UnpacedResult> {
  const viewerIds = options.stalledViewer ? ['v0', 'v1', 'stall'] : ['v0', 'v1'];
  let relaySocket: net.Socket | undefined;
  const source = net.createServer((socket) => {
    socket.on('error', () => {});
    relaySocket?.destroy();
    relaySocket = socket;
  });
  await new Promise<void>((resolve) => source.listen(0, '127.0.0.1', resolve));
  const sourcePort = (source.address() as net.AddressInfo).port;
  const relay = options.relay === 'ser2net' ? await startSer2net(sourcePort, viewerIds.length) : await startHub(options, sourcePort, viewerIds);
  const viewers: Viewer[] = [];
  try {
    for (const port of relay.ports) viewers.push(new Viewer(await connectTcp(port)));
    await until(() => relaySocket !== undefined, 'the relay to connect to the source');
    // Probes until every viewer is served (a hub member opens when its client is adopted; ser2net adds connections as they come).
    await until(
      () => {
        relaySocket!.write(Buffer.from([0]));
        return viewers.every((viewer) => viewer.probed);
      },
      'every viewer to get a probe',
      20,
    );
    if (options.stalledViewer) viewers.at(-1)!.socket.pause();
    const readers = options.stalledViewer ? viewers.slice(0, -1) : viewers;
    const out = relaySocket!;
    out.write(START);
    const start = performance.now();
    let sent = 0;
    let sourceWaitMs = 0;
    let stuck = false;
    while (sent < options.total) {
      const offset = sent % BLOCK.length;
      sent += CHUNK;
      if (!out.write(BLOCK.subarray(offset, offset + CHUNK))) {
        const waitStart = performance.now();
        const drained = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), STUCK_MS);
          out.once('drain', () => {
            clearTimeout(timer);
            resolve(true);
          });
        });
        sourceWaitMs += performance.now() - waitStart;
        if (!drained) {
          stuck = true;
          break;
        }
      }
    }
    await until(() => {
      if (readers.every((reader) => reader.received >= sent)) return true;
      const last = Math.max(start, ...readers.map((reader) => reader.lastData));
      return performance.now() - last > QUIET_MS;
    }, 'the readers to finish');
    const end = Math.max(...readers.map((reader) => reader.lastData));
    const digest = expectedDigest(sent);
    const result: UnpacedResult = {
      sent,
      seconds: (end - start) / 1000,
      sourceWaitMs,
      stuck,
      readers: readers.map((reader) => reader.result(sent, digest)),
      stalledDropped: options.stalledViewer ? await relay.stalledDropped() : undefined,
      peakRssKiB: peakRssKiB(relay.pid),
    };
    return result;
  } finally {
    for (const viewer of viewers) viewer.socket.destroy();
    relaySocket?.destroy();
    await relay.stop();
    await new Promise((resolve) => source.close(resolve));
  }
}
