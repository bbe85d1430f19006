import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { CHARDEV_BACKENDS } from '../../../src/chardev/backends.js';
import { ChardevOptionError } from '../../../src/chardev/option-error.js';
import { OPTION_DEFAULTS, OPTION_TYPES, validateOption } from '../../../src/chardev/option-table.js';

const fail = (message: string): ChardevOptionError => new ChardevOptionError(message);
const uint = (name: string, value: string): bigint | undefined => validateOption(name, value, [], fail).uint;

suite('the -chardev option list', () => {
  test("holds the common options and every backend's, each with one type", () => {
    for (const name of ['backend', 'mux', 'logfile', 'logappend', 'logsize', 'logbackups', 'debug']) assert.ok(OPTION_TYPES.has(name), name);
    for (const backend of CHARDEV_BACKENDS) {
      for (const [name, type] of Object.entries(backend.options ?? {})) assert.equal(OPTION_TYPES.get(name), type, `${backend.kinds[0]}: ${name}`);
    }
    assert.deepEqual([...OPTION_DEFAULTS], [['tight', 'on']]);
  });

  test("an unlisted name is refused; a backend may take more names by pattern (the hub's chardevs.N)", () => {
    assert.throws(() => validateOption('bogus', 'x', [], fail), { message: "Invalid parameter 'bogus'" });
    assert.equal(validateOption('chardevs.255', 'm', [], fail).text, 'm');
    assert.throws(() => validateOption('chardevs.256', 'm', [], fail), { message: "Invalid parameter 'chardevs.256'" });
  });

  test('values are checked against the type: booleans, numbers as strtoull reads them, sizes', () => {
    assert.equal(validateOption('server', 'on', [], fail).bool, true);
    assert.throws(() => validateOption('server', 'yes please', [], fail), ChardevOptionError);
    assert.equal(uint('to', '0x10'), 16n);
    assert.equal(uint('to', '010'), 8n);
    assert.equal(uint('to', ' +7'), 7n);
    assert.equal(uint('to', '-1'), 2n ** 64n - 1n);
    assert.throws(() => uint('to', '18446744073709551616'), { message: "Value '18446744073709551616' is too large for parameter 'to'" });
    assert.throws(() => uint('to', '12x'), { message: "Parameter 'to' expects a number" });
    assert.equal(uint('size', '1k'), 1024n);
  });
});
