/**
 * Throughput of a relay between two unix sockets: chardevd's link device
 * joining two socket chardevs, against socat relaying the same two
 * sockets with the same chunk size, in the same run. A source client
 * writes MiB of random data into one socket and a sink client reads it
 * from the other; the clock runs from the first write to the last byte
 * read, and every byte is checked. Besides MiB/s, the relay process's
 * CPU time per MiB and its minor page faults during the transfer
 * (/proc/PID/stat). Rounds alternate which relay goes first.
 * Run: npm run bench:link [-- --mib N --rounds N]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startChardevd } from '../test/support/servers.js';
import { connectWithRetry } from './support/connect.js';
import { describeRun, loadAverage, peerVersion } from './support/machine.js';
import { processUsage } from './support/process-stat.js';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '512' }, rounds: { type: 'string', default: '3' } } });
const TOTAL = Number(values.mib) << 20;
const ROUNDS = Number(values.rounds);
/** socat's -b and the source's write size: one socket read's worth, what the link moves at a time. */
const CHUNK = 64 << 10;
/** Random data the source sends over and over; the sink compares what it gets with it. */
const BLOCK = randomBytes(1 << 20);

interface Round {
  /** Bytes per second. */
  readonly rate: number;
  /** The relay's CPU time per MiB, in ms. */
  readonly cpuMsPerMiB: number;
  /** The relay's minor page faults during the transfer. */
  readonly minorFaults: number;
}

/** Pushes TOTAL bytes from `source` to `sink` through the relay `pid`, checking every byte. */
async function push(source: Socket, sink: Socket, pid: number): Promise<Round> {
  let received = 0;
  const done = new Promise<void>((resolve, reject) => {
    sink.on('data', (data: Buffer) => {
      for (let at = 0; at < data.length; ) {
        const offset = (received + at) % BLOCK.length;
        const length = Math.min(data.length - at, BLOCK.length - offset);
        if (data.compare(BLOCK, offset, offset + length, at, at + length) !== 0) reject(new Error(`wrong bytes at offset ${received + at}`));
        at += length;
      }
      received += data.length;
      if (received >= TOTAL) resolve();
    });
  });
  const before = processUsage(pid);
  const start = performance.now();
  for (let sent = 0; sent < TOTAL; sent += CHUNK) {
    const offset = sent % BLOCK.length;
    if (!source.write(BLOCK.subarray(offset, offset + CHUNK))) await new Promise((resolve) => source.once('drain', resolve));
  }
  await done;
  const seconds = (performance.now() - start) / 1000;
  const after = processUsage(pid);
  sink.removeAllListeners('data');
  if (received !== TOTAL) throw new Error(`received ${received} of ${TOTAL} bytes`);
  return { rate: TOTAL / seconds, cpuMsPerMiB: (after.cpuMs - before.cpuMs) / (TOTAL >> 20), minorFaults: after.minorFaults - before.minorFaults };
}

async function chardevdRound(): Promise<Round> {
  const daemon = await startChardevd((dir) => [
    '-chardev',
    `socket,id=a,path=${join(dir, 'a.sock')},server=on,wait=off`,
    '-chardev',
    `socket,id=b,path=${join(dir, 'b.sock')},server=on,wait=off`,
    '-device',
    'link,id=l0,chardev=a,peer=b',
  ]);
  try {
    const sink = await connectWithRetry(join(daemon.dir, 'b.sock'));
    const source = await connectWithRetry(join(daemon.dir, 'a.sock'));
    const round = await push(source, sink, daemon.pid);
    source.destroy();
    sink.destroy();
    return round;
  } finally {
    await daemon.stop();
  }
}

async function socatRound(): Promise<Round> {
  const dir = mkdtempSync(join(tmpdir(), 'chardevd-bench-socat-'));
  // socat opens its first address (waits for a client on a.sock), then its second.
  const socat: ChildProcess = spawn('socat', ['-b', String(CHUNK), `UNIX-LISTEN:${join(dir, 'a.sock')}`, `UNIX-LISTEN:${join(dir, 'b.sock')}`], {
    stdio: 'ignore',
  });
  try {
    const source = await connectWithRetry(join(dir, 'a.sock'));
    const sink = await connectWithRetry(join(dir, 'b.sock'));
    const round = await push(source, sink, socat.pid!);
    source.destroy();
    sink.destroy();
    return round;
  } finally {
    socat.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (!['/usr/bin/socat', '/bin/socat'].some((path) => existsSync(path))) throw new Error('socat is not installed (apt-get install socat)');
console.log(describeRun([peerVersion('socat', ['-V'])]));
const ours: Round[] = [];
const theirs: Round[] = [];
for (let round = 0; round < ROUNDS; round++) {
  // Alternate which goes first, so that a machine that gets busier or quieter favours neither.
  if (round % 2 === 0) {
    ours.push(await chardevdRound());
    theirs.push(await socatRound());
  } else {
    theirs.push(await socatRound());
    ours.push(await chardevdRound());
  }
}

const median = (list: number[]): number => {
  const sorted = [...list].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const spread = (list: number[], digits: number): string => `${Math.min(...list).toFixed(digits)}–${Math.max(...list).toFixed(digits)}`;
const rates = (rounds: Round[]): number[] => rounds.map((r) => r.rate / (1 << 20));
const cpu = (rounds: Round[]): number[] => rounds.map((r) => r.cpuMsPerMiB);
const faults = (rounds: Round[]): number[] => rounds.map((r) => r.minorFaults);
const cell = (list: number[], digits: number): string => `${median(list).toFixed(digits)} (${spread(list, digits)})`.padStart(22);

console.log(`load average after the rounds ${loadAverage()}`);
console.log(`unix socket -> relay -> unix socket, ${TOTAL >> 20} MiB of random data per round, every byte checked; median of ${ROUNDS} rounds (range)`);
console.log(`| ${'measure'.padEnd(34)} | ${'chardevd (link)'.padStart(22)} | ${'socat -b 65536'.padStart(22)} |  ratio |`);
console.log(`|${'-'.repeat(36)}|${'-'.repeat(23)}:|${'-'.repeat(23)}:|-------:|`);
const row = (name: string, a: number[], b: number[], digits: number): void =>
  console.log(`| ${name.padEnd(34)} | ${cell(a, digits)} | ${cell(b, digits)} | ${(median(a) / median(b)).toFixed(2).padStart(5)}x |`);
row('MiB/s', rates(ours), rates(theirs), 0);
row('relay CPU ms per MiB', cpu(ours), cpu(theirs), 2);
row(`relay minor page faults per ${TOTAL >> 20} MiB`, faults(ours), faults(theirs), 0);
const list = (values: number[]): string => values.map((n) => n.toFixed(0)).join(', ');
console.log(`rounds, MiB/s: chardevd ${list(rates(ours))}; socat ${list(rates(theirs))}`);
