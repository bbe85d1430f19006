#!/usr/bin/env node
// Runs the compiled test files with node:test. Node runs every .js file of a
// directory named "test", so the files are passed explicitly.
// Usage: node scripts/run-tests.js [path-prefix...]   e.g. dist/test/unit/qmp
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function findTests(dir) {
  const found = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (name.endsWith('.test.js')) found.push(path);
  }
  return found;
}

const prefixes = process.argv.slice(2);
const files = findTests('dist/test').filter((f) => prefixes.length === 0 || prefixes.some((p) => f.startsWith(p)));
if (files.length === 0) {
  console.error(`no test files match ${prefixes.join(' ')}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
