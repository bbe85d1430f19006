// Bundles the three programs (chardevd, chardevctl, chardevd-demux) from
// the compiled modules into dist/bin, which package.json's "bin" names.
// Node loads an ES module graph file by file, resolving and compiling
// each: for the daemon's hundred and more modules that was most of its
// start-up. A bundle is a few files; what a program loads only when it
// is asked to (the HMP monitor, the web console, the schema's
// introspection) stays in chunks of its own, loaded on first use.
// Packages stay outside, resolved from node_modules as before.
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist/bin');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: ['chardevd', 'chardevctl', 'chardevd-demux'].map((name) => join(root, `dist/src/cli/${name}.js`)),
  outdir,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});
