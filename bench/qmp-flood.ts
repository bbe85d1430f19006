/**
 * Clients that flood chardevd's QMP with input that makes millions of error
 * replies, and never read them: the daemon's resident memory while they sit
 * there, another client's `query-version` round trip meanwhile, how long the
 * flooders then take to read everything (and whether every reply arrived),
 * and the memory left once they have gone. The input is `[` + `1,` x PAIRS +
 * `1]`: the first 2 Mi tokens are refused together ("JSON token count limit
 * exceeded"), then each leftover token is a message of its own and gets its
 * own error (QEMU 7.2's json-streamer recovery).
 * With `--chardev`, the flooder talks to a QMP monitor on a socket chardev
 * (`-mon`, one client at a time) instead of a `-qmp` listener.
 * QEMU 7.2 gets the same flood in the same run, from one client (its -qmp
 * serves one client at a time, so it has no bystander): its memory while
 * unread, its time to deliver every reply, and whether all arrived.
 * Run: npm run bench:qmp-flood [-- --clients N --pairs N --hold SECONDS --after SECONDS --chardev]
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { comparisonTable } from './support/compare.js';
import { describeRun, QEMU_PEER } from './support/machine.js';
import { RawQmp } from './support/raw-qmp.js';
import { qemuSkipReason, type ServerProcess, startChardevd, startQemu, untilListening } from '../test/support/servers.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '1' },
    pairs: { type: 'string', default: '2100000' },
    hold: { type: 'string', default: '5' },
    after: { type: 'string', default: '10' },
    chardev: { type: 'boolean', default: false },
  },
});
const CLIENTS = Number(values.clients);
const PAIRS = Number(values.pairs);
const HOLD_MS = Number(values.hold) * 1000;
const AFTER_MS = Number(values.after) * 1000;
/** MAX_TOKEN_COUNT in QEMU's json-streamer.c. */
const MAX_TOKENS = 2 << 20;
const TOTAL_TOKENS = 2 * PAIRS + 3;
/** One error for the message cut off at the limit, one per token after it; plus the greeting. */
const EXPECTED_LINES = TOTAL_TOKENS > MAX_TOKENS ? 1 + 1 + (TOTAL_TOKENS - MAX_TOKENS - 1) : 2;

function rssMiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match![1]) / 1024;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Samples the daemon's RSS every 50 ms until stopped; resolves with the peak. */
function watchPeak(pid: number): { stop(): number } {
  let peak = rssMiB(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMiB(pid));
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rssMiB(pid));
    },
  };
}

/** Round trips of `query-version`, one after another, until stopped. */
function probeLatency(client: RawQmp): { stop(): Promise<number[]> } {
  const times: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const start = performance.now();
      await client.send(Buffer.from('{"execute":"query-version"}'));
      times.push(performance.now() - start);
      await sleep(20);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return times;
    },
  };
}

function summary(times: number[]): string {
  if (times.length === 0) return 'none';
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number): string => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(1);
  return `${times.length} round trips, median ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${sorted.at(-1)!.toFixed(1)} ms`;
}

async function openFlooder(path: string, input: Buffer): Promise<{ socket: Socket; lines: () => number; closed: Promise<void> }> {
  const socket = connect(path);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let lines = 0;
  socket.pause();
  socket.on('data', (chunk: Buffer) => {
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => {});
  socket.write(input);
  return { socket, lines: () => lines, closed };
}

interface Flood {
  readonly baseline: number;
  readonly peakUnread: number;
  readonly readSeconds: number;
  readonly peakReading: number;
  /** Error replies each flooder received. */
  readonly replies: number[];
}

const input = Buffer.from(`[${'1,'.repeat(PAIRS)}1]`);

/** The flood against `server`; `bystander` measures another client's round trips meanwhile (not on QEMU, which serves one client). */
async function flood(name: string, server: ServerProcess, floodPath: string, clients: number, bystander: RawQmp | undefined): Promise<Flood> {
  await sleep(500);
  const baseline = rssMiB(server.pid);
  console.log(`${name}: input ${(input.length / 1e6).toFixed(1)} MB per client, ${clients} client(s), ${EXPECTED_LINES - 1} error replies expected each`);
  console.log(`${name}: baseline RSS ${baseline.toFixed(0)} MiB`);
  if (bystander !== undefined) {
    const quiet = probeLatency(bystander);
    await sleep(1000);
    console.log(`${name}: bystander before the flood: ${summary(await quiet.stop())}`);
  }
  let peak = watchPeak(server.pid);
  const probe = bystander === undefined ? undefined : probeLatency(bystander);
  const flooders = await Promise.all(Array.from({ length: clients }, () => openFlooder(floodPath, input)));
  await sleep(HOLD_MS);
  const peakUnread = peak.stop();
  console.log(
    `${name}: while ${clients} client(s) read nothing for ${HOLD_MS / 1000} s: peak RSS ${peakUnread.toFixed(0)} MiB, now ${rssMiB(server.pid).toFixed(0)} MiB`,
  );
  if (probe !== undefined) console.log(`${name}: bystander meanwhile: ${summary(await probe.stop())}`);

  peak = watchPeak(server.pid);
  const readStart = performance.now();
  for (const f of flooders) f.socket.resume();
  // Every reply arrived, or the server gave up on the client.
  await Promise.all(
    flooders.map(async (f) => {
      const deadline = performance.now() + 120_000;
      while (f.lines() < EXPECTED_LINES && !f.socket.destroyed && f.socket.readable && performance.now() < deadline) await sleep(20);
    }),
  );
  const readSeconds = (performance.now() - readStart) / 1000;
  const peakReading = peak.stop();
  const replies = flooders.map((f) => f.lines() - 1);
  console.log(
    `${name}: reading: ${readSeconds.toFixed(1)} s, peak RSS ${peakReading.toFixed(0)} MiB; error replies received: ${replies.join(', ')} (expected ${EXPECTED_LINES - 1})`,
  );

  for (const f of flooders) f.socket.end();
  await Promise.all(flooders.map((f) => Promise.race([f.closed, sleep(5000)])));
  for (const f of flooders) f.socket.destroy();
  const closedAt = performance.now();
  for (const mark of [1000, AFTER_MS]) {
    await sleep(mark - (performance.now() - closedAt));
    console.log(`${name}: ${(mark / 1000).toFixed(0)} s after they closed: RSS ${rssMiB(server.pid).toFixed(0)} MiB`);
  }
  return { baseline, peakUnread, readSeconds, peakReading, replies };
}

const complete = (result: Flood): boolean => result.replies.every((count) => count === EXPECTED_LINES - 1);

console.log(describeRun(qemuSkipReason() === undefined ? [QEMU_PEER()] : []));
let ours: Flood;
const daemon = await startChardevd((dir) =>
  values.chardev ? ['-chardev', `socket,id=qmon,path=${join(dir, 'qmon.sock')},server=on,wait=off`, '-mon', 'qmon,mode=control'] : [],
);
try {
  const floodPath = values.chardev ? join(daemon.dir, 'qmon.sock') : daemon.qmpPath;
  if (values.chardev) {
    await untilListening(floodPath);
    if (CLIENTS !== 1) throw new Error('a chardev serves one client at a time: --clients 1');
  }
  const bystander = await RawQmp.open(daemon.qmpPath);
  ours = await flood('chardevd', daemon, floodPath, CLIENTS, bystander);
  bystander.close();
} finally {
  await daemon.stop();
}
const skip = qemuSkipReason();
if (skip !== undefined) console.log(`QEMU 7.2 not measured: ${skip}`);
else {
  const qemu = await startQemu();
  let theirs: Flood;
  try {
    theirs = await flood('QEMU 7.2', qemu, qemu.qmpPath, 1, undefined);
  } finally {
    await qemu.stop();
  }
  console.log('');
  console.log(`one flooding client against QEMU 7.2's -qmp; chardevd with ${CLIENTS} client(s)${values.chardev ? ' on a chardev monitor' : ''}`);
  console.log(
    comparisonTable('QEMU 7.2', [
      { measure: 'RSS growth while unread, MiB', ours: ours.peakUnread - ours.baseline, peer: theirs.peakUnread - theirs.baseline },
      { measure: 'RSS growth while reading (peak), MiB', ours: ours.peakReading - ours.baseline, peer: theirs.peakReading - theirs.baseline },
      {
        measure: 'seconds to read every reply',
        ours: ours.readSeconds,
        peer: complete(theirs) ? theirs.readSeconds : NaN,
        digits: 1,
        ...(complete(ours) ? {} : { oursText: `not all in ${ours.readSeconds.toFixed(0)} s` }),
        ...(complete(theirs) ? {} : { peerText: `not all in ${theirs.readSeconds.toFixed(0)} s` }),
      },
      { measure: 'error replies received (first client)', ours: ours.replies[0]!, peer: theirs.replies[0]! },
    ]),
  );
}
