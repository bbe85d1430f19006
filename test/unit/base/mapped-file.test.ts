import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, suite, test } from 'node:test';
import { type NativeAddon, nativeAddon, nativeAddonUnavailable } from '../../../src/base/native-addon.js';

const dir = mkdtempSync(join(tmpdir(), 'chardevd-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Every byte value, several pages' worth: a mapping must give each back as it is in the file. */
const BYTES = Buffer.from(Array.from({ length: 3 * 4096 + 17 }, (_, i) => (i * 7) % 256));

function file(name: string, bytes: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

const addon = (): NativeAddon => nativeAddon!;

suite('files mapped instead of read', { skip: nativeAddonUnavailable }, () => {
  test('mapLatin1 gives the file as Latin-1 text, one character per byte', () => {
    const path = file('text', BYTES);
    assert.equal(addon().mapLatin1(path), readFileSync(path, 'latin1'));
  });

  test('mapBytes gives the file’s bytes', () => {
    assert.ok(addon().mapBytes(file('bytes', BYTES)).equals(BYTES));
  });

  test('writing into mapped bytes changes this copy, not the file', () => {
    const path = file('written', BYTES);
    const mapped = addon().mapBytes(path);
    mapped.fill(0);
    assert.ok(readFileSync(path).equals(BYTES));
    assert.ok(addon().mapBytes(path).equals(BYTES));
  });

  test('an empty file is an empty string and an empty Buffer', () => {
    const path = file('empty', Buffer.alloc(0));
    assert.equal(addon().mapLatin1(path), '');
    assert.equal(addon().mapBytes(path).length, 0);
  });

  test('a missing file or a directory is an error that says which', () => {
    assert.throws(() => addon().mapLatin1(join(dir, 'missing')), { code: 'ERRNO', errno: 2, message: 'open: No such file or directory' });
    assert.throws(() => addon().mapBytes(dir), { code: 'ERRNO', errno: 22, message: 'not a regular file: Invalid argument' });
  });
});
