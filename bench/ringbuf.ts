/**
 * Ring buffer benchmarks, chardevd against QEMU 7.2 in the same run:
 *  - alternating ringbuf-write / ringbuf-read commands over one
 *    connection, pipelined (a window in flight) and sequential;
 *  - resident memory per ringbuf: 1,000 ringbufs of 64 KiB, each filled,
 *    in a fresh server of each kind started for this alone; the baseline
 *    is its resident size right after QMP negotiation, with nothing
 *    written before it (no warm-up), taken the same way for both; and the
 *    private (anonymous) part of the same growth beside it.
 * Run: npm run bench:ringbuf [-- --seconds N --count N]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { comparisonTable } from './support/compare.js';
import { describeRun, QEMU_PEER } from './support/machine.js';
import { RawQmp } from './support/raw-qmp.js';
import { startChardevd, startQemu, type ServerProcess } from '../test/support/servers.js';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '2' }, window: { type: 'string', default: '256' }, count: { type: 'string', default: '1000' } },
});
const SECONDS = Number(values.seconds);
const WINDOW = Number(values.window);
const COUNT = Number(values.count);
const RING_SIZE = 65536;

const WRITE = Buffer.from(`{"execute":"ringbuf-write","arguments":{"device":"bench","data":"${'x'.repeat(64)}"}}`);
const READ = Buffer.from('{"execute":"ringbuf-read","arguments":{"device":"bench","size":64}}');

async function pipelined(raw: RawQmp, seconds: number): Promise<number> {
  const start = performance.now();
  const end = start + seconds * 1000;
  const base = raw.lines;
  const batch = Buffer.concat(Array.from({ length: WINDOW / 4 }, () => [WRITE, READ]).flat());
  let sent = 0;
  while (performance.now() < end) {
    raw.socket.write(batch);
    sent += WINDOW / 2;
    await raw.until(base + sent - WINDOW / 2);
  }
  await raw.until(base + sent);
  return sent / ((performance.now() - start) / 1000);
}

async function sequential(raw: RawQmp, seconds: number): Promise<number> {
  const start = performance.now();
  const end = start + seconds * 1000;
  let done = 0;
  while (performance.now() < end) {
    await raw.send(WRITE);
    await raw.send(READ);
    done += 2;
  }
  return done / ((performance.now() - start) / 1000);
}

/**
 * Resident KiB of `pid`: all of it (VmRSS), and its private anonymous part
 * (RssAnon: heaps, the ring storage), without the file-backed pages (RssFile:
 * the program's code, which a JIT compiler's first use pulls in once).
 */
function resident(pid: number): { all: number; anon: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { all: field('VmRSS'), anon: field('RssAnon') };
}

interface Memory {
  readonly baselineKiB: number;
  readonly filledKiB: number;
  readonly baselineAnonKiB: number;
  readonly filledAnonKiB: number;
}

/**
 * Resident memory of a fresh `start()`ed server before and after COUNT
 * filled ringbufs of RING_SIZE bytes. Nothing is written before the
 * baseline: memory a server grows on its first large requests (a
 * garbage-collected heap, parse buffers) is memory those ringbufs cost.
 */
async function memory(start: () => Promise<ServerProcess>): Promise<Memory> {
  const server = await start();
  try {
    const raw = await RawQmp.open(server.qmpPath);
    // Settled after start-up, the same wait for both servers.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const baseline = resident(server.pid);
    const fill = Buffer.alloc(RING_SIZE, 'chardevd ').toString('base64');
    for (let i = 0; i < COUNT; i++) {
      await raw.send(Buffer.from(`{"execute":"chardev-add","arguments":{"id":"m${i}","backend":{"type":"ringbuf","data":{"size":${RING_SIZE}}}}}`));
      await raw.send(Buffer.from(`{"execute":"ringbuf-write","arguments":{"device":"m${i}","data":"${fill}","format":"base64"}}`));
    }
    // Let a garbage-collected runtime settle before reading its resident size.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const filled = resident(server.pid);
    raw.close();
    return { baselineKiB: baseline.all, filledKiB: filled.all, baselineAnonKiB: baseline.anon, filledAnonKiB: filled.anon };
  } finally {
    await server.stop();
  }
}

async function rates(server: ServerProcess): Promise<{ pipelined: number; sequential: number }> {
  const raw = await RawQmp.open(server.qmpPath);
  try {
    await raw.send(Buffer.from(`{"execute":"chardev-add","arguments":{"id":"bench","backend":{"type":"ringbuf","data":{"size":${RING_SIZE}}}}}`));
    await pipelined(raw, 0.2);
    const rate = await pipelined(raw, SECONDS);
    const seq = await sequential(raw, SECONDS);
    return { pipelined: rate, sequential: seq };
  } finally {
    raw.socket.destroy();
  }
}

console.log(describeRun([QEMU_PEER()]));
const qemu = await startQemu();
const chardevd = await startChardevd();
let theirs: { pipelined: number; sequential: number };
let ours: { pipelined: number; sequential: number };
try {
  theirs = await rates(qemu);
  ours = await rates(chardevd);
} finally {
  await Promise.all([qemu.stop(), chardevd.stop()]);
}
const theirMemory = await memory(() => startQemu());
const ourMemory = await memory(() => startChardevd());
const perRing = (m: Memory): number => (m.filledKiB - m.baselineKiB) / COUNT;
const anonPerRing = (m: Memory): number => (m.filledAnonKiB - m.baselineAnonKiB) / COUNT;
console.log(
  `ringbuf-write (64 bytes) and ringbuf-read (64) alternating over one connection, ${SECONDS} s each; ${COUNT} ringbufs of ${RING_SIZE} bytes in fresh servers`,
);
console.log(
  comparisonTable('QEMU 7.2', [
    { measure: `commands/s, pipelined (window ${WINDOW})`, ours: ours.pipelined, peer: theirs.pipelined },
    { measure: 'commands/s, sequential', ours: ours.sequential, peer: theirs.sequential },
    { measure: 'resident KiB, fresh server after negotiation', ours: ourMemory.baselineKiB, peer: theirMemory.baselineKiB },
    { measure: `resident KiB with ${COUNT} filled ringbufs`, ours: ourMemory.filledKiB, peer: theirMemory.filledKiB },
    { measure: 'resident KiB per filled 64 KiB ringbuf', ours: perRing(ourMemory), peer: perRing(theirMemory), digits: 1 },
    { measure: 'private (RssAnon) KiB of it per ringbuf', ours: anonPerRing(ourMemory), peer: anonPerRing(theirMemory), digits: 1 },
  ]),
);
console.log(
  'The rest of the resident growth is file-backed (RssFile): pages of the program itself read in for the first time, such as a JIT compiler’s code the first time it runs.',
);
