import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite, test } from 'node:test';
import { streamSocketKind, takeSocketFd } from '../../../src/chardev/socket-fd.js';

/** A listening server's descriptor (Node names it only on its handle). */
const serverFd = (server: net.Server): number => (server as unknown as { _handle: { fd: number } })._handle.fd;

suite('socket chardev descriptors (socket_get_fd)', () => {
  test("reads an fd as QEMU's command line does: a number of an open socket", () => {
    const fails = (str: string, message: string): void => assert.throws(() => takeSocketFd(str, undefined), { message });
    fails('', 'Unable to parse FD number ');
    fails('abc', 'Unable to parse FD number abc');
    fails('12abc', 'Unable to parse FD number 12abc');
    fails('7 ', 'Unable to parse FD number 7 ');
    fails('2147483648', 'Unable to parse FD number 2147483648: Numerical result out of range');
    fails('-2147483649', 'Unable to parse FD number -2147483649: Numerical result out of range');
    fails('99999999999999999999abc', 'Unable to parse FD number 99999999999999999999abc: Numerical result out of range');
    fails('-1', "File descriptor '-1' is not a socket");
    fails(' +2147483647', "File descriptor ' +2147483647' is not a socket");
  });

  test('takes a name from the monitor, closing a descriptor that is no socket', () => {
    const dir = fs.mkdtempSync(join(tmpdir(), 'chardevd-sockfd-'));
    try {
      const file = fs.openSync(join(dir, 'f'), 'w');
      const names = new Map([['f', file]]);
      const monitor = {
        take: (name: string): number | undefined => {
          const fd = names.get(name);
          names.delete(name);
          return fd;
        },
      };
      assert.throws(() => takeSocketFd('nope', monitor), { message: "File descriptor named 'nope' has not been found" });
      // A number is a name in a monitor, as in QEMU 7.2.
      assert.throws(() => takeSocketFd(String(file), monitor), { message: `File descriptor named '${file}' has not been found` });
      assert.throws(() => takeSocketFd('f', monitor), { message: "File descriptor 'f' is not a socket" });
      assert.equal(names.size, 0);
      assert.throws(() => fs.fstatSync(file), { code: 'EBADF' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('tells unix and TCP stream sockets apart, with the path a unix one is bound to', async () => {
    const dir = fs.mkdtempSync(join(tmpdir(), 'chardevd-sockfd-'));
    const unix = net.createServer();
    const tcp = net.createServer();
    try {
      await new Promise<void>((resolve) => unix.listen(join(dir, 's'), resolve));
      await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
      assert.deepEqual(streamSocketKind(serverFd(unix)), { kind: 'unix', path: join(dir, 's'), abstract: false });
      assert.deepEqual(streamSocketKind(serverFd(tcp)), { kind: 'tcp' });
      const file = fs.openSync(join(dir, 'f'), 'w');
      assert.equal(streamSocketKind(file), undefined);
      fs.closeSync(file);
    } finally {
      unix.close();
      tcp.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
