/**
 * The web console's fan-out: one console's output delivered to 1, 20
 * and 100 WebSocket viewers, and the server's memory while one viewer
 * never reads, measured for chardevd's web console and for a plain `ws`
 * relay (bench/support/ws-relay.ts: every chunk to every client with
 * ws.send(), no flow control) in the same run. ttyd and gotty, the usual
 * terminal-sharing servers, cannot be installed from the Debian sources
 * here (apt has no candidate), so the relay stands in for them.
 *
 * The data path is a real one for both: a guest client writes into a
 * unix socket (for chardevd a socket chardev, linked to a hub that every
 * viewer joins), and each viewer is a WebSocket client in this process
 * that acknowledges what it gets (chardevd's protocol; the relay ignores
 * the acknowledgements). The guest keeps at most a window of bytes ahead
 * of the slowest viewer, so no viewer falls behind far enough to lose
 * output in chardevd; the figure is what every viewer receives per
 * second, and the server's CPU time per MiB delivered to all.
 *
 * The memory run streams --stall-mib past a viewer whose socket is
 * paused (it reads nothing), paced by a second viewer that reads: the
 * relay keeps everything for the stalled one, chardevd at most its
 * window and queue.
 *
 * Run: npm run bench:web-fanout [-- --seconds 2 --warmup-seconds 1 --viewers 1,20,100 --stall-mib 256]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connectGuest, RawViewer, startWebDaemon } from '../test/support/web-daemon.js';
import { describeRun } from './support/machine.js';
import { processUsage } from './support/process-stat.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '2' },
    viewers: { type: 'string', default: '1,20,100' },
    'stall-mib': { type: 'string', default: '256' },
    'warmup-seconds': { type: 'string', default: '1' },
  },
});
const ROUND_MS = Number(values.seconds) * 1000;
/** A cold daemon runs unoptimised code for its first hundreds of MiB (see bench/hub-fanout.ts). */
const WARMUP_MS = Number(values['warmup-seconds']) * 1000;
const VIEWER_COUNTS = values.viewers.split(',').map(Number);
const STALL_TOTAL = Number(values['stall-mib']) << 20;
const CHUNK = 64 << 10;
/** How far the guest may be ahead of the slowest viewer: under chardevd's per-viewer window and queue, so nobody drops. */
const WINDOW = 512 << 10;
const RELAY = fileURLToPath(new URL('./support/ws-relay.js', import.meta.url));

interface Server {
  readonly name: string;
  readonly pid: number;
  readonly base: string;
  readonly guestPath: string;
  stop(): Promise<void>;
}

/** Whether a server greets its viewers (chardevd's hello; the relay says nothing). */
const greets = (server: Server): boolean => server.name === 'chardevd';

async function startOurs(): Promise<Server> {
  // A queue of 1 MiB per viewer, the hub's default.
  const daemon = await startWebDaemon();
  return { name: 'chardevd', pid: daemon.server.pid, base: daemon.base, guestPath: daemon.guestPath, stop: () => daemon.stop() };
}

async function startRelay(): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'chardevd-relay-'));
  const guestPath = join(dir, 'guest.sock');
  const child: ChildProcess = spawn(process.execPath, [RELAY, guestPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').once('data', (text: string) => resolve(Number(text.trim())));
    child.once('exit', () => reject(new Error('the relay exited')));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name: 'ws relay',
    pid: child.pid!,
    base: `http://127.0.0.1:${port}`,
    guestPath,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Writes chunks while the guest is less than `window` ahead of the slowest of `pace`; resolves after `ms`. */
function stream(guest: Socket, pace: readonly RawViewer[], window: number, until: () => boolean): Promise<number> {
  let written = 0;
  const chunk = Buffer.alloc(CHUNK, 'x');
  return new Promise((resolve) => {
    const pump = (): void => {
      if (until()) {
        for (const viewer of pace) viewer.onOutput = undefined;
        resolve(written);
        return;
      }
      let slowest = Infinity;
      for (const viewer of pace) slowest = Math.min(slowest, viewer.received);
      while (written - slowest < window && !until()) {
        guest.write(chunk);
        written += chunk.length;
      }
    };
    for (const viewer of pace) viewer.onOutput = pump;
    const timer = setInterval(pump, 50);
    const done = resolve;
    resolve = (value) => {
      clearInterval(timer);
      done(value);
    };
    pump();
  });
}

async function fanout(start: () => Promise<Server>, count: number): Promise<{ name: string; mibPerViewer: number; cpuMsPerMib: number }> {
  const server = await start();
  try {
    const viewers = await Promise.all(Array.from({ length: count }, () => RawViewer.open(server.base, 'console0', { keep: false, hello: greets(server) })));
    const { socket: guest } = await connectGuest(server.guestPath);
    // Warm up, then measure.
    let stop = Date.now() + WARMUP_MS;
    await stream(guest, viewers, WINDOW, () => Date.now() >= stop);
    const startReceived = Math.min(...viewers.map((viewer) => viewer.received));
    const cpuBefore = processUsage(server.pid).cpuMs;
    const started = performance.now();
    stop = Date.now() + ROUND_MS;
    await stream(guest, viewers, WINDOW, () => Date.now() >= stop);
    const seconds = (performance.now() - started) / 1000;
    const delivered = Math.min(...viewers.map((viewer) => viewer.received)) - startReceived;
    const cpuMs = processUsage(server.pid).cpuMs - cpuBefore;
    guest.destroy();
    for (const viewer of viewers) viewer.socket.terminate();
    const mib = delivered / (1 << 20);
    return { name: server.name, mibPerViewer: mib / seconds, cpuMsPerMib: cpuMs / (mib * count) };
  } finally {
    await server.stop();
  }
}

/** The server's peak resident memory after streaming STALL_TOTAL past a viewer that reads nothing. */
async function stalled(start: () => Promise<Server>): Promise<{ name: string; beforeMib: number; peakMib: number; read: number }> {
  const server = await start();
  try {
    const reader = await RawViewer.open(server.base, 'console0', { keep: false, hello: greets(server) });
    const stall = await RawViewer.open(server.base, 'console0', { keep: false, acking: false, hello: greets(server) });
    // Its socket reads nothing more: the kernel's buffers fill, then the server's.
    (stall.socket as unknown as { _socket: Socket })._socket.pause();
    const { socket: guest } = await connectGuest(server.guestPath);
    const before = memoryMib(server.pid, 'VmRSS');
    await stream(guest, [reader], WINDOW, () => reader.received >= STALL_TOTAL);
    const peak = memoryMib(server.pid, 'VmHWM');
    guest.destroy();
    reader.socket.terminate();
    stall.socket.terminate();
    return { name: server.name, beforeMib: before, peakMib: peak, read: stall.received };
  } finally {
    await server.stop();
  }
}

/** A figure of /proc/PID/status (VmRSS, VmHWM: the peak) in MiB. */
function memoryMib(pid: number, field: string): number {
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
}

console.log(describeRun());
console.log(`each round ${ROUND_MS / 1000} s after ${WARMUP_MS / 1000} s of warm-up; the guest at most ${WINDOW >> 10} KiB ahead of the slowest viewer`);
console.log('');
console.log('viewers | server   | MiB/s per viewer | server CPU ms per MiB delivered');
for (const count of VIEWER_COUNTS) {
  const ours = await fanout(startOurs, count);
  const relay = await fanout(startRelay, count);
  for (const row of [ours, relay]) {
    console.log(`${String(count).padStart(7)} | ${row.name.padEnd(8)} | ${row.mibPerViewer.toFixed(1).padStart(16)} | ${row.cpuMsPerMib.toFixed(2).padStart(10)}`);
  }
  console.log(
    `        | ratio    | ${(ours.mibPerViewer / relay.mibPerViewer).toFixed(2).padStart(15)}x | ${(ours.cpuMsPerMib / relay.cpuMsPerMib).toFixed(2).padStart(9)}x  (chardevd / relay)`,
  );
}
console.log('');
console.log(`one viewer that reads nothing while ${STALL_TOTAL >> 20} MiB stream past it (a second viewer reads):`);
const oursStall = await stalled(startOurs);
const relayStall = await stalled(startRelay);
for (const row of [oursStall, relayStall]) {
  console.log(
    `  ${row.name.padEnd(8)}: RSS ${row.beforeMib.toFixed(0).padStart(4)} MiB before, peak ${row.peakMib.toFixed(0).padStart(5)} MiB; the stalled viewer read ${(row.read / (1 << 20)).toFixed(1)} MiB of it`,
  );
}
const growth = (row: typeof oursStall): number => Math.max(1, row.peakMib - row.beforeMib);
console.log(
  `  ratio   : ${(oursStall.peakMib / relayStall.peakMib).toFixed(2)}x peak RSS, ${(growth(oursStall) / growth(relayStall)).toFixed(3)}x growth (chardevd / relay)`,
);
