#!/usr/bin/env node
// Fails when the committed generated code or reference docs differ from what
// the schema generates now: regenerate (npm run gen) and commit both together.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const scratch = mkdtempSync(join(tmpdir(), 'chardevd-gen-'));
try {
  const docs = join(scratch, 'qmp-reference.md');
  const out = join(scratch, 'generated');
  const gen = spawnSync(process.execPath, ['dist/src/qapi/main.js', '--output-dir', out, '--docs', docs], { stdio: 'inherit' });
  if (gen.status !== 0) process.exit(gen.status ?? 1);
  const stale = [];
  const expected = new Set(readdirSync(out));
  for (const name of new Set([...expected, ...readdirSync('src/generated')])) {
    const fresh = expected.has(name) ? readFileSync(join(out, name), 'utf8') : undefined;
    let committed;
    try {
      committed = readFileSync(join('src/generated', name), 'utf8');
    } catch {
      committed = undefined;
    }
    if (fresh !== committed) stale.push(`src/generated/${name}`);
  }
  if (readFileSync(docs, 'utf8') !== readFileSync('docs/qmp-reference.md', 'utf8')) stale.push('docs/qmp-reference.md');
  if (stale.length > 0) {
    console.error(`generated files are stale (run "npm run gen" and commit): ${stale.join(', ')}`);
    process.exit(1);
  }
  console.log('generated code and docs match the schema');
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
