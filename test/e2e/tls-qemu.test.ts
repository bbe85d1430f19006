import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, suite, test } from 'node:test';
import { waitFor } from '../support/peer-process.js';
import { certtoolSkipReason, makePki, type Pki } from '../support/pki.js';
import { Connection } from '../support/qmp-transcript.js';
import { qemuSkipReason, type ServerProcess, startChardevd, startQemu } from '../support/servers.js';

/**
 * QEMU 7.2 and chardevd on either end of a TLS socket, each with its own
 * -object tls-creds-x509: QEMU's human monitor runs on QEMU's end, and
 * chardevd links its end to a plain unix socket chardev the test talks
 * through, so QEMU's banner comes one way and a command goes the other.
 */

const WAIT_MS = 15_000;

/** A unix socket connection that collects what it receives. */
async function localPeer(path: string): Promise<{ socket: Socket; text: () => string }> {
  const socket = connect(path);
  let text = '';
  socket.setEncoding('latin1').on('data', (chunk: string) => {
    text += chunk;
  });
  socket.on('error', () => socket.destroy());
  await waitFor(() => socket.readyState === 'open', `a connection to ${path}`, WAIT_MS, 20);
  return { socket, text: () => text };
}

async function filenameOf(qmp: Connection, id: string): Promise<string> {
  const reply = (await qmp.execute('query-chardev')) as { return: { label: string; filename: string }[] };
  return reply.return.find((entry) => entry.label === id)?.filename ?? '';
}

/** QEMU's monitor over the link: its banner arrives, `info version` is answered. */
async function talkToQemuMonitor(local: { socket: Socket; text: () => string }): Promise<void> {
  await waitFor(() => local.text().includes('(qemu) '), "QEMU's monitor prompt through the TLS socket", WAIT_MS, 20);
  assert.ok(local.text().includes('QEMU 7.2'), "QEMU's banner came through");
  // One byte a TLS record, each after the echo of the last: QEMU 7.2's monitor reads a byte at a
  // time, and what GnuTLS holds of a longer record waits until more comes over the socket.
  for (const byte of 'info version\r') {
    const before = local.text().length;
    local.socket.write(byte);
    await waitFor(() => local.text().length > before, `the echo of ${JSON.stringify(byte)}`, WAIT_MS, 5);
  }
  await waitFor(() => /7\.2\.\d+/.test(local.text().split('info version')[1] ?? ''), "the answer to 'info version'", WAIT_MS, 20);
}

suite('TLS between QEMU 7.2 and chardevd', { skip: qemuSkipReason() ?? certtoolSkipReason() }, () => {
  let pki: Pki;
  const servers: ServerProcess[] = [];

  before(() => {
    pki = makePki();
  });

  after(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    pki?.remove();
  });

  test('QEMU as the TLS client of a chardevd socket chardev that checks its certificate with authz-simple', async () => {
    const chardevd = await startChardevd((dir) => [
      '-object',
      `tls-creds-x509,id=tls0,dir=${pki.server},endpoint=server,verify-peer=on`,
      // A comma in a key=value value is written twice, as QEMU reads it.
      '-object',
      `authz-simple,id=auth0,identity=${pki.clientName.replaceAll(',', ',,')}`,
      '-chardev',
      'socket,id=guest,host=127.0.0.1,port=0,server=on,wait=off,tls-creds=tls0,tls-authz=auth0',
      '-chardev',
      `socket,id=plain,path=${join(dir, 'plain.sock')},server=on,wait=off`,
      '-device',
      'link,id=l0,chardev=guest,peer=plain',
    ]);
    servers.push(chardevd);
    const qmp = await Connection.negotiated(chardevd.qmpPath);
    try {
      const port = Number(/:(\d+),server=on$/.exec(await filenameOf(qmp, 'guest'))?.[1]);
      const local = await localPeer(join(chardevd.dir, 'plain.sock'));
      try {
        const qemu = await startQemu([
          '-object',
          `tls-creds-x509,id=tc,dir=${pki.client},endpoint=client`,
          '-chardev',
          `socket,id=c0,host=127.0.0.1,port=${port},tls-creds=tc`,
          '-mon',
          'chardev=c0,mode=readline',
        ]);
        servers.push(qemu);
        await talkToQemuMonitor(local);
        // qemu_chr_compute_filename of the TCP socket underneath, as QEMU shows its own TLS sockets.
        assert.match(await filenameOf(qmp, 'guest'), /^tcp:127\.0\.0\.1:\d+,server=on <-> 127\.0\.0\.1:\d+$/);
      } finally {
        local.socket.destroy();
      }
    } finally {
      qmp.socket.destroy();
    }
  });

  test('chardevd as the TLS client of a QEMU socket chardev that checks its certificate, added with chardev-add', async () => {
    const qemu = await startQemu([
      '-object',
      `tls-creds-x509,id=ts,dir=${pki.server},endpoint=server,verify-peer=on`,
      '-object',
      `authz-simple,id=a0,identity=${pki.clientName.replaceAll(',', ',,')}`,
      '-chardev',
      'socket,id=q0,host=127.0.0.1,port=0,server=on,wait=off,tls-creds=ts,tls-authz=a0',
      '-mon',
      'chardev=q0,mode=readline',
    ]);
    servers.push(qemu);
    const chardevd = await startChardevd((dir) => [
      '-object',
      `tls-creds-x509,id=tc,dir=${pki.client},endpoint=client`,
      '-chardev',
      `socket,id=plain,path=${join(dir, 'plain.sock')},server=on,wait=off`,
    ]);
    servers.push(chardevd);
    const theirs = await Connection.negotiated(qemu.qmpPath);
    const ours = await Connection.negotiated(chardevd.qmpPath);
    try {
      const port = /:(\d+),server=on$/.exec(await filenameOf(theirs, 'q0'))?.[1];
      const local = await localPeer(join(chardevd.dir, 'plain.sock'));
      try {
        const added = await ours.execute('chardev-add', {
          id: 'guest',
          backend: { type: 'socket', data: { addr: { type: 'inet', data: { host: '127.0.0.1', port } }, server: false, 'tls-creds': 'tc' } },
        });
        assert.deepEqual(added['return'], {});
        assert.deepEqual((await ours.execute('device_add', { driver: 'link', id: 'l0', chardev: 'guest', peer: 'plain' }))['return'], {});
        await talkToQemuMonitor(local);
        // Both ends name the TCP connection the same way, TLS or not.
        assert.match(await filenameOf(theirs, 'q0'), /^tcp:127\.0\.0\.1:\d+,server=on <-> 127\.0\.0\.1:\d+$/);
        assert.match(await filenameOf(ours, 'guest'), /^tcp:127\.0\.0\.1:\d+ <-> 127\.0\.0\.1:\d+$/);
      } finally {
        local.socket.destroy();
      }
    } finally {
      theirs.socket.destroy();
      ours.socket.destroy();
    }
  });

  for (const kind of ['psk', 'anon'] as const) {
    test(`chardevd as the TLS client of a QEMU socket chardev with ${kind === 'psk' ? 'pre-shared keys' : 'anonymous credentials'}`, async () => {
      const dir = join(pki.root, `keys-${kind}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'keys.psk'), 'qemu:00112233445566778899aabbccddeeff\n');
      const object = (id: string, endpoint: string): string =>
        kind === 'psk' ? `tls-creds-psk,id=${id},dir=${dir},endpoint=${endpoint}` : `tls-creds-anon,id=${id},endpoint=${endpoint}`;
      const qemu = await startQemu([
        '-object',
        object('ts', 'server'),
        '-chardev',
        'socket,id=q0,host=127.0.0.1,port=0,server=on,wait=off,tls-creds=ts',
        '-mon',
        'chardev=q0,mode=readline',
      ]);
      servers.push(qemu);
      const chardevd = await startChardevd((tmp) => [
        '-object',
        object('tc', 'client'),
        '-chardev',
        `socket,id=plain,path=${join(tmp, 'plain.sock')},server=on,wait=off`,
      ]);
      servers.push(chardevd);
      const theirs = await Connection.negotiated(qemu.qmpPath);
      const ours = await Connection.negotiated(chardevd.qmpPath);
      try {
        const port = /:(\d+),server=on$/.exec(await filenameOf(theirs, 'q0'))?.[1];
        const local = await localPeer(join(chardevd.dir, 'plain.sock'));
        try {
          await ours.execute('chardev-add', {
            id: 'guest',
            backend: { type: 'socket', data: { addr: { type: 'inet', data: { host: '127.0.0.1', port } }, server: false, 'tls-creds': 'tc' } },
          });
          await ours.execute('device_add', { driver: 'link', id: 'l0', chardev: 'guest', peer: 'plain' });
          await talkToQemuMonitor(local);
        } finally {
          local.socket.destroy();
        }
      } finally {
        theirs.socket.destroy();
        ours.socket.destroy();
      }
    });
  }
});
