import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { relative } from 'node:path';

/** The CPU model as /proc/cpuinfo names it. */
function cpuModel(): string {
  try {
    return /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
  } catch {
    return 'unknown CPU';
  }
}

/** The 1, 5 and 15 minute load averages, for the record of how busy the machine was. */
export function loadAverage(): string {
  return loadavg()
    .map((load) => load.toFixed(2))
    .join(' ');
}

/** The line of `command ...args`'s output that names its version (else its first line), or why there is none. */
export function peerVersion(command: string, args: readonly string[]): string {
  let output: string;
  try {
    output = execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error: unknown) {
    output = `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`;
  }
  const lines = output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  return lines.find((line) => /version/i.test(line)) ?? lines[0] ?? `${command}: not installed`;
}

/**
 * What a benchmark prints before its results, so that figures can be
 * compared only with figures from the same kind of machine: processors
 * (nproc) and their model, the load, Node's version, the command, and the
 * peers it measures in the same run (their versions).
 */
export function describeRun(peers: readonly string[] = []): string {
  const script = relative(process.cwd(), process.argv[1] ?? '');
  return [
    `machine: ${availableParallelism()} processors (nproc), ${cpuModel()}, load average ${loadAverage()}, Node.js ${process.version}`,
    `command: node ${[script, ...process.argv.slice(2)].join(' ')}`,
    ...(peers.length > 0 ? [`peers in the same run: ${peers.join('; ')}`] : []),
  ].join('\n');
}

/** QEMU 7.2 as the benchmarks start it, by its version line. */
export const QEMU_PEER = (): string => peerVersion('qemu-system-x86_64', ['--version']);
