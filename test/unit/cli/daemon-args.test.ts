import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { parseDaemonArgs, UsageError } from '../../../src/cli/daemon-args.js';

const quiet = (): void => {};

suite('parseDaemonArgs', () => {
  test('takes -qmp and --qmp, repeated, with separate or attached values', () => {
    const args = parseDaemonArgs(['-qmp', 'unix:/a,server=on,wait=off', '--qmp=tcp:127.0.0.1:0,server=on,wait=off', '-qmp-pretty', 'unix:/b,server=on,wait=off'], quiet);
    assert.equal(args.action, 'run');
    if (args.action !== 'run') return;
    assert.deepEqual(
      args.qmp.map((q) => [q.option.address.type, q.pretty]),
      [
        ['unix', false],
        ['inet', false],
        ['unix', true],
      ],
    );
  });

  test('answers help and version', () => {
    assert.deepEqual(parseDaemonArgs(['--help'], quiet), { action: 'help' });
    assert.deepEqual(parseDaemonArgs(['-version'], quiet), { action: 'version' });
  });

  test('names the option and its value in a parse error, as QEMU does', () => {
    assert.throws(() => parseDaemonArgs(['-qmp', 'unix:/a,server=on,bogus=1'], quiet), new UsageError("-qmp unix:/a,server=on,bogus=1: Invalid parameter 'bogus'"));
  });

  test('refuses unknown options and missing values', () => {
    assert.throws(() => parseDaemonArgs(['-foo'], quiet), new UsageError('-foo: invalid option'));
    assert.throws(() => parseDaemonArgs(['-qmp'], quiet), new UsageError('-qmp: requires an argument'));
  });
});
