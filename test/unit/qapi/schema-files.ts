import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * Writes schema files into a fresh temporary directory, runs `fn` with that
 * directory and removes it afterwards. Paths are relative to the directory.
 */
export function withSchemaFiles<T>(files: { readonly [path: string]: string }, fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'qapi-test-'));
  try {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
