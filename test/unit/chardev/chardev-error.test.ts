import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { ChardevdError } from '../../../src/base/error.js';
import { ChardevError, describeSystemError } from '../../../src/chardev/chardev-error.js';

suite('chardev errors', () => {
  test("a failed chardev operation: CHARDEV_FAILED, with QEMU's text", () => {
    const error = new ChardevError("Chardev 'x' not found");
    assert.ok(error instanceof ChardevdError);
    assert.equal(error.code, 'CHARDEV_FAILED');
    assert.equal(error.name, 'ChardevError');
    assert.equal(error.message, "Chardev 'x' not found");
  });

  test("a system error reads as glibc's strerror, anything else as its message", () => {
    assert.equal(describeSystemError(Object.assign(new Error('raw'), { code: 'ENOENT' })), 'No such file or directory');
    assert.equal(describeSystemError(Object.assign(new Error('raw'), { code: 'EWHATEVER' })), 'raw');
    assert.equal(describeSystemError('text'), 'text');
  });
});
