import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { listenerOption, parseQmpOption } from '../../../src/daemon/qmp-option.js';
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

  test("takes chardevd's perm= for a unix listener's socket file, in octal", () => {
    assert.deepEqual(parse('unix:/q,server=on,wait=off,perm=0660').option.address, { type: 'unix', path: '/q', perm: 0o660 });
    assert.equal((parse('unix:/q,server=on,perm=600').option.address as { perm?: number }).perm, 0o600);
    assert.equal((parse('unix:/q,server=on,perm=0').option.address as { perm?: number }).perm, 0);
    // Without it the address carries none: the listener makes the file 0600.
    assert.equal('perm' in parse('unix:/q,server=on').option.address, false);
  });

  test('refuses a perm= that is not octal bits up to 0777, or not on a unix listener', () => {
    const bits = new QemuOptsError("Parameter 'perm' expects octal permission bits from 0 to 0777, such as 0660");
    for (const value of ['perm=0888', 'perm=1777', 'perm=0o660', 'perm=rw', 'perm=', 'perm', 'perm=07777']) {
      assert.throws(() => parse(`unix:/q,server=on,${value}`), bits, value);
    }
    assert.throws(() => parse('tcp:127.0.0.1:0,server=on,perm=0600'), new QemuOptsError("Parameter 'perm' is for unix: listeners only"));
    assert.throws(() => parse('unix:/q,perm=0600'), new QemuOptsError("Parameter 'perm' is for listeners (server=on) only"));
  });

  test('listenerOption leaves what is not a listener to the legacy syntax, but not a text with perm=', () => {
    assert.equal(listenerOption('unix:/q,server=on,telnet=on'), undefined);
    assert.equal(listenerOption('unix:/q'), undefined);
    assert.throws(() => listenerOption('unix:/q,server=on,perm=9'), /Parameter 'perm' expects octal/);
    assert.throws(() => listenerOption('tcp:127.0.0.1:0,server=on,perm=0600'), /for unix: listeners only/);
  });

  test('names an unsupported transport', () => {
    assert.throws(() => parse('udp:1.2.3.4:5,server=on'), /'udp' is not a valid QMP listener/);
  });

  test('takes tls-creds and tls-authz on a TCP listener, as a socket chardev spells them, with its texts for misuse', () => {
    assert.deepEqual(parse('tcp:127.0.0.1:4444,server=on,wait=off,tls-creds=tls0,tls-authz=auth0').option, {
      address: { type: 'inet', host: '127.0.0.1', port: 4444, ipv6Only: false },
      wait: false,
      tls: { creds: 'tls0', authz: 'auth0' },
    });
    assert.throws(() => parse('unix:/q.sock,server=on,tls-creds=tls0'), new QemuOptsError("'tls_creds' option is incompatible with 'unix' address type"));
    assert.throws(() => parse('tcp:127.0.0.1:4444,server=on,tls-authz=auth0'), new QemuOptsError("'tls_authz' option requires 'tls_creds' option"));
    // A listener with TLS options is a listener: its mistakes are errors, never a legacy chardev.
    assert.throws(() => listenerOption('tcp:127.0.0.1:4444,tls-creds=tls0'), /add server=on/);
  });
});
