import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { parseOnOff, parseQemuOpts, QemuOptsError, splitQemuOpts } from '../../../src/options/qemu-opts.js';

suite('splitQemuOpts', () => {
  test('splits at single commas', () => {
    assert.deepEqual(splitQemuOpts('unix:/a,server=on,wait=off'), ['unix:/a', 'server=on', 'wait=off']);
  });

  test('keeps a doubled comma as one comma inside the value', () => {
    assert.deepEqual(splitQemuOpts('unix:/tmp/a,,b,server=on'), ['unix:/tmp/a,b', 'server=on']);
  });
});

suite('parseQemuOpts', () => {
  test('gives bare words an undefined value', () => {
    assert.deepEqual(parseQemuOpts(['server', 'wait=off']), [
      { key: 'server', value: undefined },
      { key: 'wait', value: 'off' },
    ]);
  });
});

suite('parseOnOff', () => {
  test('accepts the spellings QEMU accepts, case-sensitively', () => {
    for (const yes of ['on', 'yes', 'true', 'y']) assert.equal(parseOnOff('x', yes), true);
    for (const no of ['off', 'no', 'false', 'n']) assert.equal(parseOnOff('x', no), false);
  });

  test("refuses others with QEMU's message", () => {
    for (const bad of ['1', '0', 'maybe', 'ON', 'Y']) {
      assert.throws(() => parseOnOff('server', bad), new QemuOptsError("Parameter 'server' expects 'on' or 'off'"));
    }
  });
});
