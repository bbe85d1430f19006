#!/usr/bin/env node
// Starts the daemon's bundle (chardevd-bundle.cjs, beside this file)
// from the V8 code cache the build wrote beside it
// (scripts/train-code-cache.cjs): compiling the bundle and the functions
// a start runs was a large part of the daemon's start-up, and Node.js 20
// caches compiled code only for its own modules. A cache that does not
// fit this Node.js (another V8, other V8 flags) is rejected by V8 and
// the bundle compiled as usual. Plain CommonJS: an ES module entry would
// start Node's ES module loader, which costs more than it loads.
'use strict';
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { Script } = require('node:vm');

// V8 doubles its young generation each time as much as it holds has
// survived, and a daemon keeps most of what it makes: the young generation
// grows from 1 MiB to 8 MiB semi-spaces while chardevs are added and stays
// there. Its limit (--max-semi-space-size) is fixed before any script runs,
// but --optimize-for-size is read at each collection: with it, V8's full
// collections give the young generation back down to its first size: about
// 4 KiB less resident memory per filled 64 KiB ringbuf in bench/ringbuf.ts,
// and the relay and QMP benchmarks measured no slower with it
// (docs/benchmarks.md). --semi-space-growth-factor=1, also read at each
// collection, keeps the young generation at its first size in between:
// without it, a full collection does not come before a daemon filling
// 1,000 ringbufs goes quiet, and the young generation stays grown (8 MiB,
// 4 KiB per ringbuf); the relay measured no slower with it.
//
// They are set once the daemon's start has run (its first turn of the
// event loop, in which it loads what it serves with and listens), not
// before: V8 accepts a code cache only under the flags it was made with,
// Node's own for its built-in modules as well as this bundle's. Set
// before, every built-in the start loads after them (net, cluster,
// child_process, ...) was compiled from its source, twice as slow (net
// 1.7 ms against 3.9 in a fresh process): 8 ms of the daemon's start to
// its greeting (bench/startup.ts). Not later either: set a second after,
// a relay started in that second ran with the young generation growing
// (bench/link.ts: 2,070 minor page faults per 512 MiB against 1,650).
// node:v8 is loaded then too. The cache of the bundle is made without them
// (scripts/train-code-cache.cjs) and read without them.
const MEMORY_FLAGS = '--optimize-for-size --semi-space-growth-factor=1';

const bundle = join(__dirname, 'chardevd-bundle.cjs');
const cache = `${bundle}.cache`;

/**
 * The native addon (native/mapped-file.c maps the two files), or
 * undefined when it is not built: the files are read then. The daemon
 * opens it again when it starts (src/base/native-addon.ts); opening a
 * library already open costs next to nothing.
 */
const addon = (() => {
  try {
    const opened = { exports: {} };
    process.dlopen(opened, join(__dirname, '..', '..', 'build', 'Release', 'fdpass.node'));
    return opened.exports;
  } catch {
    return undefined;
  }
})();

/**
 * The bundle's text. Mapped, not read: read, the text was copied twice
 * into fresh memory at each start (a Buffer, then a V8 string) and the
 * cache once, about 280 page faults more (docs/benchmarks.md,
 * "Start-up"). The build wrote it ASCII only, so that one byte is one
 * character (Latin-1), without decoding UTF-8.
 */
function bundleText() {
  return mapped('mapLatin1', bundle) ?? readFileSync(bundle, 'latin1');
}

/** The code cache the build wrote, mapped as the text is; undefined when there is none (a build without one). */
function readCache() {
  try {
    return mapped('mapBytes', cache) ?? readFileSync(cache);
  } catch {
    return undefined;
  }
}

/**
 * `path` mapped by the addon's `map` function, or undefined when it
 * cannot be: no addon, an addon built from older sources (without the
 * function), or a file the kernel will not map. Read instead, the file
 * is the same text, only read.
 */
function mapped(map, path) {
  try {
    return addon?.[map](path);
  } catch {
    return undefined;
  }
}

/**
 * The bundle compiled, with `cachedData` when given. The build wrote it
 * as the function Node wraps a CommonJS module in, so that its text is
 * compiled as it is, not copied into a wrapper first.
 */
function compileBundle(cachedData) {
  return new Script(bundleText(), { filename: bundle, cachedData });
}

/** Runs the compiled bundle: the daemon starts with process.argv. */
function runBundle(compiled) {
  const bundleModule = { exports: {} };
  compiled.runInThisContext()(bundleModule.exports, require, bundleModule, bundle, __dirname);
}

if (require.main === module) {
  runBundle(compileBundle(readCache()));
  setImmediate(() => process.getBuiltinModule('node:v8').setFlagsFromString(MEMORY_FLAGS));
} else {
  module.exports = { bundle, cache, compileBundle, readCache, runBundle };
}
