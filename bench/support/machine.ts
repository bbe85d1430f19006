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

/**
 * What a benchmark prints before its results, so that figures can be
 * compared only with figures from the same kind of machine: processors
 * (nproc) and their model, the load, Node's version, and the command.
 */
export function describeRun(): string {
  const script = relative(process.cwd(), process.argv[1] ?? '');
  return [
    `machine: ${availableParallelism()} processors (nproc), ${cpuModel()}, load average ${loadAverage()}, Node.js ${process.version}`,
    `command: node ${[script, ...process.argv.slice(2)].join(' ')}`,
  ].join('\n');
}
