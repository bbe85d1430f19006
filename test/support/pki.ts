/** Certificates made with GnuTLS's certtool for TLS tests: two CAs, a server, and clients inside and outside an authz list. */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Why certificate tests cannot run here, or undefined when they can. */
export function certtoolSkipReason(): string | undefined {
  const found = (process.env['PATH'] ?? '').split(':').some((dir) => existsSync(join(dir, 'certtool')));
  return found ? undefined : 'certtool is not installed (apt-get install gnutls-bin)';
}

/**
 * Directories laid out as QEMU's tls-creds-x509 reads them (ca-cert.pem,
 * server-cert.pem and server-key.pem, or client-cert.pem and
 * client-key.pem), each with the first CA's ca-cert.pem:
 * `server` (CN=localhost, for localhost and 127.0.0.1), `client`
 * (O=Example,CN=client1), `intruder` (O=Example,CN=intruder, outside the
 * tests' authz lists), `rogue` (O=Example,CN=client1 again, issued by a
 * second CA), `anonymous` (no client certificate).
 */
export interface Pki {
  readonly root: string;
  readonly server: string;
  readonly client: string;
  readonly intruder: string;
  readonly rogue: string;
  readonly anonymous: string;
  /** The distinguished name of `client`'s certificate, as GnuTLS and the authz objects write it. */
  readonly clientName: string;
  remove(): void;
}

const CA_TEMPLATE = 'cn = "Test CA"\nca\ncert_signing_key\nexpiration_days = 2\n';
const SERVER_TEMPLATE =
  'organization = "Example"\ncn = "localhost"\ndns_name = "localhost"\nip_address = "127.0.0.1"\ntls_www_server\nsigning_key\nencryption_key\nexpiration_days = 2\n';
const clientTemplate = (cn: string): string => `organization = "Example"\ncn = "${cn}"\ntls_www_client\nsigning_key\nencryption_key\nexpiration_days = 2\n`;

/** Makes the certificates in a new temporary directory (ECDSA keys: quick to make). */
export function makePki(): Pki {
  const root = mkdtempSync(join(tmpdir(), 'chardevd-pki-'));
  const run = (args: string[]): void => {
    execFileSync('certtool', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const key = (path: string): void => run(['--generate-privkey', '--key-type=ecdsa', '--outfile', path]);
  const template = (name: string, text: string): string => {
    const path = join(root, `${name}.info`);
    writeFileSync(path, text);
    return path;
  };
  const ca = (name: string): { cert: string; key: string } => {
    const caKey = join(root, `${name}-key.pem`);
    const cert = join(root, `${name}-cert.pem`);
    key(caKey);
    run(['--generate-self-signed', '--load-privkey', caKey, '--template', template(name, CA_TEMPLATE), '--outfile', cert]);
    return { cert, key: caKey };
  };
  const ca1 = ca('ca1');
  const ca2 = ca('ca2');
  const issue = (dir: string, role: 'server' | 'client', text: string, by: { cert: string; key: string }): string => {
    const path = join(root, dir);
    mkdirSync(path, { mode: 0o700 });
    copyFileSync(ca1.cert, join(path, 'ca-cert.pem'));
    key(join(path, `${role}-key.pem`));
    run([
      '--generate-certificate',
      '--load-privkey',
      join(path, `${role}-key.pem`),
      '--load-ca-certificate',
      by.cert,
      '--load-ca-privkey',
      by.key,
      '--template',
      template(dir, text),
      '--outfile',
      join(path, `${role}-cert.pem`),
    ]);
    return path;
  };
  const anonymous = join(root, 'anonymous');
  mkdirSync(anonymous, { mode: 0o700 });
  copyFileSync(ca1.cert, join(anonymous, 'ca-cert.pem'));
  return {
    root,
    server: issue('server', 'server', SERVER_TEMPLATE, ca1),
    client: issue('client', 'client', clientTemplate('client1'), ca1),
    intruder: issue('intruder', 'client', clientTemplate('intruder'), ca1),
    rogue: issue('rogue', 'client', clientTemplate('client1'), ca2),
    anonymous,
    clientName: 'O=Example,CN=client1',
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}
