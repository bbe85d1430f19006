import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { cStrtol } from '../../../src/options/c-strtol.js';

// What glibc's strtol(text, &end, 0) returns on x86_64, which is how QEMU reads -echr.
suite('cStrtol', () => {
  test('reads decimal, hex after 0x and octal after a leading 0', () => {
    assert.deepEqual(cStrtol('20'), { value: 20n, digits: true });
    assert.deepEqual(cStrtol('0x14'), { value: 20n, digits: true });
    assert.deepEqual(cStrtol('0X1d'), { value: 29n, digits: true });
    assert.deepEqual(cStrtol('024'), { value: 20n, digits: true });
    assert.deepEqual(cStrtol('0'), { value: 0n, digits: true });
  });

  test('skips leading white space, takes a sign and ignores what follows the number', () => {
    assert.deepEqual(cStrtol(' \t20abc'), { value: 20n, digits: true });
    assert.deepEqual(cStrtol('-1'), { value: -1n, digits: true });
    assert.deepEqual(cStrtol('+7'), { value: 7n, digits: true });
    // An octal number ends at the first 8; "0x" without a hex digit is the number 0.
    assert.deepEqual(cStrtol('018'), { value: 1n, digits: true });
    assert.deepEqual(cStrtol('0xg'), { value: 0n, digits: true });
  });

  test('clamps to the range of a 64-bit long', () => {
    assert.deepEqual(cStrtol('99999999999999999999'), { value: (1n << 63n) - 1n, digits: true });
    assert.deepEqual(cStrtol('-99999999999999999999'), { value: -(1n << 63n), digits: true });
  });

  test('finds no number in text without digits', () => {
    assert.deepEqual(cStrtol('foo'), { value: 0n, digits: false });
    assert.deepEqual(cStrtol(''), { value: 0n, digits: false });
    assert.deepEqual(cStrtol('-'), { value: 0n, digits: false });
    assert.deepEqual(cStrtol('x14'), { value: 0n, digits: false });
  });
});
