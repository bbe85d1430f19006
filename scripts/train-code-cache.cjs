// Writes the V8 code cache of the daemon's bundle (`.cache` beside it),
// run by bundle-programs.js as `node train-code-cache.cjs LAUNCHER`. V8
// compiles a function when it first runs, and a cache holds what was
// compiled when it was made: made right after compiling, it holds the
// top level only, and every function a start runs is compiled at every
// start. So the daemon is started here, once, with a QMP socket in a
// temporary directory, as the launcher starts it, and the cache is made
// once a client has had its greeting.
'use strict';
const { mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const { connect } = require('node:net');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const TIMEOUT_MS = 20_000;
const launcher = require(process.argv[2]);
const dir = mkdtempSync(join(tmpdir(), 'chardevd-code-cache-'));
const qmpPath = join(dir, 'qmp.sock');
const deadline = Date.now() + TIMEOUT_MS;

process.argv = [process.argv[0], launcher.bundle, '-qmp', `unix:${qmpPath},server=on,wait=off`];
const compiled = launcher.compileBundle(undefined);
launcher.runBundle(compiled);

function greeted() {
  const socket = connect(qmpPath);
  socket.once('data', () => {
    writeFileSync(launcher.cache, compiled.createCachedData());
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
  socket.once('error', () => {
    if (Date.now() > deadline) {
      process.stderr.write(`the daemon did not greet on ${qmpPath} within ${TIMEOUT_MS} ms\n`);
      rmSync(dir, { recursive: true, force: true });
      process.exit(1);
    }
    setTimeout(greeted, 10);
  });
}
greeted();
