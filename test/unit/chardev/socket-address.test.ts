import assert from 'node:assert/strict';
import type * as net from 'node:net';
import { suite, test } from 'node:test';
import { connectionName, socketAddressName, supportedAddress, unixPath } from '../../../src/chardev/socket-address.js';

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
    assert.throws(() => supportedAddress({ type: 'fd', data: { str: 'x' } }), { message: "File descriptor named 'x' has not been found" });
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
});
