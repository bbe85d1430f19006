/**
 * Throughput of a relay between two unix sockets: chardevd's link device
 * joining two socket chardevs, against socat relaying the same two
 * sockets, in the same run. A source client writes MiB of data into one
 * socket and a sink client reads it from the other; the clock runs from
 * the first write to the last byte read, and the byte count is checked.
 * Run: npm run bench:link [-- --mib N --rounds N]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startChardevd } from '../test/support/servers.js';
import { connectWithRetry } from './support/connect.js';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '512' }, rounds: { type: 'string', default: '3' } } });
const TOTAL = Number(values.mib) << 20;
const ROUNDS = Number(values.rounds);
const CHUNK = Buffer.alloc(64 << 10, 'chardevd link bench ');

/** Pushes TOTAL bytes from `source` to `sink`; bytes per second. */
async function push(source: Socket, sink: Socket): Promise<number> {
  let received = 0;
  const done = new Promise<void>((resolve) => {
    sink.on('data', (data: Buffer) => {
      received += data.length;
      if (received >= TOTAL) resolve();
    });
  });
  const start = performance.now();
  for (let sent = 0; sent < TOTAL; sent += CHUNK.length) {
    if (!source.write(CHUNK)) await new Promise((resolve) => source.once('drain', resolve));
  }
  await done;
  const seconds = (performance.now() - start) / 1000;
  sink.removeAllListeners('data');
  if (received !== TOTAL) throw new Error(`received ${received} of ${TOTAL} bytes`);
  return TOTAL / seconds;
}

async function chardevdRound(): Promise<number> {
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
    const rate = await push(source, sink);
    source.destroy();
    sink.destroy();
    return rate;
  } finally {
    await daemon.stop();
  }
}

async function socatRound(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'chardevd-bench-socat-'));
  // socat opens its first address (waits for a client on a.sock), then its second.
  const socat: ChildProcess = spawn('socat', ['-b', String(CHUNK.length), `UNIX-LISTEN:${join(dir, 'a.sock')}`, `UNIX-LISTEN:${join(dir, 'b.sock')}`], {
    stdio: 'ignore',
  });
  try {
    const source = await connectWithRetry(join(dir, 'a.sock'));
    const sink = await connectWithRetry(join(dir, 'b.sock'));
    const rate = await push(source, sink);
    source.destroy();
    sink.destroy();
    return rate;
  } finally {
    socat.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (!['/usr/bin/socat', '/bin/socat'].some((path) => existsSync(path))) throw new Error('socat is not installed (apt-get install socat)');
const ours: number[] = [];
const theirs: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  ours.push(await chardevdRound());
  theirs.push(await socatRound());
}
const median = (list: number[]): number => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
const mib = (n: number): string => (n / (1 << 20)).toFixed(0).padStart(10);
console.log(`MiB/s relayed between two unix sockets, ${TOTAL >> 20} MiB per round, median of ${ROUNDS} rounds (alternating)`);
console.log(`| ${'relay'.padEnd(40)} |   chardevd |      socat |  ratio |`);
console.log(`|${'-'.repeat(42)}|-----------:|-----------:|-------:|`);
console.log(`| socket chardev -> link -> socket chardev | ${mib(median(ours))} | ${mib(median(theirs))} | ${(median(ours) / median(theirs)).toFixed(2).padStart(5)}x |`);
console.log(`rounds: chardevd ${ours.map((n) => (n / (1 << 20)).toFixed(0)).join(', ')}; socat ${theirs.map((n) => (n / (1 << 20)).toFixed(0)).join(', ')}`);
