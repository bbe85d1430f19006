// Copies what the web console's page loads besides its own compiled
// script into the build, beside it: the page, its style, and xterm.js
// with its fit and search addons as ES modules. The daemon serves them
// from there, so nothing is built or fetched at run time.
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const out = join(root, 'dist/src/web/page');
mkdirSync(out, { recursive: true });

const packageDir = (name) => dirname(require.resolve(`${name}/package.json`));
const files = [
  [join(root, 'src/web/page/index.html'), 'index.html'],
  [join(root, 'src/web/page/style.css'), 'style.css'],
  [join(packageDir('@xterm/xterm'), 'lib/xterm.mjs'), 'xterm.mjs'],
  [join(packageDir('@xterm/xterm'), 'css/xterm.css'), 'xterm.css'],
  [join(packageDir('@xterm/addon-fit'), 'lib/addon-fit.mjs'), 'addon-fit.mjs'],
  [join(packageDir('@xterm/addon-search'), 'lib/addon-search.mjs'), 'addon-search.mjs'],
];
for (const [from, name] of files) copyFileSync(from, join(out, name));
