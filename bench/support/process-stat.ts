import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second, the unit of /proc/PID/stat times. */
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

export interface ProcessUsage {
  /** User + system CPU time so far, in ms. */
  readonly cpuMs: number;
  /** Minor page faults so far. */
  readonly minorFaults: number;
}

/** CPU time and minor page faults of a running process (/proc/PID/stat, proc(5)). */
export function processUsage(pid: number): ProcessUsage {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // After the command name in parentheses: minflt is field 10, utime 14 and stime 15, so indexes 7, 11 and 12 here.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { cpuMs: ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS, minorFaults: Number(fields[7]) };
}
