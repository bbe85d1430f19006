import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, suite, test } from 'node:test';
import { fileURLToPath } from 'node:url';

// The layer check (.dependency-cruiser.cjs) run on a small tree of its own, to
// prove that it reports what it must and lets through what it may.
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const depcruise = join(repoRoot, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

interface Violation {
  readonly rule: string;
  readonly from: string;
  readonly to: string;
}

function cruise(files: Record<string, string>): Violation[] {
  const dir = mkdtempSync(join(tmpdir(), 'chardevd-layers-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const tree = { 'tsconfig.json': '{ "compilerOptions": { "module": "NodeNext", "moduleResolution": "NodeNext" } }', ...files };
  for (const [path, text] of Object.entries(tree)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const roots = [...new Set(Object.keys(files).map((path) => path.split('/')[0]!))];
  const args = [depcruise, ...roots, '--config', join(repoRoot, '.dependency-cruiser.cjs'), '--output-type', 'json'];
  const run = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8' });
  assert.equal(run.error, undefined);
  const result = JSON.parse(run.stdout) as { summary: { violations: { rule: { name: string }; from: string; to: string }[] } };
  return result.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }));
}

const byText = (a: Violation, b: Violation): number => JSON.stringify(a).localeCompare(JSON.stringify(b));

suite('layer check', { concurrency: true }, () => {
  test('reports an import from a higher floor, type-only and by import() type alike', () => {
    const found = cruise({
      'src/monitor/hmp/interpreter.ts': 'export interface HmpInterpreter { run(line: string): void }\n',
      'src/commands/context.ts': "import type { HmpInterpreter } from '../monitor/hmp/interpreter.js';\nexport type C = HmpInterpreter;\n",
      'src/chardev/chardev.ts': 'export class Chardev {}\n',
      'src/qmp/session.ts': "export type Backend = import('../chardev/chardev.js').Chardev;\n",
      'src/daemon/daemon.ts': 'export class Daemon {}\n',
      'src/web/web-server.ts': "import type { Daemon } from '../daemon/daemon.js';\nexport type D = Daemon;\n",
      'src/monitor/hmp/console.ts': "import type { D } from '../../web/web-server.js';\nexport type C = D;\n",
    });
    assert.deepEqual(found.sort(byText), [
      { rule: 'layer-commands', from: 'src/commands/context.ts', to: 'src/monitor/hmp/interpreter.ts' },
      { rule: 'layer-monitor', from: 'src/monitor/hmp/console.ts', to: 'src/web/web-server.ts' },
      { rule: 'layer-qmp', from: 'src/qmp/session.ts', to: 'src/chardev/chardev.ts' },
      { rule: 'layer-web', from: 'src/web/web-server.ts', to: 'src/daemon/daemon.ts' },
    ]);
  });

  test('keeps objects/ under chardev/: a socket may take its TLS from objects/, objects/ may not import a chardev, the protocol may not import objects/', () => {
    const found = cruise({
      'src/objects/tls-creds.ts': 'export class TlsCreds {}\n',
      'src/chardev/socket.ts': "import { TlsCreds } from '../objects/tls-creds.js';\nexport const s = TlsCreds;\n",
      'src/objects/registry.ts': "import { s } from '../chardev/socket.js';\nexport const r = s;\n",
      'src/qmp/socket-listeners.ts': "import type { TlsCreds } from '../objects/tls-creds.js';\nexport type L = TlsCreds;\n",
    });
    assert.deepEqual(found.map((v) => v.rule).sort(), ['layer-objects', 'layer-qmp']);
  });

  test('reports an import circle, even one closed by a type-only import', () => {
    const found = cruise({
      'src/chardev/registry.ts': "import { Chardev } from './chardev.js';\nexport const all: Chardev[] = [];\n",
      'src/chardev/chardev.ts': "import type { all } from './registry.js';\nexport class Chardev {}\nexport type All = typeof all;\n",
    });
    assert.equal(found.length, 1);
    assert.equal(found[0]?.rule, 'no-circular');
  });

  test('reports the client library reaching beyond its own floors, the entry importing the generator, src/ importing its entry or tests', () => {
    const found = cruise({
      'src/options/qemu-opts.ts': 'export const parse = 1;\n',
      'src/client/qmp-client.ts': "import { parse } from '../options/qemu-opts.js';\nexport const c = parse;\n",
      'src/qapi/main.ts': 'export const m = 1;\n',
      'src/index.ts': "export { c } from './client/qmp-client.js';\nexport { m } from './qapi/main.js';\n",
      'src/daemon/daemon.ts': "import { c } from '../index.js';\nimport { t } from '../../test/support/t.js';\nexport const d = [c, t];\n",
      'test/support/t.ts': 'export const t = 1;\n',
      'src/extra/x.ts': "import { d } from '../daemon/daemon.js';\nexport const x = d;\n",
    });
    assert.deepEqual(found.map((v) => v.rule).sort(), ['layer-client', 'layer-index', 'layer-unknown-folder', 'no-import-of-entry', 'no-test-from-src']);
  });

  test('reports the demux protocol core importing a Node module or another floor, and lets device/ and cli/ import it', () => {
    const found = cruise({
      'src/base/error.ts': 'export const e = 1;\n',
      'src/demux/frame.ts': "import { e } from '../base/error.js';\nexport const f = e;\n",
      'src/demux/session.ts': "import { EventEmitter } from 'node:events';\nimport { f } from './frame.js';\nexport const s = [EventEmitter, f];\n",
      'src/device/demux.ts': "import { s } from '../demux/session.js';\nexport const d = s;\n",
      'src/cli/chardevd-demux.ts': "import { s } from '../demux/session.js';\nimport { d } from '../device/demux.js';\nexport const c = [s, d];\n",
    });
    assert.deepEqual(found.map((v) => `${v.rule} ${v.from} -> ${v.to}`).sort(), [
      'demux-pure src/demux/session.ts -> events',
      'layer-demux src/demux/frame.ts -> src/base/error.ts',
    ]);
  });

  test('lets the allowed imports through: downwards, the generator from cli/, src/ from tests and benchmarks', () => {
    const found = cruise({
      'src/base/lifecycle.ts': 'export class DisposableStore {}\n',
      'src/qobject/json-value.ts': "import { DisposableStore } from '../base/lifecycle.js';\nexport const v = DisposableStore;\n",
      'src/qapi-runtime/index.ts': "import { v } from '../qobject/json-value.js';\nexport const r = v;\n",
      'src/generated/qapi-types.gen.ts': "import { r } from '../qapi-runtime/index.js';\nexport const g = r;\n",
      'src/client/index.ts': "import { g } from '../generated/qapi-types.gen.js';\nexport const c = g;\n",
      'src/qmp/server.ts': "import { g } from '../generated/qapi-types.gen.js';\nexport const q = g;\n",
      'src/monitor/hmp/console.ts': "import { q } from '../../qmp/server.js';\nexport const h = q;\n",
      'src/web/web-server.ts': "import { h } from '../monitor/hmp/console.js';\nexport const w = h;\n",
      'src/daemon/daemon.ts': "import { w } from '../web/web-server.js';\nexport const d = w;\n",
      'src/qapi/main.ts': "import { p } from './parser.js';\nexport const m = p;\n",
      'src/qapi/parser.ts': 'export const p = 1;\n',
      'src/cli/chardevd.ts':
        "import { m } from '../qapi/main.js';\nimport { c } from '../client/index.js';\nimport { d } from '../daemon/daemon.js';\nexport const x = [m, c, d];\n",
      'src/index.ts': "export { x } from './cli/chardevd.js';\n",
      'test/unit/x.test.ts': "import { x } from '../../src/index.js';\nimport { m } from '../../src/qapi/main.js';\nexport const t = [x, m];\n",
      'bench/b.ts': "import { t } from '../test/unit/x.test.js';\nimport { p } from '../src/qapi/parser.js';\nexport const b = [t, p];\n",
    });
    assert.deepEqual(found, []);
  });
});
