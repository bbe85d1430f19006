import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { after, suite, test } from 'node:test';
import { OUTPUT_QUEUE_LIMIT } from '../../../src/chardev/stream-io.js';
import { UDP_INPUT_QUEUE_LIMIT, UDP_MAX_DATAGRAM, UDP_READ_BUF_LEN, UdpChardev } from '../../../src/chardev/udp.js';
import type { ChardevUdp, SocketAddressLegacy } from '../../../src/generated/qapi-types.gen.js';
import { waitFor } from '../../support/peer-process.js';
import { sameBytes } from '../../support/same-bytes.js';
import { TestFrontend } from '../../support/test-frontend.js';

const WAIT_MS = 5_000;
const messages: string[] = [];
const context = { log: (message: string) => messages.push(message) };

/** Sockets and chardevs a test opened, closed after the suite even when a test fails. */
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** Waits until `done()` holds, polling at short intervals; fails after a bound. */
const until = (done: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> => waitFor(done, what, timeoutMs, 5);

function inet(host: string, port: string, extra: Partial<{ ipv4: boolean; ipv6: boolean }> = {}): SocketAddressLegacy {
  return { type: 'inet', data: { host, port, ...extra } };
}

/** The other end: a plain dgram socket on 127.0.0.1 that records what it receives. */
class Remote {
  readonly datagrams: Buffer[] = [];
  from: dgram.RemoteInfo | undefined;

  private constructor(readonly socket: dgram.Socket) {
    socket.on('message', (message, rinfo) => {
      this.datagrams.push(message);
      this.from = rinfo;
    });
  }

  static async open(port = 0): Promise<Remote> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, '127.0.0.1', () => resolve());
    });
    const remote = new Remote(socket);
    cleanups.push(() => remote.close());
    return remote;
  }

  get port(): string {
    return String(this.socket.address().port);
  }

  /** Sends to the chardev's bound address. */
  async sendTo(chardev: UdpChardev, data: Buffer | string): Promise<void> {
    const local = chardev.localAddress;
    assert.ok(local, 'the chardev is bound');
    await new Promise<void>((resolve, reject) => this.socket.send(data, local.port, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    });
  }
}

async function openUdp(options: ChardevUdp): Promise<UdpChardev> {
  const chardev = new UdpChardev('udp', options, context);
  await chardev.open();
  cleanups.push(() => chardev.close());
  return chardev;
}

/** Opens a chardev whose open() must fail and returns the error text. */
async function openError(options: ChardevUdp): Promise<string> {
  const chardev = new UdpChardev('udp', options, context);
  try {
    await chardev.open();
  } catch (error: unknown) {
    return (error as Error).message;
  } finally {
    await chardev.close();
  }
  assert.fail('open() succeeded');
}

/** A port nobody listens on (bound and released at once). */
async function freePort(): Promise<string> {
  const remote = await Remote.open();
  const port = remote.port;
  await remote.close();
  return port;
}

suite('udp chardev (chardev/char-udp.c, test-char /char/udp)', () => {
  test('write "hello" arrives as one datagram, the echo reaches the frontend, and the chardev never reports opened', async () => {
    const remote = await Remote.open();
    const chardev = await openUdp({ remote: inet('127.0.0.1', remote.port) });
    const frontend = new TestFrontend();
    chardev.attach(frontend);
    assert.equal(chardev.filename, 'udp');
    assert.equal(chardev.write(Buffer.from('hello')), true);
    await until(() => remote.datagrams.length === 1, 'the datagram');
    assert.equal(remote.datagrams[0]?.toString(), 'hello');
    // The echo goes back to where the datagram came from, as test-char does.
    const from = remote.from!;
    remote.socket.send(remote.datagrams[0], from.port, from.address);
    await frontend.until(() => frontend.text === 'hello', 'the echo');
    // QEMU opens udp with be_opened false and never sends CHR_EVENT_OPENED.
    assert.equal(chardev.isOpen, false);
    assert.deepEqual(frontend.events, []);
    chardev.detach(frontend);
    await chardev.close();
    assert.deepEqual(frontend.events, []);
  });

  test('a datagram from an address other than the remote is not input (the socket is connected)', async () => {
    const remote = await Remote.open();
    const stranger = await Remote.open();
    const chardev = await openUdp({ remote: inet('127.0.0.1', remote.port) });
    const frontend = new TestFrontend();
    chardev.attach(frontend);
    await stranger.sendTo(chardev, 'stranger');
    await remote.sendTo(chardev, 'remote');
    await frontend.until(() => frontend.text === 'remote', "the remote's datagram");
    assert.equal(frontend.text, 'remote', "the kernel filters the stranger's datagram, which was sent first");
    chardev.detach(frontend);
  });

  test('a local address and port are where the socket is bound and what the remote sees as the sender', async () => {
    const remote = await Remote.open();
    const port = await freePort();
    const chardev = await openUdp({ remote: inet('127.0.0.1', remote.port), local: inet('127.0.0.1', port) });
    assert.deepEqual(chardev.localAddress, { address: '127.0.0.1', family: 'IPv4', port: Number(port) });
    chardev.write(Buffer.from('x'));
    await until(() => remote.from !== undefined, 'the datagram');
    assert.equal(remote.from?.port, Number(port));
  });

  test('ipv6=on gives an IPv6 socket, reaching an IPv4 remote through a v4-mapped address; ipv4=on gives an IPv4 socket', async () => {
    const remote = await Remote.open();
    const v6 = await openUdp({ remote: inet('127.0.0.1', remote.port, { ipv6: true }) });
    assert.equal(v6.localAddress?.family, 'IPv6');
    v6.write(Buffer.from('over v6'));
    await until(() => remote.datagrams.length === 1, 'the datagram sent from the IPv6 socket');
    assert.equal(remote.datagrams[0]?.toString(), 'over v6');
    const v4 = await openUdp({ remote: inet('localhost', remote.port, { ipv4: true }) });
    assert.equal(v4.localAddress?.family, 'IPv4');
    v4.write(Buffer.from('over v4'));
    await until(() => remote.datagrams.length === 2, 'the datagram sent from the IPv4 socket');
    assert.equal(remote.datagrams[1]?.toString(), 'over v4');
  });

  test(`a write longer than ${UDP_MAX_DATAGRAM} bytes is sent as several datagrams, none longer, in order`, async () => {
    const remote = await Remote.open();
    const chardev = await openUdp({ remote: inet('127.0.0.1', remote.port) });
    const data = Buffer.alloc(UDP_MAX_DATAGRAM + 1000, 'a');
    data.fill('b', UDP_MAX_DATAGRAM);
    chardev.write(data);
    await until(() => remote.datagrams.length === 2, 'two datagrams');
    assert.deepEqual(
      remote.datagrams.map((d) => d.length),
      [UDP_MAX_DATAGRAM, 1000],
    );
    sameBytes(Buffer.concat(remote.datagrams), data, 'the datagrams joined');
    assert.equal(chardev.droppedOutput, 0);
  });

  test('write returns false while much is in flight, drain follows, and writes beyond OUTPUT_QUEUE_LIMIT in flight are dropped and counted', async () => {
    const remote = await Remote.open();
    const chardev = await openUdp({ remote: inet('127.0.0.1', remote.port) });
    const frontend = new TestFrontend();
    chardev.attach(frontend);
    const big = Buffer.alloc(OUTPUT_QUEUE_LIMIT, 'q');
    assert.equal(chardev.write(big), false, 'a megabyte in flight is above the mark');
    // Sends complete in a later turn of the event loop, so this one finds the first in flight.
    assert.equal(chardev.write(Buffer.from('too much')), false);
    assert.equal(chardev.droppedOutput, 'too much'.length);
    await frontend.until(() => frontend.drains === 1, 'drain');
    assert.equal(chardev.write(Buffer.from('more')), true);
    chardev.detach(frontend);
  });

  test(`a datagram longer than ${UDP_READ_BUF_LEN} bytes reaches the frontend cut to ${UDP_READ_BUF_LEN} bytes, as QEMU's read buffer cuts it`, async () => {
    const remote = await Remote.open();
    const chardev = await openUdp({ remote: inet('127.0.0.1', remote.port) });
    const frontend = new TestFrontend();
    chardev.attach(frontend);
    await remote.sendTo(chardev, Buffer.alloc(UDP_READ_BUF_LEN + 100, 'z'));
    await remote.sendTo(chardev, 'next');
    await frontend.until(() => frontend.input.length === UDP_READ_BUF_LEN + 4, 'the cut datagram and the next');
    assert.equal(frontend.text, 'z'.repeat(UDP_READ_BUF_LEN) + 'next');
    assert.equal(chardev.truncatedBytes, 100);
    chardev.detach(frontend);
  });

  test('a frontend with no room holds datagrams until acceptInput, then gets them as its room allows', async () => {
    const remote = await Remote.open();
    const chardev = await openUdp({ remote: inet('127.0.0.1', remote.port) });
    const frontend = new TestFrontend();
    frontend.capacity = 0;
    chardev.attach(frontend);
    await remote.sendTo(chardev, 'abc');
    await remote.sendTo(chardev, 'def');
    await until(() => chardev.queuedDatagrams === 2, 'both datagrams to be held');
    assert.equal(frontend.text, '');
    // Room for 4 bytes: all of the first datagram and part of the second,
    // the rest kept for later as QEMU keeps it in its buffer.
    frontend.capacity = 4;
    chardev.acceptInput();
    assert.equal(frontend.text, 'abcd');
    frontend.capacity = 10;
    chardev.acceptInput();
    assert.equal(frontend.text, 'abcdef');
    assert.equal(chardev.queuedDatagrams, 0);
    // With room again, new datagrams go straight through.
    await remote.sendTo(chardev, 'g');
    await frontend.until(() => frontend.text === 'abcdefg', 'a datagram after the backlog');
    chardev.detach(frontend);
  });

  test(`datagrams beyond ${UDP_INPUT_QUEUE_LIMIT} held bytes are dropped and counted, as a full receive buffer drops them`, async () => {
    const remote = await Remote.open();
    const chardev = await openUdp({ remote: inet('127.0.0.1', remote.port) });
    // No frontend: nobody takes input, so everything is held.
    const fit = UDP_INPUT_QUEUE_LIMIT / UDP_READ_BUF_LEN;
    for (let i = 0; i < fit + 3; i++) {
      await remote.sendTo(chardev, Buffer.alloc(UDP_READ_BUF_LEN, i));
      // One at a time, so that the kernel's own buffer never overflows.
      await until(() => chardev.queuedDatagrams + chardev.droppedDatagrams === i + 1, `datagram ${i}`);
    }
    assert.equal(chardev.queuedDatagrams, fit);
    assert.equal(chardev.droppedDatagrams, 3);
    const frontend = new TestFrontend();
    chardev.attach(frontend);
    assert.equal(frontend.input.length, UDP_INPUT_QUEUE_LIMIT);
    assert.equal(frontend.input[0], 0);
    assert.equal(frontend.input[UDP_INPUT_QUEUE_LIMIT - 1], fit - 1, 'the held datagrams are the first ones, in order');
    chardev.detach(frontend);
  });

  test('a receive error from an absent remote is logged, and input goes on once the remote is there', async () => {
    const port = await freePort();
    const chardev = await openUdp({ remote: inet('127.0.0.1', port) });
    const frontend = new TestFrontend();
    chardev.attach(frontend);
    const logged = messages.length;
    // Nobody listens: the kernel's port-unreachable reply fails the next receive.
    chardev.write(Buffer.from('anyone?'));
    await until(() => messages.length > logged, 'the receive error to be logged');
    assert.match(messages[logged] ?? '', /^chardev 'udp': receive failed: Connection refused$/);
    const remote = await Remote.open(Number(port));
    await remote.sendTo(chardev, 'back');
    await frontend.until(() => frontend.text === 'back', 'input after the error');
    chardev.detach(frontend);
  });

  test('unix, vsock and fd addresses give "socket type unsupported for datagram", for the remote and the local address', async () => {
    const others: SocketAddressLegacy[] = [
      { type: 'unix', data: { path: '/nonexistent/udp.sock' } },
      { type: 'vsock', data: { cid: '3', port: '1234' } },
      { type: 'fd', data: { str: 'myfd' } },
    ];
    for (const addr of others) {
      assert.equal(await openError({ remote: addr }), 'socket type unsupported for datagram');
      assert.equal(await openError({ remote: inet('127.0.0.1', '1234'), local: addr }), 'socket type unsupported for datagram');
    }
  });

  test('an empty remote port gives "remote port not specified", after the check of the ipv4/ipv6 options', async () => {
    assert.equal(await openError({ remote: inet('127.0.0.1', '') }), 'remote port not specified');
    assert.equal(await openError({ remote: inet('127.0.0.1', '', { ipv4: false, ipv6: false }) }), 'Cannot disable IPv4 and IPv6 at same time');
  });

  test('failed lookups give "address resolution failed for HOST:PORT" with glibc\'s text, an empty host being localhost', async () => {
    assert.equal(
      await openError({ remote: inet('', 'no-such-service') }),
      'address resolution failed for localhost:no-such-service: Servname not supported for ai_socktype',
    );
    // The local lookup prints a missing host as glibc prints a NULL string.
    assert.equal(
      await openError({ remote: inet('127.0.0.1', '1234'), local: inet('', 'no-such-service') }),
      'address resolution failed for (null):no-such-service: Servname not supported for ai_socktype',
    );
    assert.equal(
      await openError({ remote: inet('127.0.0.1', '1234'), local: inet('::1', '0') }),
      'address resolution failed for ::1:0: Address family for hostname not supported',
    );
    // The resolver's answer for an unknown name depends on the network (no DNS: a temporary failure).
    assert.match(
      await openError({ remote: inet('nonexistent.invalid', '1234') }),
      /^address resolution failed for nonexistent\.invalid:1234: (Name or service not known|Temporary failure in name resolution)$/,
    );
  });

  test('a udp service name is a port, as getaddrinfo looks it up in the services database', {
    skip: !existsSync('/etc/services') || !/^syslog\s+514\/udp/m.test(readFileSync('/etc/services', 'utf8')),
  }, async () => {
    const chardev = await openUdp({ remote: inet('127.0.0.1', '1234'), local: inet('127.0.0.1', 'syslog') }).catch((error: Error) => error);
    // Port 514 is privileged: either it is bound, or binding it was refused, not the name.
    if (chardev instanceof Error) assert.equal(chardev.message, 'Failed to bind socket: Permission denied');
    else assert.equal(chardev.localAddress?.port, 514);
  });

  test('a local port in use gives "Failed to bind socket: Address already in use"', async () => {
    const taken = await Remote.open();
    assert.equal(await openError({ remote: inet('127.0.0.1', '1234'), local: inet('127.0.0.1', taken.port) }), 'Failed to bind socket: Address already in use');
  });

  test('a failed connect gives "Failed to connect to" naming the local address, as QEMU 7.2 does', async () => {
    // Broadcast needs SO_BROADCAST, which neither QEMU nor chardevd sets: connect fails with EACCES.
    assert.equal(await openError({ remote: inet('255.255.255.255', '1234') }), "Failed to connect to '(null):0': Permission denied");
  });
});
