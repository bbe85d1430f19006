#!/usr/bin/env node
// Starts the daemon's bundle (chardevd-bundle.cjs, beside this file)
// from the V8 code cache the build wrote beside it. Compiling the
// bundle is a large part of the daemon's start-up, and Node.js 20
// caches compiled code only for its own modules. A cache that does not
// fit this Node.js (another V8, other V8 flags) is rejected by V8 and
// the bundle compiled as usual. Plain CommonJS: an ES module entry
// would start Node's ES module loader, which costs more than it loads.
'use strict';
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { Script } = require('node:vm');

const bundle = join(__dirname, 'chardevd-bundle.cjs');

/**
 * The bundle compiled as Node compiles a CommonJS module, with
 * `cachedData` when given. The build makes the bundle ASCII only, so it is
 * read as Latin-1, which is read as it is, without decoding UTF-8.
 */
function compileBundle(cachedData) {
  const source = `(function (exports, require, module, __filename, __dirname) {${readFileSync(bundle, 'latin1')}\n})`;
  return new Script(source, { filename: bundle, cachedData });
}

if (require.main === module) {
  let cachedData;
  try {
    cachedData = readFileSync(`${bundle}.cache`);
  } catch {
    // No cache (a build without one): compiled as usual.
  }
  const bundleModule = { exports: {} };
  compileBundle(cachedData).runInThisContext()(bundleModule.exports, require, bundleModule, bundle, __dirname);
} else {
  // The build (scripts/bundle-programs.js) writes the cache from the same compilation.
  module.exports = { bundle, compileBundle };
}
