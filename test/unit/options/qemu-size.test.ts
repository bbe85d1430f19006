import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { QemuOptsError } from '../../../src/options/qemu-opts.js';
import { parseQemuSize } from '../../../src/options/qemu-size.js';

const INVALID =
  "Parameter 'size' expects a non-negative number below 2^64\nOptional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\nand exabytes, respectively.";

// Accepted and refused spellings as QEMU 7.2 handled `-chardev ringbuf,id=r,size=X`.
suite('parseQemuSize', () => {
  test('reads plain numbers, hex and binary suffixes in either case', () => {
    assert.equal(parseQemuSize('size', '65536'), 65536n);
    assert.equal(parseQemuSize('size', '0x400'), 1024n);
    assert.equal(parseQemuSize('size', '640k'), 655360n);
    assert.equal(parseQemuSize('size', '1M'), 1048576n);
    assert.equal(parseQemuSize('size', '2g'), 2147483648n);
    assert.equal(parseQemuSize('size', '512b'), 512n);
    assert.equal(parseQemuSize('size', ' 1k'), 1024n);
  });

  test('reads fractions with a suffix, rounding a half upward', () => {
    assert.equal(parseQemuSize('size', '1.5k'), 1536n);
    assert.equal(parseQemuSize('size', '0.5k'), 512n);
    assert.equal(parseQemuSize('size', '1.k'), 1024n);
  });

  test("accepts a suffix on hex with QEMU's deprecation warning", () => {
    const warnings: string[] = [];
    assert.equal(
      parseQemuSize('size', '0x1k', (w) => warnings.push(w)),
      1024n,
    );
    assert.deepEqual(warnings, ['Using a multiplier suffix on hex numbers is deprecated: 0x1k']);
  });

  test('refuses what QEMU refuses, with its message and hint', () => {
    for (const bad of ['abc', '-1', '1KiB', '1e3', '1.5', '1.5e3k', '0x1.5k', '', 'k']) {
      assert.throws(() => parseQemuSize('size', bad), new QemuOptsError(INVALID), bad);
    }
  });

  test('reports values beyond 64 bits as out of range', () => {
    assert.throws(() => parseQemuSize('size', '18446744073709551616'), new QemuOptsError("Value '18446744073709551616' is out of range for parameter 'size'"));
    assert.throws(() => parseQemuSize('size', '16E'), new QemuOptsError("Value '16E' is out of range for parameter 'size'"));
    assert.equal(parseQemuSize('size', '15E'), 15n * 2n ** 60n);
  });
});
