import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { parseQmpOption } from '../../../src/daemon/qmp-option.js';
import { QemuOptsError } from '../../../src/options/qemu-opts.js';

function parse(text: string): { option: ReturnType<typeof parseQmpOption> } {
  return { option: parseQmpOption(text) };
}

suite('parseQmpOption', () => {
  test('parses a unix listener that does not wait', () => {
    assert.deepEqual(parse('unix:/run/q.sock,server=on,wait=off').option, { address: { type: 'unix', path: '/run/q.sock' }, wait: false });
  });

  test('waits for the first client by default, as QEMU servers do', () => {
    assert.equal(parse('unix:/run/q.sock,server=on').option.wait, true);
  });

  test('unescapes doubled commas in the path', () => {
    assert.deepEqual(parse('unix:/tmp/a,,b.sock,server=on,wait=off').option.address, { type: 'unix', path: '/tmp/a,b.sock' });
  });

  test('parses tcp with a host, an IPv6 host and an empty host', () => {
    assert.deepEqual(parse('tcp:127.0.0.1:4444,server=on,wait=off').option.address, { type: 'inet', host: '127.0.0.1', port: 4444, ipv6Only: false });
    assert.deepEqual(parse('tcp:[::1]:0,server=on,wait=off,ipv6=on').option.address, { type: 'inet', host: '::1', port: 0, ipv6Only: true });
    assert.equal((parse('tcp::4444,server=on,wait=off').option.address as { host: string }).host, '::');
  });

  test("accepts the short forms server and nowait, which QEMU 7.2's -qmp takes without a warning", () => {
    assert.deepEqual(parse('unix:/q,server,nowait').option, { address: { type: 'unix', path: '/q' }, wait: false });
  });

  test("refuses an unknown parameter with QEMU's message", () => {
    assert.throws(() => parse('unix:/q,server=on,bogus=1'), new QemuOptsError("Invalid parameter 'bogus'"));
  });

  test('refuses a bad boolean', () => {
    assert.throws(() => parse('unix:/q,server=maybe'), new QemuOptsError("Parameter 'server' expects 'on' or 'off'"));
  });

  test('says how to fix a client-mode monitor', () => {
    assert.throws(() => parse('unix:/q'), /add server=on/);
  });

  test('names an unsupported transport', () => {
    assert.throws(() => parse('udp:1.2.3.4:5,server=on'), /'udp' is not a valid QMP listener/);
  });
});
