import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import fc from 'fast-check';
import { ConfigError, parseConfig, readConfigFile } from '../../src/daemon/config.js';
import { checkProperty, shortText } from '../support/fuzz-run.js';
import { internalLeak } from '../support/internal-leak.js';
import { configText } from './config-input.js';

/** Reads a config (a file or a text); it returns or throws ConfigError, and neither its message nor its warnings show internals. */
function readsCleanly(text: string, read: (warn: (message: string) => void) => unknown): void {
  const texts: string[] = [];
  try {
    read((message) => texts.push(message));
  } catch (error: unknown) {
    if (!(error instanceof ConfigError)) {
      throw new Error(`threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`.slice(0, 400));
    }
    texts.push(error.message);
  }
  for (const message of texts) {
    const leak = internalLeak(message, text);
    if (leak !== undefined) throw new Error(`a message shows internals (${JSON.stringify(leak)}): ${shortText(message)}`);
  }
}

suite('fuzz: the config file', () => {
  test('parseConfig and readConfigFile return, or throw ConfigError without internals', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'chardevd-fuzz-config-'));
    const path = join(dir, 'fuzz.yaml');
    try {
      await checkProperty(
        t,
        fc.property(configText, (text) => {
          readsCleanly(text, (warn) => parseConfig(text, 'fuzz.yaml', warn));
          writeFileSync(path, text);
          readsCleanly(text, (warn) => readConfigFile(path, warn));
        }),
        300,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A chardev object whose `size` is an alias bomb of `levels` levels: 10^levels scalars once expanded. */
function aliasBomb(levels: number): string {
  const members = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < levels; i++) members.push(`a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]`);
  return `{ id: c0, backend: { type: ringbuf, data: { ${members.join(', ')}, size: *a${levels - 1} } } }`;
}

suite('config files the fuzz suite found refused badly', () => {
  test('deep nesting is refused by depth, before YAML runs out of stack ("Maximum call stack size exceeded")', () => {
    const refuse = (text: string, message: string): void => assert.throws(() => parseConfig(text, 'c.yaml', () => {}), new ConfigError(message));
    // The top-level mapping is the first level.
    refuse(`chardevs: ${'['.repeat(1000)}${']'.repeat(1000)}`, 'c.yaml:1:74: collections nested deeper than 64 levels');
    refuse(`chardevs:\n  - ${'{a: '.repeat(1000)}1${'}'.repeat(1000)}`, 'c.yaml:2:253: collections nested deeper than 64 levels');
    refuse(`chardevs:\n  - ${'- '.repeat(1000)}x`, 'c.yaml:2:129: collections nested deeper than 64 levels');
    assert.throws(
      () => parseConfig(`chardevs: [${'['.repeat(62)}${']'.repeat(62)}]`, 'c.yaml', () => {}),
      /^ConfigError: c\.yaml:1: chardevs\[0\]: expected a -chardev string/,
    );
  });

  test('an alias bomb in an item is a ConfigError, not a ReferenceError from YAML', () => {
    const message = 'Excessive alias count indicates a resource exhaustion attack';
    assert.throws(() => parseConfig(`chardevs:\n  - ${aliasBomb(3)}\n`, 'c.yaml', () => {}), new ConfigError(`c.yaml:2: chardevs[0]: ${message}`));
    assert.throws(
      () =>
        parseConfig(
          'devices:\n  - { driver: link, a0: &a0 [x, x, x, x, x, x, x, x, x, x], a1: &a1 [*a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0], a2: [*a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1] }\n',
          'c.yaml',
          () => {},
        ),
      new ConfigError(`c.yaml:2: devices[0]: ${message}`),
    );
  });
});
