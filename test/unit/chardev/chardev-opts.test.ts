import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { asCInt, asInt64, asUint32, ChardevOpts, parseCommon, parseHostdev } from '../../../src/chardev/chardev-opts.js';
import { ChardevOptionError } from '../../../src/chardev/option-error.js';

function opts(given: Record<string, string | boolean | bigint>, defaults: Record<string, string> = {}, warnings: string[] = []): ChardevOpts {
  const result = new ChardevOpts(new Map(Object.entries(defaults)), warnings);
  for (const [name, value] of Object.entries(given)) {
    if (typeof value === 'boolean') result.add({ name, text: value ? 'on' : 'off', bool: value });
    else if (typeof value === 'bigint') result.add({ name, text: String(value), uint: value });
    else result.add({ name, text: value });
  }
  return result;
}

suite('the options of one -chardev, as a backend reads them', () => {
  test("a repeated option's last value wins; a default counts for get() but not has()", () => {
    const read = new ChardevOpts(new Map([['tight', 'on']]), []);
    read.add({ name: 'path', text: 'a' });
    read.add({ name: 'path', text: 'b' });
    assert.equal(read.get('path'), 'b');
    assert.equal(read.has('tight'), false);
    assert.equal(read.get('tight'), 'on');
    assert.equal(read.getBool('tight', false), true);
    assert.equal(read.getBool('server', false), false);
    assert.equal(read.getUint('size', 7n), 7n);
  });

  test('fail() carries the warnings printed before the error', () => {
    const warnings = ['warning: one'];
    const read = opts({}, {}, warnings);
    warnings.push('warning: two');
    const error = read.fail('refused');
    assert.ok(error instanceof ChardevOptionError);
    assert.equal(error.message, 'refused');
    assert.deepEqual(error.warnings, ['warning: one', 'warning: two']);
  });

  test('C integer conversions as QEMU stores the numbers', () => {
    assert.equal(asInt64(2n ** 64n - 1n), -1);
    assert.equal(asCInt(2n ** 31n), -(2 ** 31));
    assert.equal(asCInt(2n ** 32n), 0);
    assert.equal(asUint32('clients', 4294967295n, opts({})), 4294967295);
    assert.throws(() => asUint32('clients', 4294967296n, opts({})), { message: "Parameter 'clients' expects uint32" });
  });

  test('the common members: logappend always, the rest when given', () => {
    assert.deepEqual(parseCommon(opts({})), { logappend: false });
    assert.deepEqual(parseCommon(opts({ logfile: 'l', logappend: true, logsize: 1024n, logbackups: 3n })), {
      logfile: 'l',
      logappend: true,
      logsize: 1024,
      logbackups: 3,
    });
  });

  test('a host device: the path, or the error naming the backend', () => {
    assert.deepEqual(parseHostdev('pipe', opts({ path: '/p' })), { logappend: false, device: '/p' });
    assert.throws(() => parseHostdev('serial/tty', opts({})), { message: 'chardev: serial/tty: no device path given' });
  });
});
