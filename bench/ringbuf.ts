/**
 * Ring buffer benchmarks, chardevd against QEMU 7.2 in the same run:
 *  - alternating ringbuf-write / ringbuf-read commands over one
 *    connection, pipelined (a window in flight) and sequential;
 *  - resident memory per ringbuf: 1,000 ringbufs of 64 KiB, each filled.
 * Run: npm run bench:ringbuf [-- --seconds N --count N]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
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

function residentKiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? NaN);
}

/** Resident memory added per ringbuf by COUNT filled ringbufs of RING_SIZE bytes. */
async function memoryPerRingbuf(server: ServerProcess, raw: RawQmp): Promise<number> {
  const fill = Buffer.alloc(RING_SIZE, 'chardevd ').toString('base64');
  // The first large requests grow a server's buffers once (a garbage-collected heap, socket
  // buffers); that is not memory per ringbuf, so both servers get them before the count starts.
  for (let i = 0; i < 50; i++) {
    await raw.send(Buffer.from(`{"execute":"ringbuf-write","arguments":{"device":"bench","data":"${fill}","format":"base64"}}`));
  }
  const before = residentKiB(server.pid);
  for (let i = 0; i < COUNT; i++) {
    await raw.send(Buffer.from(`{"execute":"chardev-add","arguments":{"id":"m${i}","backend":{"type":"ringbuf","data":{"size":${RING_SIZE}}}}}`));
    await raw.send(Buffer.from(`{"execute":"ringbuf-write","arguments":{"device":"m${i}","data":"${fill}","format":"base64"}}`));
  }
  // Let a garbage-collected runtime settle before reading its resident size.
  await new Promise((resolve) => setTimeout(resolve, 500));
  return (residentKiB(server.pid) - before) / COUNT;
}

async function measure(server: ServerProcess): Promise<{ pipelined: number; sequential: number; kib: number }> {
  const raw = await RawQmp.open(server.qmpPath);
  try {
    await raw.send(Buffer.from(`{"execute":"chardev-add","arguments":{"id":"bench","backend":{"type":"ringbuf","data":{"size":${RING_SIZE}}}}}`));
    await pipelined(raw, 0.2);
    const rate = await pipelined(raw, SECONDS);
    const seq = await sequential(raw, SECONDS);
    const kib = await memoryPerRingbuf(server, raw);
    return { pipelined: rate, sequential: seq, kib };
  } finally {
    raw.socket.destroy();
  }
}

const qemu = await startQemu();
const chardevd = await startChardevd();
try {
  const theirs = await measure(qemu);
  const ours = await measure(chardevd);
  const row = (name: string, a: number, b: number, digits = 0): string =>
    `| ${name.padEnd(40)} | ${a.toFixed(digits).padStart(10)} | ${b.toFixed(digits).padStart(10)} | ${(a / b).toFixed(2).padStart(6)}x |`;
  console.log(`ringbuf-write (64 bytes) and ringbuf-read (64) alternating over one connection, ${SECONDS} s each; ${COUNT} ringbufs of ${RING_SIZE} bytes`);
  console.log('| measure                                  |   chardevd |   QEMU 7.2 |  ratio |');
  console.log('|------------------------------------------|-----------:|-----------:|-------:|');
  console.log(row(`commands/s, pipelined (window ${WINDOW})`, ours.pipelined, theirs.pipelined));
  console.log(row('commands/s, sequential', ours.sequential, theirs.sequential));
  console.log(row('resident KiB per filled 64 KiB ringbuf', ours.kib, theirs.kib, 1));
} finally {
  await Promise.all([qemu.stop(), chardevd.stop()]);
}
