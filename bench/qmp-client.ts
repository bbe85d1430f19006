/**
 * Pipelined QMP command rate of QmpClient against a raw-socket baseline,
 * in the same run, against the same chardevd (and QEMU 7.2 when
 * installed). The baseline writes the same request bytes, prepared once,
 * in batches and only counts reply lines: no parsing, no routing, no
 * promises, the least work a client can do. If QmpClient reaches about the same rate, the server is the
 * bottleneck and the client is not. Client CPU per command is this
 * process's CPU time (the server runs in its own process) divided by the
 * commands answered; its inverse is the rate the client could sustain on
 * one core of its own (the ceiling column). Run: npm run bench:qmp-client [-- --seconds N --window N]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { QmpClient } from '../src/client/qmp-client.js';
import { qemuSkipReason, startChardevd, startQemu, type ServerProcess } from '../test/support/servers.js';
import { describeRun, QEMU_PEER } from './support/machine.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '2' }, window: { type: 'string', default: '256' } } });
const SECONDS = Number(values.seconds);
/** Clock ticks per second, the unit of /proc/PID/stat times. */
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
/** Requests kept in flight. */
const WINDOW = Number(values.window);

interface Measurement {
  readonly rate: number;
  /** Microseconds of this process's CPU per answered command. */
  readonly cpuUs: number;
  /** Microseconds of the server's CPU per answered command. */
  readonly serverCpuUs: number;
}

/** CPU time of a process so far, in microseconds (utime + stime of /proc/PID/stat). */
function processCpuUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  // After the command name: state is field 3, utime 14 and stime 15 (proc(5)), so indexes 11 and 12 here.
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
}

/** Runs `body` for `seconds`, returning commands answered per second and CPU per command. */
async function timed(serverPid: number, body: (deadline: number) => Promise<number>): Promise<Measurement> {
  const cpu = process.cpuUsage();
  const serverCpu = processCpuUs(serverPid);
  const start = performance.now();
  const count = await body(start + SECONDS * 1000);
  const elapsed = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return { rate: count / elapsed, cpuUs: (used.user + used.system) / count, serverCpuUs: (processCpuUs(serverPid) - serverCpu) / count };
}

/** Replies counted as they arrive, with a wait for a count to be reached. */
class AnswerCounter {
  answered = 0;
  #waiter: { count: number; resolve: () => void } | undefined;

  add(n: number): void {
    this.answered += n;
    if (this.#waiter !== undefined && this.answered >= this.#waiter.count) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter.resolve();
    }
  }

  until(count: number): Promise<void> {
    return this.answered >= count ? Promise.resolve() : new Promise((resolve) => (this.#waiter = { count, resolve }));
  }
}

/**
 * Both drivers run the same way: a batch of WINDOW/2 calls, the next one
 * once half the window is answered, first for a short warm-up, then timed.
 */
async function windowed(serverPid: number, answers: AnswerCounter, sendBatch: () => void): Promise<Measurement> {
  const run = async (deadline: number): Promise<number> => {
    const base = answers.answered;
    let sent = 0;
    while (performance.now() < deadline) {
      sendBatch();
      sent += WINDOW / 2;
      await answers.until(base + sent - WINDOW / 2);
    }
    await answers.until(base + sent);
    return sent;
  };
  await run(performance.now() + 200); // warm-up
  return timed(serverPid, run);
}

/** The baseline: negotiated raw connection, batches of requests, replies counted by newline. */
async function rawSocket(path: string, serverPid: number): Promise<Measurement> {
  const socket: Socket = connect(path);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.setNoDelay(true);
  const lines = new AnswerCounter();
  socket.on('data', (chunk: Buffer) => {
    let count = 0;
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) count++;
    lines.add(count);
  });
  try {
    await lines.until(1);
    socket.write('{"execute":"qmp_capabilities"}');
    await lines.until(2);
    // The same bytes QmpClient sends (ids of the same width), prepared once.
    const batch = Buffer.from(Array.from({ length: WINDOW / 2 }, (_, i) => `{"execute":"query-version","id":${100000 + i}}`).join(''));
    return await windowed(serverPid, lines, () => socket.write(batch));
  } finally {
    socket.destroy();
  }
}

/** QmpClient driven exactly as the baseline. */
async function qmpClient(path: string, serverPid: number): Promise<Measurement> {
  const client = await QmpClient.connect(path);
  try {
    const answers = new AnswerCounter();
    const done = (): void => answers.add(1);
    return await windowed(serverPid, answers, () => {
      for (let i = 0; i < WINDOW / 2; i++) client.queryVersion().then(done, (error: unknown) => console.error(error));
    });
  } finally {
    client.close();
  }
}

const servers: { name: string; start: () => Promise<ServerProcess> }[] = [{ name: 'chardevd', start: () => startChardevd() }];
if (qemuSkipReason() === undefined) servers.push({ name: 'QEMU 7.2', start: () => startQemu() });

console.log(describeRun(['a raw-socket client (the least work a client can do)', ...(qemuSkipReason() === undefined ? [QEMU_PEER()] : [])]));
console.log(`pipelined query-version per second over one unix connection, window ${WINDOW}, ${SECONDS} s each; ratio = QmpClient / raw socket`);
console.log(
  '| server   | QmpClient cmd/s | raw socket cmd/s | ratio | QmpClient CPU µs/cmd | raw CPU µs/cmd | QmpClient ceiling cmd/s | server CPU µs/cmd (QmpClient / raw) |',
);
console.log(
  '|----------|----------------:|-----------------:|------:|---------------------:|---------------:|------------------------:|------------------------------------:|',
);
for (const { name, start } of servers) {
  const server = await start();
  try {
    const raw = await rawSocket(server.qmpPath, server.pid);
    const ours = await qmpClient(server.qmpPath, server.pid);
    console.log(
      `| ${name.padEnd(8)} | ${ours.rate.toFixed(0).padStart(15)} | ${raw.rate.toFixed(0).padStart(16)} | ${(ours.rate / raw.rate).toFixed(2).padStart(5)} | ${ours.cpuUs.toFixed(2).padStart(20)} | ${raw.cpuUs.toFixed(2).padStart(14)} | ${(1e6 / ours.cpuUs).toFixed(0).padStart(23)} | ${`${ours.serverCpuUs.toFixed(2)} / ${raw.serverCpuUs.toFixed(2)}`.padStart(35)} |`,
    );
  } finally {
    await server.stop();
  }
}
