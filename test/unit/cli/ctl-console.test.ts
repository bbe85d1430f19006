import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { consoleAddress } from '../../../src/cli/ctl-console.js';

suite('console address from a chardev filename', () => {
  test('reads unix and TCP socket servers, free or busy', () => {
    assert.deepEqual(consoleAddress('c', 'disconnected:unix:/run/c.sock,server=on'), { address: '/run/c.sock', busy: false, telnet: false });
    assert.deepEqual(consoleAddress('c', 'unix:/run/c.sock,server=on'), { address: '/run/c.sock', busy: true, telnet: false });
    assert.deepEqual(consoleAddress('c', 'disconnected:tcp:127.0.0.1:4555,server=on'), { address: { host: '127.0.0.1', port: 4555 }, busy: false, telnet: false });
    assert.deepEqual(consoleAddress('c', 'tcp:127.0.0.1:4555,server=on <-> 127.0.0.1:50000'), { address: { host: '127.0.0.1', port: 4555 }, busy: true, telnet: false });
    assert.deepEqual(consoleAddress('c', 'disconnected:telnet:[::1]:23,server=on'), { address: { host: '::1', port: 23 }, busy: false, telnet: true });
  });

  test('refuses what is not a socket server', () => {
    assert.throws(() => consoleAddress('p', 'pty:/dev/pts/3'), {
      message: "chardev 'p' is not a socket server (its filename is 'pty:/dev/pts/3'); console attaches to socket chardevs with server=on",
    });
    assert.throws(() => consoleAddress('u', 'disconnected:unix:/x.sock'), /is not a socket server/);
  });
});
