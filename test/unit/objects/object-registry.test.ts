import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, suite, test } from 'node:test';
import { ObjectError } from '../../../src/objects/object-error.js';
import { ObjectRegistry } from '../../../src/objects/object-registry.js';
import { certtoolSkipReason, makePki, type Pki } from '../../support/pki.js';

suite('ObjectRegistry', () => {
  test("keeps objects in the order made; a bad id, a taken id and an unknown id are refused in QEMU 7.2's words", () => {
    const objects = new ObjectRegistry();
    objects.add({ 'qom-type': 'authz-simple', id: 'a0', identity: 'x' });
    objects.add({ 'qom-type': 'authz-list', id: 'a1' });
    assert.throws(() => objects.add({ 'qom-type': 'authz-list', id: '1a' }), new ObjectError("Parameter 'id' expects an identifier"));
    assert.throws(() => objects.add({ 'qom-type': 'authz-list', id: 'a0' }), new ObjectError("attempt to add duplicate property 'a0' to object (type 'container')"));
    assert.deepEqual(objects.list(), [
      { id: 'a0', 'qom-type': 'authz-simple' },
      { id: 'a1', 'qom-type': 'authz-list' },
    ]);
    objects.delete('a0');
    assert.throws(() => objects.delete('a0'), new ObjectError("object 'a0' not found"));
    assert.deepEqual(objects.options(), [{ 'qom-type': 'authz-list', id: 'a1' }]);
  });

  test("looks up credentials and authorization as a socket does, with QEMU's texts", () => {
    const objects = new ObjectRegistry();
    objects.add({ 'qom-type': 'authz-simple', id: 'a0', identity: 'x' });
    objects.add({ 'qom-type': 'tls-creds-anon', id: 'n0', endpoint: 'server' });
    assert.throws(() => objects.tlsCreds('nope', 'server'), new ObjectError("No TLS credentials with id 'nope'"));
    assert.throws(() => objects.tlsCreds('a0', 'server'), new ObjectError("Object with id 'a0' is not TLS credentials"));
    assert.throws(() => objects.tlsCreds('n0', 'client'), new ObjectError('Expected TLS credentials for a client endpoint'));
    assert.equal(objects.tlsCreds('n0', 'server').qomType, 'tls-creds-anon');
    assert.equal(objects.authz('nope'), 'Cannot find QAuthZ object ID nope');
    assert.equal(objects.authz('n0'), "Object 'n0' is not a QAuthZ subclass");
    assert.equal((objects.authz('a0') as { isAllowed(s: string): boolean }).isAllowed('x'), true);
  });

  test('refuses what OpenSSL cannot honour: a GnuTLS priority string, a key password from a secret object', () => {
    const objects = new ObjectRegistry();
    assert.throws(
      () => objects.add({ 'qom-type': 'tls-creds-anon', id: 'n0', priority: 'NORMAL' }),
      /GnuTLS priority string, which chardevd's TLS \(OpenSSL, through Node\.js\) cannot honour/,
    );
    assert.throws(
      () => objects.add({ 'qom-type': 'tls-creds-x509', id: 'x0', dir: '/nonexistent', passwordid: 'sec0' }),
      /names a secret object, which chardevd does not have/,
    );
  });
});

suite('tls-creds-x509 and tls-creds-psk files', { skip: certtoolSkipReason() }, () => {
  let pki: Pki;
  before(() => {
    pki = makePki();
  });
  after(() => pki?.remove());

  /** A directory of `files` (name -> path to copy), for a credentials object. */
  const dirOf = (name: string, files: Record<string, string>): string => {
    const dir = join(pki.root, name);
    mkdirSync(dir);
    for (const [file, from] of Object.entries(files)) copyFileSync(from, join(dir, file));
    return dir;
  };

  test('loads a server and a client directory; a server needs its certificate and key, a client may go without', () => {
    const objects = new ObjectRegistry();
    objects.add({ 'qom-type': 'tls-creds-x509', id: 's', dir: pki.server, endpoint: 'server' });
    objects.add({ 'qom-type': 'tls-creds-x509', id: 'c', dir: pki.anonymous, endpoint: 'client' });
    assert.throws(
      () => objects.add({ 'qom-type': 'tls-creds-x509', id: 's2', dir: pki.anonymous, endpoint: 'server' }),
      new ObjectError(`Unable to access credentials ${pki.anonymous}/server-cert.pem: No such file or directory`),
    );
  });

  test("makes QEMU's sanity checks: a CA that is none, a certificate another CA issued", () => {
    const objects = new ObjectRegistry();
    const notCa = dirOf('not-ca', {
      'ca-cert.pem': join(pki.client, 'client-cert.pem'),
      'server-cert.pem': join(pki.server, 'server-cert.pem'),
      'server-key.pem': join(pki.server, 'server-key.pem'),
    });
    assert.throws(
      () => objects.add({ 'qom-type': 'tls-creds-x509', id: 'x', dir: notCa, endpoint: 'server' }),
      new ObjectError(`The certificate ${notCa}/ca-cert.pem basic constraints do not show a CA`),
    );
    const otherCa = dirOf('other-ca', {
      'ca-cert.pem': join(pki.root, 'ca2-cert.pem'),
      'server-cert.pem': join(pki.server, 'server-cert.pem'),
      'server-key.pem': join(pki.server, 'server-key.pem'),
    });
    assert.throws(
      () => objects.add({ 'qom-type': 'tls-creds-x509', id: 'x', dir: otherCa, endpoint: 'server' }),
      new ObjectError(`Our own certificate ${otherCa}/server-cert.pem failed validation against ${otherCa}/ca-cert.pem: The certificate hasn't got a known issuer`),
    );
    // sanity-check=off skips them, as in QEMU.
    objects.add({ 'qom-type': 'tls-creds-x509', id: 'x', dir: otherCa, endpoint: 'server', 'sanity-check': false });
  });

  test('refuses a revocation list, which chardevd does not check', () => {
    const dir = dirOf('crl', {
      'ca-cert.pem': join(pki.server, 'ca-cert.pem'),
      'ca-crl.pem': join(pki.server, 'ca-cert.pem'),
      'server-cert.pem': join(pki.server, 'server-cert.pem'),
      'server-key.pem': join(pki.server, 'server-key.pem'),
    });
    assert.throws(
      () => new ObjectRegistry().add({ 'qom-type': 'tls-creds-x509', id: 'x', dir, endpoint: 'server' }),
      /does not check certificates against a revocation list/,
    );
  });

  test('reads keys.psk; a client needs its user in it, a server takes no username', () => {
    const dir = join(pki.root, 'psk');
    mkdirSync(dir);
    writeFileSync(join(dir, 'keys.psk'), 'qemu:0123456789abcdef\nother:00ff\n');
    const objects = new ObjectRegistry();
    objects.add({ 'qom-type': 'tls-creds-psk', id: 's', dir, endpoint: 'server' });
    objects.add({ 'qom-type': 'tls-creds-psk', id: 'c', dir, endpoint: 'client' });
    objects.add({ 'qom-type': 'tls-creds-psk', id: 'c2', dir, endpoint: 'client', username: 'other' });
    assert.throws(
      () => objects.add({ 'qom-type': 'tls-creds-psk', id: 'c3', dir, endpoint: 'client', username: 'nobody' }),
      new ObjectError(`Username nobody not found in pre-shared key file ${dir}/keys.psk`),
    );
    assert.throws(
      () => objects.add({ 'qom-type': 'tls-creds-psk', id: 's2', dir, endpoint: 'server', username: 'qemu' }),
      new ObjectError('username should not be set when endpoint=server'),
    );
    writeFileSync(join(dir, 'keys.psk'), 'qemu:not-hex\n');
    assert.throws(() => objects.add({ 'qom-type': 'tls-creds-psk', id: 'bad', dir, endpoint: 'server' }), /expected lines of username:hexkey/);
  });
});
