import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite, test } from 'node:test';
import { QapiSchemaError } from '../../../src/qapi/error.js';
import { parseSchema } from '../../../src/qapi/schema.js';
import { repoRoot } from '../../support/paths.js';
import { dumpSchema } from '../../support/qapi-dump.js';

/**
 * Golden QAPI schema cases in test/qapi-schema/:
 * - `good-<case>.json` must load; `good-<case>.out` holds the dump of the model.
 * - any other `<case>.json` must fail; `<case>.err` holds the one-line error.
 * - `legacy-` or `good-legacy-` cases load with `rules: 'legacy'`.
 * - files under test/qapi-schema/include/ are only included, never cases.
 * The first `# ` comment line of a case says what it tests and names the test.
 *
 * `QAPI_GOLDEN_UPDATE=1 node --test dist/test/unit/qapi/golden.test.js`
 * rewrites the expected files from what the code does now.
 */

const CASES_DIR = 'test/qapi-schema';
const update = process.env['QAPI_GOLDEN_UPDATE'] === '1';
const dir = join(repoRoot, CASES_DIR);
const cases = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -'.json'.length))
  .sort();

function describeCase(name: string): string {
  const source = readFileSync(join(dir, `${name}.json`), 'utf8');
  const comment = /^# (.+)$/m.exec(source);
  return comment ? comment[1]!.trim() : name;
}

function run(name: string): { kind: 'out'; text: string } | { kind: 'err'; text: string } {
  const rules = /^(good-)?legacy-/.test(name) ? 'legacy' : 'current';
  try {
    // A relative path, read from the repository root, keeps messages stable.
    return { kind: 'out', text: dumpSchema(parseSchema(`${CASES_DIR}/${name}.json`, { cwd: repoRoot, rules })) };
  } catch (error: unknown) {
    if (!(error instanceof QapiSchemaError)) throw error;
    return { kind: 'err', text: `${error.message}\n` };
  }
}

suite('QAPI schema golden cases', () => {
  for (const name of cases) {
    const good = name.startsWith('good-');
    const expectedFile = join(dir, `${name}.${good ? 'out' : 'err'}`);
    test(`${describeCase(name)} (${name})`, () => {
      const actual = run(name);
      if (update && actual.kind === (good ? 'out' : 'err')) writeFileSync(expectedFile, actual.text);
      if (good) {
        assert.equal(actual.kind, 'out', `expected ${name} to load, got: ${actual.text}`);
      } else {
        assert.equal(actual.kind, 'err', `expected ${name} to fail, but it loaded`);
        assert.equal(actual.text.split('\n').length, 2, 'an error is a single line');
      }
      assert.ok(existsSync(expectedFile), `${expectedFile} is missing (QAPI_GOLDEN_UPDATE=1 writes it)`);
      assert.equal(actual.text, readFileSync(expectedFile, 'utf8'));
    });
  }

  test('every expected-result file belongs to a case', () => {
    const stale = readdirSync(dir)
      .filter((f) => f.endsWith('.out') || f.endsWith('.err'))
      .filter((f) => !cases.includes(f.replace(/\.(out|err)$/, '')));
    assert.deepEqual(stale, []);
  });

  test('there are both positive and negative cases', () => {
    assert.ok(cases.filter((c) => c.startsWith('good-')).length >= 3);
    assert.ok(cases.filter((c) => !c.startsWith('good-')).length >= 60);
  });
});
