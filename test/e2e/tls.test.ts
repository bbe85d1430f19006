import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, suite, test } from 'node:test';
import { TLS_HANDSHAKE_TIMEOUT_MS } from '../../src/objects/tls-session.js';
import { waitFor } from '../support/peer-process.js';
import { makePki, type Pki, certtoolSkipReason } from '../support/pki.js';
import { Connection } from '../support/qmp-transcript.js';
import { type ServerProcess, startChardevd } from '../support/servers.js';
import { closedWithin, tlsPeer } from '../support/tls-peer.js';
import { CHARDEVD, CHARDEVCTL } from '../support/paths.js';

/**
 * TLS as QEMU spells it, on chardevd's own TCP endpoints: a socket
 * chardev and a QMP listener share x509 server credentials that require
 * a client certificate from the CA, and an authz-list that lets in one
 * distinguished name. Clients are real TLS clients with certificates
 * made by certtool for the test.
 */

const WAIT_MS = 15_000;

/** The port a daemon's stderr says a listener of `what` (QMP, monitor) took. */
function listenerPort(server: ServerProcess, what: string): number | undefined {
  const match = new RegExp(`${what} listening on tcp:127\\.0\\.0\\.1:(\\d+)`).exec(server.stderr());
  return match === null ? undefined : Number(match[1]);
}

/** The port of a socket chardev, from its query-chardev filename. */
async function chardevPort(qmp: Connection, id: string): Promise<number> {
  const reply = (await qmp.execute('query-chardev')) as { return: { label: string; filename: string }[] };
  const filename = reply.return.find((entry) => entry.label === id)?.filename ?? '';
  return Number(/:(\d+),server=on/.exec(filename)?.[1]);
}

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** A plain TCP connection that sends `text` and collects what comes back until it closes. */
function plainPeer(port: number, text: string): { socket: Socket; received: () => string; closed: Promise<void> } {
  const socket = connect({ host: '127.0.0.1', port });
  let received = '';
  socket.setEncoding('latin1').on('data', (chunk: string) => {
    received += chunk;
  });
  socket.on('error', () => socket.destroy());
  if (text !== '') socket.write(text);
  return { socket, received: () => received, closed: new Promise((resolve) => socket.once('close', () => resolve())) };
}

suite('TLS on socket chardevs and the QMP listener', { skip: certtoolSkipReason() }, () => {
  let pki: Pki;
  let daemon: ServerProcess;
  let qmp: Connection;
  let qmpPort: number;
  let chardevTlsPort: number;

  before(async () => {
    pki = makePki();
    const authz = JSON.stringify({ 'qom-type': 'authz-list', id: 'auth0', policy: 'deny', rules: [{ match: pki.clientName, policy: 'allow' }] });
    daemon = await startChardevd((dir) => [
      '-object',
      `tls-creds-x509,id=tls0,dir=${pki.server},endpoint=server,verify-peer=on`,
      '-object',
      authz,
      '-chardev',
      'socket,id=guest,host=127.0.0.1,port=0,server=on,wait=off,tls-creds=tls0,tls-authz=auth0',
      '-chardev',
      `socket,id=plain,path=${join(dir, 'plain.sock')},server=on,wait=off`,
      '-device',
      'link,id=l0,chardev=guest,peer=plain',
      '-qmp',
      'tcp:127.0.0.1:0,server=on,wait=off,tls-creds=tls0,tls-authz=auth0',
      '-monitor',
      'tcp:127.0.0.1:0,server=on,wait=off,tls-creds=tls0,tls-authz=auth0',
      // QMP on a TLS socket chardev, as libvirt would put it.
      '-chardev',
      'socket,id=qmon,host=127.0.0.1,port=0,server=on,wait=off,tls-creds=tls0,tls-authz=auth0',
      '-mon',
      'chardev=qmon,mode=control',
    ]);
    await waitFor(() => listenerPort(daemon, 'monitor') !== undefined, 'the TCP monitor listener', WAIT_MS);
    qmpPort = listenerPort(daemon, 'QMP')!;
    qmp = await Connection.open(daemon.qmpPath);
    await qmp.execute('qmp_capabilities');
    chardevTlsPort = await chardevPort(qmp, 'guest');
  });

  after(async () => {
    qmp?.socket.destroy();
    await daemon?.stop();
    pki?.remove();
  });

  test('TCP management endpoints with TLS that checks client certificates get no warning', () => {
    assert.ok(!daemon.stderr().includes('warning:'), 'no warning');
  });

  test('the human monitor over TLS serves an allowed client and refuses one outside the authz-list', async () => {
    const port = listenerPort(daemon, 'monitor')!;
    const allowed = tlsPeer(port, pki.client);
    try {
      await allowed.until('(chardevd) ');
      allowed.socket.write('info chardev\r\n');
      await allowed.until('qmon: filename=disconnected:tcp:127.0.0.1:');
    } finally {
      allowed.socket.destroy();
    }
    const refused = tlsPeer(port, pki.intruder);
    await closedWithin(refused, WAIT_MS);
    assert.equal(refused.received(), '');
  });

  test('QMP on a TLS socket chardev (-mon) greets an allowed client', async () => {
    const peer = tlsPeer(await chardevPort(qmp, 'qmon'), pki.client);
    try {
      await peer.until('"QMP"');
    } finally {
      peer.socket.destroy();
      await peer.closed;
    }
  });

  test('lists the objects, and the configuration holds them first', async () => {
    assert.deepEqual((await qmp.execute('query-objects'))['return'], [
      { id: 'tls0', 'qom-type': 'tls-creds-x509' },
      { id: 'auth0', 'qom-type': 'authz-list' },
    ]);
    const config = (await qmp.execute('query-config'))['return'] as { objects: { id: string }[]; qmp: string[] };
    assert.deepEqual(
      config.objects.map((object) => object.id),
      ['tls0', 'auth0'],
    );
    assert.ok(config.qmp.includes('tcp:127.0.0.1:0,server=on,wait=off,tls-creds=tls0,tls-authz=auth0'));
  });

  test('a client with an allowed certificate is served by the socket chardev, bytes both ways; query-chardev shows the connection as QEMU does', async () => {
    const local = connect(join(daemon.dir, 'plain.sock'));
    let fromGuest = '';
    local.setEncoding('latin1').on('data', (chunk: string) => {
      fromGuest += chunk;
    });
    local.on('error', () => local.destroy());
    try {
      await waitFor(() => local.readyState === 'open', 'the plain socket', WAIT_MS, 20);
      const peer = tlsPeer(chardevTlsPort, pki.client);
      try {
        await waitFor(async () => (await chardevFilename(qmp, 'guest')).includes('<->'), 'the TLS client to be served', WAIT_MS);
        assert.match(await chardevFilename(qmp, 'guest'), /^tcp:127\.0\.0\.1:\d+,server=on <-> 127\.0\.0\.1:\d+$/);
        peer.socket.write('from the guest\n');
        await waitFor(() => fromGuest.includes('from the guest\n'), 'the bytes at the plain end', WAIT_MS, 20);
        local.write('to the guest\n');
        await peer.until('to the guest\n');
      } finally {
        peer.socket.destroy();
        await peer.closed;
      }
    } finally {
      local.destroy();
    }
  });

  test('QMP over TLS serves an allowed client', async () => {
    const peer = tlsPeer(qmpPort, pki.client);
    try {
      await peer.until('"QMP"');
      peer.socket.write('{"execute":"qmp_capabilities"}{"execute":"query-objects","id":1}');
      await peer.until('"id": 1');
      assert.ok(peer.received().includes('{"qom-type": "tls-creds-x509", "id": "tls0"}'), 'query-objects over TLS lists tls0');
    } finally {
      peer.socket.destroy();
    }
  });

  for (const [name, dir] of [
    ['no certificate', (p: Pki) => p.anonymous],
    ['a certificate from another CA', (p: Pki) => p.rogue],
    ['a distinguished name outside the authz-list', (p: Pki) => p.intruder],
  ] as const) {
    test(`a client with ${name} is refused at the handshake, on QMP and on the chardev, and the listeners go on serving`, async () => {
      for (const port of [qmpPort, chardevTlsPort]) {
        const refused = tlsPeer(port, dir(pki));
        await closedWithin(refused, WAIT_MS);
        assert.equal(refused.received(), '');
      }
      const allowed = tlsPeer(qmpPort, pki.client);
      try {
        await allowed.until('"QMP"');
      } finally {
        allowed.socket.destroy();
      }
    });
  }

  test('a reconnecting client that refuses the server says so once, however often it tries again', async () => {
    // Credentials that trust only the second CA, which did not issue the server's certificate.
    const dir = join(pki.root, 'trusts-ca2');
    mkdirSync(dir);
    copyFileSync(join(pki.root, 'ca2-cert.pem'), join(dir, 'ca-cert.pem'));
    await qmp.execute('object-add', { 'qom-type': 'tls-creds-x509', id: 'wrong', dir, endpoint: 'client' });
    const serverSide = (): number =>
      daemon
        .stderr()
        .split('\n')
        .filter((line) => line.startsWith("chardevd: chardev 'guest': TLS handshake")).length;
    const before = serverSide();
    const added = await qmp.execute('chardev-add', {
      id: 'wrong',
      backend: {
        type: 'socket',
        data: { addr: { type: 'inet', data: { host: '127.0.0.1', port: String(chardevTlsPort) } }, server: false, 'reconnect-ms': 50, 'tls-creds': 'wrong' },
      },
    });
    try {
      assert.deepEqual(added['return'], {});
      // The server sees each attempt fail.
      await waitFor(() => serverSide() >= before + 3, 'three attempts', WAIT_MS, 20);
      const clientSide = daemon
        .stderr()
        .split('\n')
        .filter((line) => line.startsWith("chardevd: chardev 'wrong': TLS handshake"));
      assert.equal(clientSide.length, 1);
      assert.match(clientSide[0]!, /failed: .*certificate/i);
    } finally {
      await qmp.execute('chardev-remove', { id: 'wrong' });
      await qmp.execute('object-del', { id: 'wrong' });
    }
  });

  test('chardevctl talks QMP over TLS with --tls-dir, and is refused with a certificate outside the authz-list', async () => {
    const run = (dir: string): Promise<{ status: number | null; stdout: string }> =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, [CHARDEVCTL, '-s', `tcp:127.0.0.1:${qmpPort}`, '--tls-dir', dir, 'query-objects'], { stdio: ['ignore', 'pipe', 'ignore'] });
        let stdout = '';
        child.stdout.setEncoding('utf8').on('data', (text: string) => {
          stdout += text;
        });
        const timer = setTimeout(() => child.kill('SIGKILL'), WAIT_MS);
        child.once('close', (status) => {
          clearTimeout(timer);
          resolve({ status, stdout });
        });
      });
    const allowed = await run(pki.client);
    assert.equal(allowed.status, 0);
    assert.ok(allowed.stdout.includes('"tls0"'), 'query-objects came back');
    const refused = await run(pki.intruder);
    assert.notEqual(refused.status, 0);
    assert.ok(!refused.stdout.includes('tls0'), 'nothing came back');
  });

  test("the refusals are logged with QEMU's reasons", () => {
    const log = daemon.stderr();
    assert.match(log, /QMP listener tcp:127\.0\.0\.1:\d+: TLS handshake with 127\.0\.0\.1:\d+ failed: No certificate peers/);
    assert.match(log, /failed: The certificate hasn't got a known issuer/);
    assert.match(log, /chardev 'guest': TLS handshake with 127\.0\.0\.1:\d+ failed: TLS x509 authz check for O=Example,CN=intruder is denied/);
  });

  test('a plain-text client on a TLS listener gets no greeting and is closed', async () => {
    const peer = plainPeer(qmpPort, '{"execute":"qmp_capabilities"}\r\n');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([peer.closed, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('still open')), WAIT_MS)))]).finally(() =>
      clearTimeout(timer),
    );
    assert.ok(!peer.received().includes('QMP'), 'no greeting');
  });

  test(`a handshake that stalls is closed after ${TLS_HANDSHAKE_TIMEOUT_MS / 1000} s, while other clients are served`, async () => {
    const stalled = plainPeer(qmpPort, '');
    try {
      await waitFor(() => stalled.socket.readyState === 'open', 'the stalled connection', WAIT_MS, 20);
      const allowed = tlsPeer(qmpPort, pki.client);
      try {
        await allowed.until('"QMP"');
      } finally {
        allowed.socket.destroy();
      }
      let timer: NodeJS.Timeout | undefined;
      const bound = TLS_HANDSHAKE_TIMEOUT_MS + WAIT_MS;
      await Promise.race([stalled.closed, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`still open after ${bound} ms`)), bound)))]).finally(() =>
        clearTimeout(timer),
      );
      await waitFor(() => /failed: no TLS handshake within 10 s/.test(daemon.stderr()), 'the timeout in the log', WAIT_MS);
    } finally {
      stalled.socket.destroy();
    }
  });

  test('1,000 failed handshakes in a row are refused, leave no descriptor behind, and an allowed client is served after them', async () => {
    const before = openFds(daemon.pid);
    const ATTEMPTS = 1000;
    const AT_ONCE = 8;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < ATTEMPTS) {
        const i = next++;
        // Plain text and certificate-less TLS clients, alternately.
        const peer = i % 2 === 0 ? plainPeer(qmpPort, 'GET / HTTP/1.0\r\n\r\n') : tlsPeer(qmpPort, pki.anonymous);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([peer.closed, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`attempt ${i} still open`)), WAIT_MS)))]).finally(() =>
          clearTimeout(timer),
        );
        assert.ok(!peer.received().includes('QMP'), `attempt ${i} got no greeting`);
      }
    };
    await Promise.all(Array.from({ length: AT_ONCE }, worker));
    // The daemon closes each socket as the peer goes; give it a bounded moment to finish.
    await waitFor(() => openFds(daemon.pid) <= before, `the descriptors to come back to ${before} (now ${openFds(daemon.pid)})`, WAIT_MS);
    const allowed = tlsPeer(qmpPort, pki.client);
    try {
      await allowed.until('"QMP"');
    } finally {
      allowed.socket.destroy();
    }
  });
});

async function chardevFilename(qmp: Connection, id: string): Promise<string> {
  const reply = (await qmp.execute('query-chardev')) as { return: { label: string; filename: string }[] };
  return reply.return.find((entry) => entry.label === id)?.filename ?? '';
}

suite('TLS that does not check the client', () => {
  test('a TCP QMP listener with anonymous credentials still gets the warning', async () => {
    const daemon = await startChardevd(['-object', 'tls-creds-anon,id=anon0,endpoint=server', '-qmp', 'tcp:127.0.0.1:0,server=on,wait=off,tls-creds=anon0']);
    try {
      await waitFor(() => daemon.stderr().includes('warning: QMP listener tcp:127.0.0.1:'), 'the warning', WAIT_MS);
    } finally {
      await daemon.stop();
    }
  });

  test("a listener's unknown or client credentials stop startup with the socket chardev's words", () => {
    for (const [objects, text] of [
      [[], "No TLS credentials with id 'tls0'"],
      [['-object', 'tls-creds-anon,id=tls0,endpoint=client'], 'Expected TLS credentials for a server endpoint'],
    ] as const) {
      const run = spawnSync(process.execPath, [CHARDEVD, ...objects, '-qmp', 'tcp:127.0.0.1:0,server=on,wait=off,tls-creds=tls0'], {
        encoding: 'utf8',
        timeout: WAIT_MS,
      });
      assert.equal(run.status, 1);
      assert.equal(run.stderr, `chardevd: -qmp tcp:127.0.0.1:0,server=on,wait=off,tls-creds=tls0: ${text}\n`);
    }
  });
});
