/** Starts chardevd and QEMU 7.2, each with a QMP unix socket in a fresh temporary directory, for tests and benchmarks. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHARDEVD } from './paths.js';

export interface ServerProcess {
  readonly qmpPath: string;
  /** A temporary directory removed by stop(). */
  readonly dir: string;
  readonly pid: number;
  /** What the process wrote to stderr so far. */
  stderr(): string;
  /** Settles with the exit status (null when killed by a signal) once the process has exited. */
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 10_000;

/** Why QEMU-based tests cannot run here, or undefined when they can. */
export function qemuSkipReason(): string | undefined {
  const found = (process.env['PATH'] ?? '').split(':').some((dir) => existsSync(join(dir, 'qemu-system-x86_64')));
  return found ? undefined : 'qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)';
}

/** More arguments, possibly naming files in the server's temporary directory. */
export type ExtraArgs = readonly string[] | ((dir: string) => string[]);

export function startQemu(extraArgs: ExtraArgs = []): Promise<ServerProcess> {
  return start('qemu-system-x86_64', (qmp) => ['-machine', 'none', '-nodefaults', '-display', 'none', '-qmp', qmp], extraArgs);
}

/** `inherit`: descriptors of this process the server inherits as 3, 4, ... (`-chardev socket,fd=3`). */
export function startChardevd(extraArgs: ExtraArgs = [], inherit: readonly number[] = []): Promise<ServerProcess> {
  return start(process.execPath, (qmp) => [CHARDEVD, '-qmp', qmp], extraArgs, inherit);
}

async function start(command: string, args: (qmp: string) => string[], extraArgs: ExtraArgs, inherit: readonly number[] = []): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'chardevd-test-'));
  const qmpPath = join(dir, 'qmp.sock');
  const extra = typeof extraArgs === 'function' ? extraArgs(dir) : extraArgs;
  const child = spawn(command, [...args(`unix:${qmpPath},server=on,wait=off`), ...extra], { stdio: ['ignore', 'ignore', 'pipe', ...inherit] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  // The socket file exists from bind() on, but connections are refused until listen(): wait for that.
  while (!isListening(qmpPath)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${command} did not create its QMP socket within ${STARTUP_TIMEOUT_MS} ms: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { qmpPath, dir, pid: child.pid!, stderr: () => stderr, exited, stop: () => stop(child, exited, dir) };
}

/** Waits, bounded, until a unix socket at `path` listens: a server's second listener opens after its first. */
export async function untilListening(path: string, timeoutMs = STARTUP_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!isListening(path)) {
    if (Date.now() > deadline) throw new Error(`nothing listens on ${path} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Whether a unix socket at `path` is listening (/proc/net/unix flags __SO_ACCEPTCON), without connecting to it. */
function isListening(path: string): boolean {
  if (!existsSync(path)) return false;
  return readFileSync('/proc/net/unix', 'utf8')
    .split('\n')
    .some((line) => {
      const fields = line.trim().split(/\s+/);
      return fields[7] === path && (parseInt(fields[3] ?? '0', 16) & 0x10000) !== 0;
    });
}

async function stop(child: ChildProcess, exited: Promise<number | null>, dir: string): Promise<void> {
  if (child.exitCode === null) child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(timer);
  rmSync(dir, { recursive: true, force: true });
}
