import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite, test } from 'node:test';
import fc from 'fast-check';
import { ChardevOptionError, checkChardevOption, parseChardevOption } from '../support/chardev-option-api.js';
import { checkProperty, fuzzRuns, fuzzSeed, shortText } from '../support/fuzz-run.js';
import { internalLeak } from '../support/internal-leak.js';
import { chardevText } from './chardev-input.js';
import { CHARDEVD } from '../support/paths.js';

/** How long one chardevd may take to exit. */
const EXIT_WAIT_MS = 10_000;
/** Processes started at once. */
const PARALLEL = 3;

/** Returns normally or throws a ChardevOptionError (a ChardevHelpRequest is one) whose texts show no internals. */
function callsCleanly(text: string, call: () => { readonly warnings: readonly string[] }): void {
  let texts: readonly string[];
  try {
    texts = call().warnings;
  } catch (error: unknown) {
    if (!(error instanceof ChardevOptionError)) {
      throw new Error(`threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`.slice(0, 400));
    }
    texts = [error.message, ...error.warnings];
  }
  for (const message of texts) {
    const leak = internalLeak(message, text);
    if (leak !== undefined) throw new Error(`a message shows internals (${JSON.stringify(leak)}): ${shortText(message)}`);
  }
}

interface Outcome {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** A socket server held startup for its first client (QEMU's wait=on) and was told to stop. */
  readonly held: boolean;
}

/**
 * Runs `chardevd -chardev TEXT -chardev null` in an empty directory: the
 * second chardev has no id, so once TEXT is created (or refused) the
 * daemon stops with an error, whatever TEXT is. A socket server that
 * waits for its first client is stopped with SIGTERM once it says so.
 */
function runChardevd(text: string, dir: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHARDEVD, '-chardev', text, '-chardev', 'null'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let held = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`chardevd -chardev ${JSON.stringify(text)} did not exit within ${EXIT_WAIT_MS} ms; stderr: ${stderr.slice(0, 400)}`));
    }, EXIT_WAIT_MS);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (!held && stderr.includes('waiting for connection on:')) {
        held = true;
        child.kill('SIGTERM');
      }
    });
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, held });
    });
  });
}

/** What chardevd says about a -chardev value: help on stdout, or a report whose first line is named, never internals. */
function checkOutcome(text: string, outcome: Outcome): void {
  const { status, stdout, stderr, held } = outcome;
  const lines = stderr.split('\n').filter((line) => line !== '');
  const leak = internalLeak(stderr, text);
  if (leak !== undefined) throw new Error(`stderr shows internals (${JSON.stringify(leak)}): ${shortText(stderr)}`);
  if (held) return;
  if (status !== 0 && status !== 1) throw new Error(`exit status ${status}; stderr: ${shortText(stderr)}`);
  if (lines.length === 0) {
    // Only help ends without a report: the backend list (status 0) or an option list (status 1).
    if (stdout === '') throw new Error(`exit status ${status} with nothing on stdout or stderr`);
    return;
  }
  if (status !== 1) throw new Error(`exit status ${status} after a report: ${shortText(stderr)}`);
  if (!lines[0]!.startsWith('chardevd: ')) throw new Error(`the report's first line is not chardevd's: ${shortText(stderr)}`);
  // A report is a line or two (a warning, the error) and its hints; a trace would be many more.
  if (lines.length > 8) throw new Error(`${lines.length} lines on stderr: ${shortText(stderr)}`);
}

/**
 * Values for processes: two in three that parse, so that chardevd goes on
 * to create the chardev (the parse errors are the in-process property's),
 * none with a NUL (no argument can hold one) or a `/` (files are created
 * in the process's own directory only).
 */
function processSamples(count: number): string[] {
  const candidates = fc.sample(
    chardevText.filter((text) => !text.includes('\0') && !text.includes('/')),
    { seed: fuzzSeed(), numRuns: count * 20 },
  );
  const parses = (text: string): boolean => {
    try {
      parseChardevOption(text);
      return true;
    } catch {
      return false;
    }
  };
  const good = candidates.filter(parses).slice(0, count - Math.floor(count / 3));
  const bad = candidates.filter((text) => !parses(text)).slice(0, count - good.length);
  return [...good, ...bad];
}

suite('fuzz: -chardev values', () => {
  test('parseChardevOption and checkChardevOption return, or throw ChardevOptionError without internals', async (t) => {
    await checkProperty(
      t,
      fc.property(chardevText, (text) => {
        callsCleanly(text, () => parseChardevOption(text, { warnedAliases: new Set() }));
        callsCleanly(text, () => checkChardevOption(text));
      }),
      3000,
    );
  });

  test('chardevd -chardev VALUE exits 1 with a named one-line report (and hints), or prints help; never a stack trace', async (t) => {
    const samples = processSamples(fuzzRuns(6, 0.002));
    t.diagnostic(`FUZZ_SEED=${fuzzSeed()}: ${samples.length} processes`);
    const dir = mkdtempSync(join(tmpdir(), 'chardevd-fuzz-'));
    try {
      const failures: string[] = [];
      for (let i = 0; i < samples.length; i += PARALLEL) {
        const batch = samples.slice(i, i + PARALLEL);
        const outcomes = await Promise.all(batch.map((text, j) => runChardevd(text, mkdtempSync(join(dir, `${i + j}-`)))));
        outcomes.forEach((outcome, j) => {
          try {
            checkOutcome(batch[j]!, outcome);
          } catch (error: unknown) {
            failures.push(`-chardev ${JSON.stringify(batch[j])}: ${(error as Error).message}`);
          }
        });
      }
      if (failures.length > 0) throw new Error(`${failures.length} of ${samples.length} failed:\n${failures.slice(0, 5).join('\n')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
