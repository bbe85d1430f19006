import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, suite, test } from 'node:test';
import { ConfigWriter } from '../../../src/daemon/config-writer.js';

const WAIT_MS = 5000;
const DELAY_MS = 20;
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A writer of `dir/saved.yaml` whose text is `v<version>`, counting how often it was asked for the text. */
function setup(path?: string) {
  const dir = mkdtempSync(join(tmpdir(), 'chardevd-config-writer-'));
  dirs.push(dir);
  const file = path ?? join(dir, 'saved.yaml');
  const state = { version: 0, texts: 0, logged: [] as string[] };
  const writer = new ConfigWriter({
    path: file,
    text: () => {
      state.texts++;
      return `v${state.version}\n`;
    },
    log: (message) => state.logged.push(message),
    delayMs: DELAY_MS,
  });
  return { dir, file, state, writer };
}

/** Waits, bounded, until the file holds `text`. */
async function until(file: string, text: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!existsSync(file) || readFileSync(file, 'utf8') !== text) {
    if (Date.now() > deadline) throw new Error(`${file} never held ${JSON.stringify(text)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

suite('ConfigWriter', () => {
  test('writes nothing before start, then the configuration at start', async () => {
    const { file, state, writer } = setup();
    writer.changed();
    assert.equal(state.texts, 0);
    writer.start();
    await until(file, 'v0\n');
    await writer.stop();
  });

  test('a burst of changes is one write, of the configuration at its end', async () => {
    const { dir, file, state, writer } = setup();
    writer.start();
    await until(file, 'v0\n');
    const before = state.texts;
    for (let i = 1; i <= 50; i++) {
      state.version = i;
      writer.changed();
    }
    await until(file, 'v50\n');
    assert.equal(state.texts - before, 1);
    assert.deepEqual(readdirSync(dir), ['saved.yaml']);
    await writer.stop();
  });

  test('stop writes a pending change at once, and nothing after it', async () => {
    const { file, state, writer } = setup();
    writer.start();
    await until(file, 'v0\n');
    state.version = 1;
    writer.changed();
    await writer.stop();
    assert.equal(readFileSync(file, 'utf8'), 'v1\n');
    const texts = state.texts;
    state.version = 2;
    writer.changed();
    writer.start();
    await writer.stop();
    assert.equal(state.texts, texts);
    assert.equal(readFileSync(file, 'utf8'), 'v1\n');
  });

  test('a stop before start writes nothing', async () => {
    const { file, state, writer } = setup();
    writer.changed();
    await writer.stop();
    assert.equal(state.texts, 0);
    assert.equal(existsSync(file), false);
  });

  test('replaces the file by renaming a complete copy: a new inode, the same permissions, no temporary file left', async () => {
    const { dir, file, state, writer } = setup();
    writeFileSync(file, 'old\n');
    chmodSync(file, 0o600);
    const before = statSync(file);
    writer.start();
    await until(file, 'v0\n');
    const written = statSync(file);
    assert.notEqual(written.ino, before.ino);
    assert.equal(written.mode & 0o777, 0o600);
    state.version = 1;
    writer.changed();
    await until(file, 'v1\n');
    assert.deepEqual(readdirSync(dir), ['saved.yaml']);
    await writer.stop();
  });

  test('leaves a file that already holds the configuration alone', async () => {
    const { file, writer } = setup();
    writeFileSync(file, 'v0\n');
    const before = statSync(file);
    writer.start();
    await writer.stop();
    assert.equal(statSync(file).ino, before.ino);
  });

  test('logs a failed write, leaves nothing behind, and succeeds with the next change', async () => {
    const base = mkdtempSync(join(tmpdir(), 'chardevd-config-writer-'));
    dirs.push(base);
    const missing = join(base, 'not-yet');
    const { file, state, writer } = setup(join(missing, 'saved.yaml'));
    writer.start();
    const deadline = Date.now() + WAIT_MS;
    while (state.logged.length === 0) {
      if (Date.now() > deadline) throw new Error('the failed write was never logged');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.deepEqual(state.logged, [`--config-save ${file}: No such file or directory`]);
    assert.equal(existsSync(missing), false);
    mkdirSync(missing);
    state.version = 1;
    writer.changed();
    await until(file, 'v1\n');
    assert.deepEqual(readdirSync(missing), ['saved.yaml']);
    assert.equal(state.logged.length, 1);
    await writer.stop();
  });

  test('logs a configuration it cannot write out, and goes on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chardevd-config-writer-'));
    dirs.push(dir);
    const logged: string[] = [];
    const writer = new ConfigWriter({
      path: join(dir, 'saved.yaml'),
      text: () => {
        throw new Error('no text');
      },
      log: (message) => logged.push(message),
    });
    writer.start();
    await writer.stop();
    assert.deepEqual(logged, [`--config-save ${join(dir, 'saved.yaml')}: no text`]);
  });
});
