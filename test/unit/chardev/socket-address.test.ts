import assert from 'node:assert/strict';
import * as net from 'node:net';
import { suite, test } from 'node:test';
import { connectFailure, connectionName, inetPort, socketAddressName, supportedAddress, unixPath } from '../../../src/chardev/socket-address.js';

const inet = supportedAddress({ type: 'inet', data: { host: '127.0.0.1', port: '4444' } });
const unix = supportedAddress({ type: 'unix', data: { path: '/run/s.sock' } });
const peer = (local: string, remote: string): net.Socket => ({ localAddress: local, localPort: 4444, remoteAddress: remote, remotePort: 50000 }) as net.Socket;

suite('socket chardev addresses', () => {
  test("names an address as QEMU's qemu_chr_socket_address does", () => {
    assert.equal(socketAddressName(inet, 'tcp', true), 'tcp:127.0.0.1:4444,server=on');
    assert.equal(socketAddressName(inet, 'telnet', false), 'telnet:127.0.0.1:4444');
    assert.equal(socketAddressName(unix, 'tcp', true), 'unix:/run/s.sock,server=on');
    const abstract = supportedAddress({ type: 'unix', data: { path: 'name', abstract: true, tight: false } });
    assert.equal(socketAddressName(abstract, 'tcp', false), 'unix:name,abstract=on');
  });

  test("names a connection as QEMU's qemu_chr_compute_filename does", () => {
    assert.equal(connectionName(inet, 'tcp', true, peer('127.0.0.1', '127.0.0.1')), 'tcp:127.0.0.1:4444,server=on <-> 127.0.0.1:50000');
    assert.equal(connectionName(inet, 'websocket', true, peer('::1', '::1')), 'websocket:[::1]:4444,server=on <-> [::1]:50000');
    assert.equal(connectionName(unix, 'tcp', true, peer('', '')), 'unix:/run/s.sock,server=on');
    assert.equal(connectionName(unix, 'tcp', false, peer('', '')), 'unix:', "a client's own end has no name");
  });

  test('refuses what chardevd cannot serve, with the reason', () => {
    assert.throws(() => supportedAddress({ type: 'inet', data: { host: 'h', port: '1', mptcp: true } }), { message: 'multipath TCP is not supported' });
    assert.throws(() => supportedAddress({ type: 'inet', data: { host: 'h', port: '1', ipv4: false, ipv6: false } }), {
      message: 'Cannot disable IPv4 and IPv6 at same time',
    });
    assert.deepEqual(supportedAddress({ type: 'fd', data: { str: 'x' } }), { type: 'fd', str: 'x' });
    assert.throws(() => supportedAddress({ type: 'vsock', data: { cid: '3', port: '1' } }), { message: 'socket family AF_VSOCK unsupported' });
  });

  test('a Unix path fits sun_path (108 bytes, one less for an abstract name)', () => {
    assert.doesNotThrow(() => supportedAddress({ type: 'unix', data: { path: 'p'.repeat(108) } }));
    assert.throws(() => supportedAddress({ type: 'unix', data: { path: 'p'.repeat(109) } }), { message: `UNIX socket path '${'p'.repeat(109)}' is too long` });
    assert.throws(() => supportedAddress({ type: 'unix', data: { path: 'p'.repeat(108), abstract: true, tight: false } }), { message: /is too long$/ });
  });

  test('an abstract name starts with NUL, padded to the whole of sun_path with tight=off', () => {
    assert.equal(unixPath({ path: '/run/s.sock' }), '/run/s.sock');
    assert.equal(unixPath({ path: 'name', abstract: true }), '\0name');
    const padded = unixPath({ path: 'name', abstract: true, tight: false });
    assert.equal(padded.length, 108);
    assert.equal(padded, `\0name${'\0'.repeat(103)}`);
  });

  test('reads the port as getaddrinfo does where QEMU resolves it, with its texts', () => {
    const port = (host: string, service: string, passive: boolean): number => inetPort({ host, port: service }, passive);
    assert.equal(port('127.0.0.1', '+80', true), 80);
    assert.equal(port('127.0.0.1', '99999', false), 34463);
    assert.equal(port('127.0.0.1', '', true), 0, 'no service: any port');
    assert.equal(port('', '80', true), 80, 'no host: any address');
    assert.equal(port('127.0.0.1', '', false), 0, 'port 0, which connect refuses');
    const fails = (host: string, service: string, passive: boolean, message: string): void => {
      assert.throws(() => port(host, service, passive), { name: 'ChardevError', message });
    };
    fails('127.0.0.1', 'abc', true, 'address resolution failed for 127.0.0.1:abc: Servname not supported for ai_socktype');
    fails('127.0.0.1', '-1', false, 'address resolution failed for 127.0.0.1:-1: Servname not supported for ai_socktype');
    fails('', '', true, 'address resolution failed for :: Name or service not known');
    fails('', '80', false, 'address resolution failed for :80: Name or service not known');
    fails('', 'abc', false, 'address resolution failed for :abc: Servname not supported for ai_socktype');
  });

  test("words a failed connect as QEMU does: the host's lookup as getaddrinfo's failure", () => {
    const lookup = Object.assign(new Error('getaddrinfo ENOTFOUND x.invalid'), { code: 'ENOTFOUND', syscall: 'getaddrinfo' });
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED', syscall: 'connect' });
    const remote = supportedAddress({ type: 'inet', data: { host: 'x.invalid', port: '80' } });
    assert.equal(connectFailure(remote, lookup).message, 'address resolution failed for x.invalid:80: Name or service not known');
    assert.equal(connectFailure(inet, refused).message, "Failed to connect to '127.0.0.1:4444': Connection refused");
    assert.equal(connectFailure(unix, refused).message, "Failed to connect to '/run/s.sock': Connection refused");
  });
});
