import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { CompatChardevError, compatChardevOption } from '../../../src/options/compat-chardev.js';

// QEMU 7.2's chardev/char.c qemu_chr_parse_compat, as -qmp and -monitor read their argument.
suite('compatChardevOption', () => {
  const as = (filename: string): string => compatChardevOption('compat_monitor0', filename);

  test('names whole backends and files, pipes and devices by path', () => {
    assert.equal(as('stdio'), 'stdio,id=compat_monitor0');
    assert.equal(as('pty'), 'pty,id=compat_monitor0');
    assert.equal(as('null'), 'null,id=compat_monitor0');
    assert.equal(as('file:/var/log/m,1.log'), 'file,id=compat_monitor0,path=/var/log/m,,1.log');
    assert.equal(as('pipe:/run/mon'), 'pipe,id=compat_monitor0,path=/run/mon');
    assert.equal(as('/dev/ttyS0'), 'serial,id=compat_monitor0,path=/dev/ttyS0');
    assert.equal(as('/dev/parport0'), 'parallel,id=compat_monitor0,path=/dev/parport0');
    assert.equal(as('COM1'), 'serial,id=compat_monitor0,path=COM1');
  });

  test('reads unix: as QemuOpts with path implied first', () => {
    assert.equal(as('unix:/run/q.sock'), 'socket,id=compat_monitor0,path=/run/q.sock');
    assert.equal(as('unix:/run/q.sock,reconnect=1'), 'socket,id=compat_monitor0,path=/run/q.sock,reconnect=1');
    assert.equal(as('unix:path=/run/q.sock,server=on'), 'socket,id=compat_monitor0,path=/run/q.sock,server=on');
    // '=' before any comma names an option, as QEMU reads "unix:/a=b" (it then refuses option '/a').
    assert.equal(as('unix:/a=b'), 'socket,id=compat_monitor0,/a=b');
    assert.equal(as('unix:'), 'socket,id=compat_monitor0');
  });

  test('reads HOST:PORT of tcp:, telnet:, tn3270: and websocket:, with options after the port', () => {
    assert.equal(as('tcp:127.0.0.1:4444'), 'socket,id=compat_monitor0,host=127.0.0.1,port=4444');
    assert.equal(as('tcp::4444,server=on,wait=off'), 'socket,id=compat_monitor0,host=,port=4444,server=on,wait=off');
    assert.equal(as('telnet:localhost:4555,server=on'), 'socket,id=compat_monitor0,host=localhost,port=4555,server=on,telnet=on');
    assert.equal(as('websocket::5700,server=on'), 'socket,id=compat_monitor0,host=,port=5700,server=on,websocket=on');
    assert.equal(as('tn3270::2323'), 'socket,id=compat_monitor0,host=,port=2323,tn3270=on');
  });

  test('reads udp: with a local address after @', () => {
    assert.equal(as('udp:10.0.0.1:5000'), 'udp,id=compat_monitor0,host=10.0.0.1,port=5000');
    assert.equal(as('udp::5000@:6000'), 'udp,id=compat_monitor0,host=,port=5000,localaddr=,localport=6000');
  });

  test('makes mon: a mux, and mon:stdio one that passes Ctrl-C to the guest', () => {
    assert.equal(as('mon:stdio'), 'stdio,id=compat_monitor0,mux=on,signal=off');
    assert.equal(as('mon:unix:/run/q.sock,server=on'), 'socket,id=compat_monitor0,mux=on,path=/run/q.sock,server=on');
  });

  test('reads vc sizes in pixels or characters', () => {
    assert.equal(as('vc'), 'vc,id=compat_monitor0');
    assert.equal(as('vc:800x600'), 'vc,id=compat_monitor0,width=800,height=600');
    assert.equal(as('vc:80Cx24C'), 'vc,id=compat_monitor0,cols=80,rows=24');
  });

  test('fails as QEMU does: a message for an unknown driver, only "parse error" for a bad address', () => {
    assert.throws(() => as('foo'), new CompatChardevError("'foo' is not a valid char driver"));
    for (const bad of ['tcp:nohostport', 'udp:', 'udp::1@', 'vc:abc']) {
      assert.throws(
        () => as(bad),
        (error: unknown) => error instanceof CompatChardevError && error.detail === undefined,
        bad,
      );
    }
  });
});
