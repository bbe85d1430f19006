// Bundles the three programs (chardevd, chardevctl, chardevd-demux) from
// the compiled modules into dist/bin, which package.json's "bin" names.
// Node loads an ES module graph file by file, resolving and compiling
// each: for the daemon's hundred and more modules that was most of its
// start-up. Packages stay outside, resolved from node_modules as before.
//
// chardevctl and chardevd-demux are ES modules; what they load only when
// asked to stays in chunks of their own, loaded on first use. The daemon
// is one CommonJS script started by a small launcher
// (code-cache-launcher.cjs) from V8's code cache, which a start of the
// daemon writes here (train-code-cache.cjs): with the cache, V8 compiles
// neither the bundle nor the functions a start runs at each start.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist/bin');
const common = { bundle: true, platform: 'node', target: 'node20', packages: 'external', sourcemap: 'linked', logLevel: 'warning' };
rmSync(outdir, { recursive: true, force: true });

await build({
  ...common,
  entryPoints: ['chardevctl', 'chardevd-demux'].map((name) => join(root, `dist/src/cli/${name}.js`)),
  outdir,
  chunkNames: 'chunks/[name]-[hash]',
  splitting: true,
  format: 'esm',
});

const bundle = join(outdir, 'chardevd-bundle.cjs');
await build({
  ...common,
  entryPoints: [join(root, 'dist/src/cli/chardevd.js')],
  outfile: bundle,
  format: 'cjs',
  // Fewer bytes to read and copy at each start; names are kept, so stack
  // traces still name their functions.
  minifyWhitespace: true,
  // import.meta.url, which finds the package's own files, is the bundle's URL (set below).
  define: { 'import.meta.url': '__bundleUrl' },
});
// The bundle is written as the function the launcher calls, the one Node
// wraps a CommonJS module in, opened where the entry's "#!" line was (so
// that the source map's lines still hold).
// A namespace import of a built-in (`import * as fs from 'node:fs'`)
// becomes a copy of the module's every property, made with getters, at
// each importing module's start (esbuild's __toESM, for CommonJS
// packages); a built-in module already has every name a namespace import
// is used for, and is used as it is.
const source = readFileSync(bundle, 'utf8')
  .replace(/^#![^\n]*/, '')
  .replace(/__toESM\((require\("node:[a-z_/]+"\)),\s*1\)/g, '$1');
if (/[^\x00-\x7f]/.test(source)) throw new Error(`${bundle} is not ASCII only: the launcher reads it as Latin-1`);
// Strict, as the ES modules it was made of are.
const opening = '(function (exports, require, module, __filename, __dirname) {"use strict";var __bundleUrl=require("node:url").pathToFileURL(__filename).href;';
writeFileSync(bundle, `${opening}${source}\n})`);
const launcher = join(outdir, 'chardevd.cjs');
copyFileSync(join(root, 'scripts/code-cache-launcher.cjs'), launcher);
chmodSync(launcher, 0o755);
const training = spawnSync(process.execPath, [join(root, 'scripts/train-code-cache.cjs'), launcher], { encoding: 'utf8', timeout: 60_000 });
if (training.status !== 0) throw new Error(`writing the daemon's code cache failed: ${training.stderr || training.error}`);
