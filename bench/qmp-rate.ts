/**
 * QMP command rate over one connection, chardevd against QEMU 7.2, in the
 * same run: `query-version` answered sequentially (send, wait, send) and
 * pipelined (a window of requests in flight). Prints a table with the
 * ratio. Run: npm run bench:qmp-rate [-- --seconds N]
 *
 * The sequential driver is a small C program (bench/native/qmp-sequential.c,
 * compiled here with cc) so that the client's own latency distorts the
 * comparison as little as possible; it also measures a bare Node.js echo
 * server, the floor for any Node.js server's round trip on this machine.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { comparisonTable } from './support/compare.js';
import { describeRun, QEMU_PEER } from './support/machine.js';
import { RawQmp } from './support/raw-qmp.js';
import { startChardevd, startQemu, type ServerProcess } from '../test/support/servers.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '2' }, window: { type: 'string', default: '256' } } });
const SECONDS = Number(values.seconds);
/** Requests kept in flight when pipelining. */
const WINDOW = Number(values.window);
const REQUEST = Buffer.from('{"execute":"query-version"}');

const scratch = mkdtempSync(join(tmpdir(), 'chardevd-bench-'));
const SEQUENTIAL_CLIENT = join(scratch, 'qmp-sequential');
execFileSync('cc', ['-O2', '-o', SEQUENTIAL_CLIENT, fileURLToPath(new URL('../../bench/native/qmp-sequential.c', import.meta.url))]);

function sequentialNative(path: string, seconds: number): number {
  return Number(execFileSync(SEQUENTIAL_CLIENT, [path, String(seconds)], { encoding: 'utf8' }).trim());
}

/** A server that answers every read with one reply line and does nothing else. */
async function echoFloor(seconds: number): Promise<number> {
  const path = join(scratch, 'echo.sock');
  const server = createServer((socket) => {
    socket.write('{"QMP": {}}\r\n');
    socket.on('data', () => socket.write('{"return": {}}\r\n'));
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  try {
    // The client runs in its own process; this one must stay free to serve it.
    const { stdout } = await promisify(execFile)(SEQUENTIAL_CLIENT, [path, String(seconds)]);
    return Number(stdout.trim());
  } finally {
    server.close();
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  }
}

async function pipelined(raw: RawQmp, seconds: number): Promise<number> {
  const start = performance.now();
  const end = start + seconds * 1000;
  const base = raw.lines;
  let sent = 0;
  while (performance.now() < end) {
    // Keep WINDOW requests in flight: send a batch, wait until half of it is answered.
    const batch = Buffer.concat(Array.from({ length: WINDOW / 2 }, () => REQUEST));
    raw.socket.write(batch);
    sent += WINDOW / 2;
    await raw.until(base + sent - WINDOW / 2);
  }
  await raw.until(base + sent);
  return sent / ((performance.now() - start) / 1000);
}

async function measure(server: ServerProcess): Promise<{ sequential: number; pipelined: number }> {
  const raw = await RawQmp.open(server.qmpPath);
  let rate: number;
  try {
    await pipelined(raw, 0.2); // warm-up
    rate = await pipelined(raw, SECONDS);
  } finally {
    raw.socket.destroy();
  }
  return { sequential: sequentialNative(server.qmpPath, SECONDS), pipelined: rate };
}

console.log(describeRun([QEMU_PEER()]));
const qemu = await startQemu();
const chardevd = await startChardevd();
try {
  const theirs = await measure(qemu);
  const ours = await measure(chardevd);
  console.log(`query-version per second over one connection, ${SECONDS} s each, pipelined window ${WINDOW}`);
  console.log(
    comparisonTable('QEMU 7.2', [
      { measure: 'sequential, commands/s', ours: ours.sequential, peer: theirs.sequential },
      { measure: 'pipelined, commands/s', ours: ours.pipelined, peer: theirs.pipelined },
    ]),
  );
  const floor = await echoFloor(SECONDS);
  console.log(`floor: a bare Node.js echo server answers ${floor.toFixed(0)} sequential round trips per second with the same client`);
} finally {
  await Promise.all([qemu.stop(), chardevd.stop()]);
  rmSync(scratch, { recursive: true, force: true });
}
