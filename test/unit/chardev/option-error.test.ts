import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { ChardevdError } from '../../../src/base/error.js';
import { ChardevHelpRequest, ChardevOptionError } from '../../../src/chardev/option-error.js';

suite('-chardev errors', () => {
  test('a refused value: CHARDEV_OPTION_INVALID, with the warnings printed before it', () => {
    const error = new ChardevOptionError("Invalid parameter 'x'", ['warning: w']);
    assert.ok(error instanceof ChardevdError);
    assert.equal(error.code, 'CHARDEV_OPTION_INVALID');
    assert.equal(error.name, 'ChardevOptionError');
    assert.deepEqual(error.warnings, ['warning: w']);
  });

  test('a help request is an option error with its own code, and the exit status QEMU gives', () => {
    const backends = new ChardevHelpRequest('backends', 'list', []);
    assert.ok(backends instanceof ChardevOptionError);
    assert.equal(backends.code, 'CHARDEV_HELP_REQUESTED');
    assert.equal(backends.name, 'ChardevHelpRequest');
    assert.equal(backends.exitStatus, 0);
    assert.equal(new ChardevHelpRequest('options', 'list', []).exitStatus, 1);
  });
});
