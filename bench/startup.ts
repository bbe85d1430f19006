/**
 * Start-up time, in the same run against its peers:
 * - daemon start to QMP greeting: chardevd and QEMU 7.2 (`-machine none
 *   -nodefaults -display none`), each started with `-qmp
 *   unix:PATH,server=on,wait=off`; the clock runs from the spawn until
 *   the greeting line has arrived on a connection retried every
 *   millisecond. Rounds alternate, median of N. A Node.js program that
 *   does nothing but listen and send a greeting line runs in the same
 *   rounds: the floor of any Node.js daemon on the machine.
 * - a one-shot `chardevctl query-version` against a running chardevd,
 *   and `node -e 0` (the floor of any Node.js program on the machine),
 *   timed by hyperfine.
 * Run: npm run bench:startup [-- --runs N]
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CHARDEVCTL, CHARDEVD } from '../test/support/paths.js';
import { qemuSkipReason, startChardevd } from '../test/support/servers.js';
import { describeRun, loadAverage, QEMU_PEER } from './support/machine.js';
import { processUsage } from './support/process-stat.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
const RUNS = Number(values.runs);
const GREETING_TIMEOUT_MS = 20_000;

/** Resolves with the first line a unix socket server sends, connecting again every millisecond until it listens. */
async function firstLine(path: string, child: ChildProcess, deadline: number): Promise<void> {
  for (;;) {
    const line = await new Promise<boolean>((resolve) => {
      const socket = connect(path);
      let text = '';
      socket.on('data', (data: Buffer) => {
        text += data.toString('latin1');
        if (text.includes('\n')) {
          socket.destroy();
          resolve(true);
        }
      });
      socket.once('error', () => resolve(false));
      socket.once('close', () => resolve(false));
    });
    if (line) return;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no QMP greeting on ${path}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

interface Start {
  /** Milliseconds from the spawn to the greeting. */
  readonly ms: number;
  /** The server's CPU time (user + system) until then, in ms. */
  readonly cpuMs: number;
}

/** Time from spawning `command` to its QMP greeting; the process is ended afterwards. */
async function startToGreeting(command: string, args: (qmp: string) => string[]): Promise<Start> {
  const dir = mkdtempSync(join(tmpdir(), 'chardevd-bench-startup-'));
  const path = join(dir, 'qmp.sock');
  const start = performance.now();
  const child = spawn(command, args(`unix:${path},server=on,wait=off`), { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await firstLine(path, child, Date.now() + GREETING_TIMEOUT_MS);
    const ms = performance.now() - start;
    return { ms, cpuMs: processUsage(child.pid!).cpuMs };
  } finally {
    child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

const chardevd = (): Promise<Start> => startToGreeting(process.execPath, (qmp) => [CHARDEVD, '-qmp', qmp]);
/** The least a Node.js daemon does before its greeting: listen on the socket, greet each client. */
const FLOOR_SCRIPT = `require('node:net').createServer((s) => s.end('{"QMP": {}}\\n')).listen(process.argv[1].slice(5).split(',')[0])`;
const nodeFloor = (): Promise<Start> => startToGreeting(process.execPath, (qmp) => ['-e', FLOOR_SCRIPT, qmp]);
const qemu = (): Promise<Start> => startToGreeting('qemu-system-x86_64', (qmp) => ['-machine', 'none', '-nodefaults', '-display', 'none', '-qmp', qmp]);

interface Hyperfine {
  readonly command: string;
  /** Seconds. */
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly user: number;
  readonly system: number;
}

/** Times each command with hyperfine (3 warm-up runs), returning its JSON results. */
function hyperfine(commands: string[]): Hyperfine[] {
  const dir = mkdtempSync(join(tmpdir(), 'chardevd-bench-hyperfine-'));
  try {
    const json = join(dir, 'results.json');
    execFileSync('hyperfine', ['--warmup', '3', '-r', String(RUNS), '-N', '--style', 'none', '--export-json', json, ...commands], { stdio: 'ignore' });
    return (JSON.parse(readFileSync(json, 'utf8')) as { results: Hyperfine[] }).results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (list: number[]): number => {
  const sorted = [...list].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const range = (list: number[]): string => `${Math.min(...list).toFixed(0)}–${Math.max(...list).toFixed(0)}`;

const skip = qemuSkipReason();
if (skip !== undefined) throw new Error(skip);
try {
  execFileSync('hyperfine', ['--version'], { stdio: 'ignore' });
} catch {
  throw new Error('hyperfine is not installed (apt-get install hyperfine)');
}
console.log(describeRun([QEMU_PEER()]));

const ours: Start[] = [];
const theirs: Start[] = [];
const floor: Start[] = [];
for (let round = 0; round < RUNS; round++) {
  // Alternate which goes first, so that a machine that gets busier or quieter favours neither.
  if (round % 2 === 0) {
    ours.push(await chardevd());
    theirs.push(await qemu());
  } else {
    theirs.push(await qemu());
    ours.push(await chardevd());
  }
  floor.push(await nodeFloor());
}
const ms = (starts: Start[]): number[] => starts.map((start) => start.ms);
const cpu = (starts: Start[]): number[] => starts.map((start) => start.cpuMs);
console.log(`\nstart to QMP greeting, ms, median of ${RUNS} alternating rounds (range); the server's CPU time until then (10 ms ticks)`);
console.log('| server | to greeting | range | ratio | CPU | range | ratio |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const [name, starts] of [
  ['chardevd', ours],
  ['QEMU 7.2', theirs],
  ['Node.js listening and greeting, nothing else', floor],
] as const) {
  const ratio = (of: (s: Start[]) => number[]): string => `${(median(of(starts)) / median(of(theirs))).toFixed(2)}x`;
  console.log(
    `| ${name} | ${median(ms(starts)).toFixed(0)} | ${range(ms(starts))} | ${ratio(ms)} | ${median(cpu(starts)).toFixed(0)} | ${range(cpu(starts))} | ${ratio(cpu)} |`,
  );
}

const daemon = await startChardevd();
try {
  const results = hyperfine([`${process.execPath} ${CHARDEVCTL} -s ${daemon.qmpPath} query-version`, `${process.execPath} -e 0`]);
  console.log(`\none-shot commands, ms, hyperfine --warmup 3 -r ${RUNS} -N: median (range), CPU user + system (mean)`);
  console.log('| command | median | range | CPU |');
  console.log('|---|---:|---:|---:|');
  const ms = (seconds: number): string => (seconds * 1000).toFixed(0);
  for (const [name, result] of [
    ['chardevctl query-version', results[0]!],
    ['node -e 0', results[1]!],
  ] as const) {
    console.log(`| ${name} | ${ms(result.median)} | ${ms(result.min)}–${ms(result.max)} | ${ms(result.user)} + ${ms(result.system)} |`);
  }
} finally {
  await daemon.stop();
}
console.log(`\nload average after the runs ${loadAverage()}`);
