import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { tcpServerAddress, unprotectedTcpWarning, webTcpWarning } from '../../../src/daemon/tcp-warning.js';

suite('unprotectedTcpWarning', () => {
  test('on loopback: every local user can connect; the lock is a unix socket', () => {
    assert.equal(
      unprotectedTcpWarning('QMP listener tcp:127.0.0.1:4444', '127.0.0.1', 'QMP'),
      'warning: QMP listener tcp:127.0.0.1:4444 lets every local user control this daemon (QMP has no authentication of its own, and this listener no TLS that checks the client); ' +
        'to keep it to this user, use a unix socket instead: -qmp unix:PATH,server=on (its file is made mode 0600), or require client certificates with tls-creds=ID (tls-creds-x509, verify-peer=on) and tls-authz=ID',
    );
    for (const host of ['::1', 'localhost', '127.1.2.3', '::ffff:127.0.0.1']) {
      assert.match(unprotectedTcpWarning('x', host, 'QMP'), /lets every local user/, host);
    }
  });

  test('elsewhere: anyone who can reach the machine; loopback would still let local users in', () => {
    assert.equal(
      unprotectedTcpWarning('monitor listener tcp:[::]:4555', '::', 'monitor'),
      'warning: monitor listener tcp:[::]:4555 lets anyone who can reach this machine control this daemon ' +
        '(the human monitor has no authentication of its own, and this listener no TLS that checks the client); ' +
        'to keep it to this user, use a unix socket instead: -monitor unix:PATH,server=on (its file is made mode 0600), or require client certificates with tls-creds=ID (tls-creds-x509, verify-peer=on) and tls-authz=ID; ' +
        'bound to 127.0.0.1, it would still let every local user in',
    );
    for (const host of ['0.0.0.0', '192.0.2.1', '128.0.0.1', '::ffff:10.0.0.1', 'example.org']) {
      assert.match(unprotectedTcpWarning('x', host, 'QMP'), /anyone who can reach this machine/, host);
    }
  });
});

suite('tcpServerAddress', () => {
  test("reads a TCP server socket's address from QEMU's filename", () => {
    assert.deepEqual(tcpServerAddress('disconnected:tcp:0.0.0.0:4555,server=on'), { address: 'tcp:0.0.0.0:4555', host: '0.0.0.0' });
    assert.deepEqual(tcpServerAddress('disconnected:telnet:127.0.0.1:4555,server=on'), { address: 'telnet:127.0.0.1:4555', host: '127.0.0.1' });
    assert.deepEqual(tcpServerAddress('disconnected:websocket:::1:80,server=on'), { address: 'websocket:::1:80', host: '::1' });
    assert.deepEqual(tcpServerAddress('tcp:127.0.0.1:4555,server=on <-> 127.0.0.1:40000'), { address: 'tcp:127.0.0.1:4555', host: '127.0.0.1' });
  });

  test('is undefined for a client socket, a unix socket and every other chardev', () => {
    for (const filename of ['disconnected:tcp:127.0.0.1:4555', 'disconnected:unix:m.sock,server=on', 'ringbuf', 'pty:/dev/pts/3', 'udp:127.0.0.1:5555']) {
      assert.equal(tcpServerAddress(filename), undefined, filename);
    }
  });
});

suite('webTcpWarning', () => {
  test('none on loopback, where viewers are read-only without a token; beyond it, that the page is plain HTTP', () => {
    for (const host of ['127.0.0.1', '::1', 'localhost']) assert.equal(webTcpWarning(host), undefined, host);
    assert.equal(
      webTcpWarning('0.0.0.0'),
      'warning: the web console on 0.0.0.0 speaks plain HTTP: console output and write tokens cross the network unencrypted; ' +
        'bind it to 127.0.0.1 or a unix socket behind a TLS reverse proxy (docs/web.md)',
    );
  });
});
