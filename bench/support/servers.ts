/** Starts the servers a benchmark compares: chardevd and QEMU 7.2, each with a QMP unix socket. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ServerProcess {
  readonly qmpPath: string;
  readonly pid: number;
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 10_000;
const CHARDEVD = fileURLToPath(new URL('../../src/cli/chardevd.js', import.meta.url));

export function startQemu(extraArgs: readonly string[] = []): Promise<ServerProcess> {
  return start('qemu-system-x86_64', (qmp) => ['-machine', 'none', '-nodefaults', '-display', 'none', '-qmp', qmp, ...extraArgs]);
}

export function startChardevd(extraArgs: readonly string[] = []): Promise<ServerProcess> {
  return start(process.execPath, (qmp) => [CHARDEVD, '-qmp', qmp, ...extraArgs]);
}

async function start(command: string, args: (qmp: string) => string[]): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'chardevd-bench-'));
  const qmpPath = join(dir, 'qmp.sock');
  const child = spawn(command, args(`unix:${qmpPath},server=on,wait=off`), { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (!existsSync(qmpPath)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${command} did not create its QMP socket within ${STARTUP_TIMEOUT_MS} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { qmpPath, pid: child.pid!, stop: () => stop(child, exited, dir) };
}

async function stop(child: ChildProcess, exited: Promise<void>, dir: string): Promise<void> {
  if (child.exitCode === null) child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(timer);
  rmSync(dir, { recursive: true, force: true });
}
