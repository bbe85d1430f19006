import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { parseMonitorOption, parseMonOption } from '../../../src/daemon/monitor-option.js';
import { QemuOptsError } from '../../../src/options/qemu-opts.js';

suite('parseMonitorOption', () => {
  test('makes a listener of unix: and tcp: values, as -qmp does', () => {
    assert.deepEqual(parseMonitorOption('unix:/run/m.sock,server=on,wait=off'), {
      type: 'listener',
      option: { address: { type: 'unix', path: '/run/m.sock' }, wait: false },
    });
    assert.deepEqual(parseMonitorOption('tcp:127.0.0.1:0,server=on,wait=off'), {
      type: 'listener',
      option: { address: { type: 'inet', host: '127.0.0.1', port: 0, ipv6Only: false }, wait: false },
    });
  });

  test("puts the monitor on an existing chardev for chardev:ID, as QEMU's monitor_parse does", () => {
    assert.deepEqual(parseMonitorOption('chardev:serial0'), { type: 'chardev', id: 'serial0', mode: 'readline', pretty: false });
  });

  test('names the monitor in its errors', () => {
    assert.throws(
      () => parseMonitorOption('stdio'),
      new QemuOptsError('a config file takes monitor listeners (add server=on) or chardev:ID (a chardev of the file); the other forms are for the command line'),
    );
    assert.throws(() => parseMonitorOption('vc:80x24,server=on'), new QemuOptsError("'vc' is not a valid monitor listener: use unix:PATH or tcp:HOST:PORT"));
  });
});

suite('parseMonOption', () => {
  test('takes the chardev as the implied first option or as chardev=', () => {
    const human = { type: 'chardev', id: 'm0', mode: 'readline', pretty: false };
    assert.deepEqual(parseMonOption('m0'), human);
    assert.deepEqual(parseMonOption('chardev=m0,mode=readline'), human);
    assert.deepEqual(parseMonOption('mode=readline,chardev=m0'), human);
  });

  test('refuses what QEMU refuses, with its texts', () => {
    assert.throws(() => parseMonOption('mode=readline'), new QemuOptsError("Parameter 'chardev' is missing"));
    assert.throws(() => parseMonOption('m0,mode=bogus'), new QemuOptsError("Parameter 'mode' does not accept value 'bogus'"));
    assert.throws(() => parseMonOption('m0,pretty=on'), new QemuOptsError("'pretty' is not compatible with HMP monitors"));
    assert.throws(() => parseMonOption('m0,bogus=1'), new QemuOptsError("Invalid parameter 'bogus'"));
  });

  test('takes a QMP monitor on a chardev, pretty or not', () => {
    assert.deepEqual(parseMonOption('m0,mode=control'), { type: 'chardev', id: 'm0', mode: 'control', pretty: false });
    assert.deepEqual(parseMonOption('chardev=m0,mode=control,pretty=on'), { type: 'chardev', id: 'm0', mode: 'control', pretty: true });
    assert.deepEqual(parseMonOption('m0,mode=control,pretty'), { type: 'chardev', id: 'm0', mode: 'control', pretty: true });
  });
});
