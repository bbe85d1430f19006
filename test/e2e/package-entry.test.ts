import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { suite, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../support/paths.js';

/** Imports `specifier` in a fresh Node and returns every module URL it loaded. */
function modulesLoadedBy(specifier: string): string[] {
  const hooks = pathToFileURL(join(repoRoot, 'test/support/module-trace-hooks.mjs')).href;
  const script = `import { register } from 'node:module'; register(${JSON.stringify(hooks)}); await import(${JSON.stringify(specifier)});`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8', timeout: 30_000 });
  assert.equal(child.status, 0, `importing ${specifier} failed: ${child.stderr.slice(-2000)}`);
  return child.stderr
    .split('\n')
    .filter((line) => line.startsWith('loaded '))
    .map((line) => line.slice('loaded '.length));
}

suite('package entries', () => {
  test("'chardevd/client' loads the client and the generated types only: no daemon, no ws, no http, no zlib", () => {
    const loaded = modulesLoadedBy('chardevd/client');
    const ours = loaded.filter((url) => url.includes('/dist/src/')).map((url) => url.slice(url.indexOf('/dist/src/') + '/dist/src/'.length));
    assert.ok(ours.includes('client/qmp-client.js'), 'the client itself was not loaded');
    const outside = ours.filter((path) => !/^(client|generated|qobject|qapi-runtime|base)\//.test(path));
    assert.deepEqual(outside, []);
    const forbidden = loaded.filter((url) => /node_modules\/ws\/|^node:(http|https|zlib)$/.test(url));
    assert.deepEqual(forbidden, []);
  });

  test("'chardevd' offers the daemon and the client together", async () => {
    const library = await import('chardevd');
    assert.equal(typeof library.Daemon, 'function');
    assert.equal(typeof library.QmpClient, 'function');
    const client = await import('chardevd/client');
    assert.equal(client.QmpClient, library.QmpClient);
  });
});
