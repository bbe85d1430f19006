import type { TestContext } from 'node:test';
import fc from 'fast-check';

/**
 * How the fuzz properties run. Under `npm test` every property has a fixed
 * seed and a small number of runs, so the suite is deterministic and quick.
 * `npm run fuzz` sets FUZZ_RUNS (a large number) and no seed: each property
 * then runs that many times (processes a share of it) from a random seed,
 * which it prints. A failure prints its seed and path; FUZZ_SEED (with the
 * same FUZZ_RUNS) replays the whole run, FUZZ_PATH as well jumps straight
 * to the failing case.
 */

/** The seed of `npm test`: any fixed number. */
const QUICK_SEED = 18;
/** How much of a failing input or error a report shows. */
const REPORT_CHARS = 600;

function envNumber(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, not ${JSON.stringify(text)}`);
  return value;
}

const longRuns = envNumber('FUZZ_RUNS');
const fixedSeed = envNumber('FUZZ_SEED');
const replayPath = process.env['FUZZ_PATH'];

/**
 * The runs of a property: `quick` under `npm test`; with FUZZ_RUNS, that
 * number times `share` (properties that start a process per run take a
 * small share), never fewer than `quick`.
 */
export function fuzzRuns(quick: number, share = 1): number {
  return longRuns === undefined ? quick : Math.max(quick, Math.round(longRuns * share));
}

const seed = fixedSeed ?? (longRuns === undefined ? QUICK_SEED : Math.floor(Math.random() * 0x7fffffff));

/** The seed of this process's properties (each property starts from it). */
export function fuzzSeed(): number {
  return seed;
}

/** A value as a report shows it: one line, cut short. */
export function shortText(value: unknown): string {
  let text: string;
  try {
    text = fc.stringify(value);
  } catch {
    text = String(value);
  }
  return text.length > REPORT_CHARS ? `${text.slice(0, REPORT_CHARS)}... (${text.length} chars)` : text;
}

/**
 * Checks a property and fails the test with a short report: the seed and
 * path to replay it and the shrunk counterexample, cut short (an input can
 * be megabytes). The seed is printed as a diagnostic in every mode.
 */
export async function checkProperty<Ts>(t: TestContext, property: fc.IProperty<Ts> | fc.IAsyncProperty<Ts>, quickRuns: number, share = 1): Promise<void> {
  const numRuns = fuzzRuns(quickRuns, share);
  t.diagnostic(`FUZZ_SEED=${seed} FUZZ_RUNS=${longRuns ?? '(npm test)'}: ${numRuns} runs`);
  const params: fc.Parameters<Ts> = replayPath === undefined ? { seed, numRuns } : { seed, numRuns, path: replayPath, endOnFailure: true };
  const details = await fc.check(property as fc.IAsyncProperty<Ts>, params);
  if (!details.failed) return;
  const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  throw new Error(
    [
      `property failed after ${details.numRuns} runs and ${details.numShrinks} shrinks`,
      `replay: FUZZ_SEED=${details.seed} FUZZ_PATH=${details.counterexamplePath ?? ''}${longRuns === undefined ? '' : ` FUZZ_RUNS=${longRuns}`}`,
      `counterexample: ${shortText(details.counterexample)}`,
      `error: ${error.length > REPORT_CHARS ? `${error.slice(0, REPORT_CHARS)}...` : error}`,
    ].join('\n'),
  );
}
