import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, suite, test } from 'node:test';
import { ObjectRegistry } from '../../../src/objects/object-registry.js';
import { distinguishedName } from '../../../src/objects/peer-name.js';
import { acceptTls, connectTls, type TlsOutcome } from '../../../src/objects/tls-session.js';
import { certtoolSkipReason, makePki, type Pki } from '../../support/pki.js';

/** A TCP connection on loopback, both ends: the accepted socket and the connected one. */
async function socketPair(): Promise<{ server: Socket; client: Socket; close: () => void }> {
  const listener = createServer({ pauseOnConnect: true });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<Socket>((resolve) => listener.once('connection', resolve));
  const client = connect({ host: '127.0.0.1', port: (listener.address() as AddressInfo).port });
  await new Promise<void>((resolve) => client.once('connect', resolve));
  const server = await accepted;
  listener.close();
  return { server, client, close: () => [server, client].forEach((s) => s.destroy()) };
}

/** Runs a server and a client handshake over one connection; resolves with both outcomes and the cipher the server chose. */
async function handshake(objects: ObjectRegistry, serverId: string, clientId: string, authz?: string): Promise<[TlsOutcome, TlsOutcome, string | undefined]> {
  const pair = await socketPair();
  try {
    const server = new Promise<TlsOutcome>((resolve) => {
      acceptTls(pair.server, { creds: objects.tlsCreds(serverId, 'server'), authz, lookupAuthz: (id) => objects.authz(id) }, resolve);
      pair.server.resume();
    });
    const client = new Promise<TlsOutcome>((resolve) => connectTls(pair.client, objects.tlsCreds(clientId, 'client'), '127.0.0.1', resolve));
    const outcomes = await Promise.all([server, client]);
    const [first] = outcomes;
    const cipher = 'socket' in first ? first.socket.getCipher().name : undefined;
    for (const outcome of outcomes) if ('socket' in outcome) outcome.socket.destroy();
    return [...outcomes, cipher];
  } finally {
    pair.close();
  }
}

suite('TLS sessions', { skip: certtoolSkipReason() }, () => {
  let pki: Pki;
  let objects: ObjectRegistry;
  before(() => {
    pki = makePki();
    objects = new ObjectRegistry();
    objects.add({ 'qom-type': 'tls-creds-x509', id: 'server', dir: pki.server, endpoint: 'server' });
    for (const name of ['client', 'intruder', 'anonymous'] as const) objects.add({ 'qom-type': 'tls-creds-x509', id: name, dir: pki[name], endpoint: 'client' });
    // Its certificate is not from its ca-cert.pem's CA, which the sanity check would refuse, as QEMU's does.
    objects.add({ 'qom-type': 'tls-creds-x509', id: 'rogue', dir: pki.rogue, endpoint: 'client', 'sanity-check': false });
    objects.add({ 'qom-type': 'authz-list', id: 'auth0', rules: [{ match: 'O=Example,CN=client*', policy: 'allow', format: 'glob' }] });
  });
  after(() => pki?.remove());

  test("names a certificate's subject as QEMU 7.2 does: the certificate's order, joined by commas", () => {
    assert.equal(distinguishedName(new X509Certificate(readFileSync(join(pki.client, 'client-cert.pem')))), 'O=Example,CN=client1');
  });

  test('serves a client whose certificate the CA issued and the authz allows', async () => {
    const [server, client] = await handshake(objects, 'server', 'client', 'auth0');
    assert.ok('socket' in server && 'socket' in client);
  });

  test("refuses, in QEMU's words, no certificate, another CA's, a name the authz denies, an authz that is gone", async () => {
    const refusal = async (clientId: string, authz?: string): Promise<string> => {
      const [server] = await handshake(objects, 'server', clientId, authz);
      return 'refused' in server ? server.refused : 'served';
    };
    assert.equal(await refusal('anonymous'), 'No certificate peers');
    assert.equal(await refusal('rogue'), "The certificate hasn't got a known issuer");
    assert.equal(await refusal('intruder', 'auth0'), 'TLS x509 authz check for O=Example,CN=intruder is denied');
    assert.equal(await refusal('client', 'gone'), 'Cannot find QAuthZ object ID gone');
  });

  test('a client refuses a server whose certificate does not name the host it connected to', async () => {
    const pair = await socketPair();
    try {
      acceptTls(pair.server, { creds: objects.tlsCreds('server', 'server'), lookupAuthz: (id) => objects.authz(id) }, () => {});
      pair.server.resume();
      const outcome = await new Promise<TlsOutcome>((resolve) => connectTls(pair.client, objects.tlsCreds('client', 'client'), '127.0.0.2', resolve));
      assert.ok('refused' in outcome && /IP: 127\.0\.0\.2 is not in the cert's list/.test(outcome.refused), JSON.stringify(outcome));
    } finally {
      pair.close();
    }
  });

  test('pre-shared keys: the same key gets through, another is refused', async () => {
    const dir = join(pki.root, 'psk');
    mkdirSync(dir);
    writeFileSync(join(dir, 'keys.psk'), 'qemu:00112233445566778899aabbccddeeff\n');
    const wrong = join(pki.root, 'psk-wrong');
    mkdirSync(wrong);
    writeFileSync(join(wrong, 'keys.psk'), 'qemu:ffeeddccbbaa99887766554433221100\n');
    objects.add({ 'qom-type': 'tls-creds-psk', id: 'psk-s', dir, endpoint: 'server' });
    objects.add({ 'qom-type': 'tls-creds-psk', id: 'psk-c', dir, endpoint: 'client' });
    objects.add({ 'qom-type': 'tls-creds-psk', id: 'psk-w', dir: wrong, endpoint: 'client' });
    const [server, client] = await handshake(objects, 'psk-s', 'psk-c');
    assert.ok('socket' in server && 'socket' in client);
    const [refused] = await handshake(objects, 'psk-s', 'psk-w');
    assert.ok('refused' in refused);
  });

  test('anonymous credentials get through at security level 0', async () => {
    objects.add({ 'qom-type': 'tls-creds-anon', id: 'anon-s', endpoint: 'server' });
    objects.add({ 'qom-type': 'tls-creds-anon', id: 'anon-c', endpoint: 'client' });
    const [server, client, cipher] = await handshake(objects, 'anon-s', 'anon-c');
    assert.ok('socket' in server && 'socket' in client);
    assert.match(cipher ?? '', /^ADH-/);
  });
});
