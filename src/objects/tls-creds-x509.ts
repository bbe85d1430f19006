import type { X509Certificate } from 'node:crypto';
import type * as tls from 'node:tls';
import type { TlsCredsX509Properties } from '../generated/qapi-types.gen.js';
import { ObjectError } from './object-error.js';
import { TlsCreds } from './tls-creds.js';

/** A parsed certificate; node:crypto is loaded with the first one, not at start-up. */
const newCertificate = (pem: string | Buffer): X509Certificate => new (process.getBuiltinModule('node:crypto').X509Certificate)(pem);

/**
 * tls-creds-x509 (crypto/tlscredsx509.c): the files QEMU reads from `dir`
 * (ca-cert.pem; server-cert.pem, server-key.pem and optional
 * dh-params.pem for a server; optional client-cert.pem and client-key.pem
 * for a client) in QEMU's order and with its texts, and the part of
 * QEMU's sanity check OpenSSL can tell: validity times, CA basic
 * constraints, and the certificate issued by the CA.
 */
export class TlsCredsX509 extends TlsCreds {
  readonly qomType = 'tls-creds-x509';
  readonly #ca: Buffer;
  readonly #cert: Buffer | undefined;
  readonly #key: Buffer | undefined;
  readonly #dhparam: Buffer | undefined;
  readonly #cas: readonly X509Certificate[];

  constructor(properties: TlsCredsX509Properties) {
    super(properties);
    // A passwordid names a QEMU secret object, which chardevd does not have.
    if (properties.passwordid !== undefined) {
      throw new ObjectError(`passwordid '${properties.passwordid}' names a secret object, which chardevd does not have; give an unencrypted key file instead`);
    }
    const server = this.endpoint === 'server';
    const caPath = this.credentialPath('ca-cert.pem', true)!;
    let certPath: string | undefined;
    let keyPath: string | undefined;
    let dhPath: string | undefined;
    if (server) {
      // ca-crl.pem comes between in QEMU; chardevd reads no revocation list, and says so below if there is one.
      const crlPath = this.credentialPath('ca-crl.pem', false);
      certPath = this.credentialPath('server-cert.pem', true);
      keyPath = this.credentialPath('server-key.pem', true);
      dhPath = this.credentialPath('dh-params.pem', false);
      if (crlPath !== undefined)
        throw new ObjectError(`${crlPath}: chardevd does not check certificates against a revocation list; remove the file or revoke by reissuing the CA`);
    } else {
      certPath = this.credentialPath('client-cert.pem', false);
      keyPath = this.credentialPath('client-key.pem', false);
    }
    this.#ca = TlsCreds.readCredential(caPath);
    this.#cert = certPath === undefined ? undefined : TlsCreds.readCredential(certPath);
    this.#key = keyPath === undefined ? undefined : TlsCreds.readCredential(keyPath);
    this.#dhparam = dhPath === undefined ? undefined : TlsCreds.readCredential(dhPath);
    this.#cas = caCertificates(this.#ca, caPath);
    if (properties['sanity-check'] ?? true) sanityCheck(this.#cas, caPath, this.#cert, certPath, server);
    try {
      // What gnutls_certificate_set_x509_trust_file and _key_file2 would refuse.
      process.getBuiltinModule('node:tls').createSecureContext(this.#contextOptions());
    } catch (error: unknown) {
      throw new ObjectError(`Cannot load certificate '${certPath ?? ''}' & key '${keyPath ?? ''}': ${(error as Error).message}`);
    }
  }

  #contextOptions(): tls.SecureContextOptions {
    const options: tls.SecureContextOptions = { ca: this.#ca };
    if (this.#cert !== undefined && this.#key !== undefined) {
      options.cert = this.#cert;
      options.key = this.#key;
    }
    if (this.#dhparam !== undefined) options.dhparam = this.#dhparam;
    return options;
  }

  override get trustedCertificates(): readonly X509Certificate[] {
    return this.#cas;
  }

  override get authorizesPeers(): boolean {
    return this.verifyPeer;
  }

  override get authenticatesPeers(): boolean {
    return this.verifyPeer;
  }

  serverOptions(): tls.TlsOptions {
    // QEMU requests a client certificate and enforces it only with verify-peer.
    return { ...this.#contextOptions(), requestCert: this.verifyPeer, rejectUnauthorized: this.verifyPeer };
  }

  clientOptions(host: string): tls.ConnectionOptions {
    // The server's certificate must name the host connected to (gnutls_x509_crt_check_hostname), as QEMU checks it.
    const options: tls.ConnectionOptions = { ...this.#contextOptions(), rejectUnauthorized: this.verifyPeer };
    if (!this.verifyPeer) options.checkServerIdentity = () => undefined;
    else options.checkServerIdentity = (_name, cert) => process.getBuiltinModule('node:tls').checkServerIdentity(host, cert);
    if (tlsServerName(host) !== undefined) options.servername = host;
    return options;
  }
}

/** SNI carries host names only, never an address. */
function tlsServerName(host: string): string | undefined {
  return /^[0-9.]+$/.test(host) || host.includes(':') ? undefined : host;
}

/** qcrypto_tls_creds_x509_sanity_check, as far as Node.js's X509Certificate shows what it checks. */
function sanityCheck(cas: readonly X509Certificate[], caPath: string, certPem: Buffer | undefined, certPath: string | undefined, server: boolean): void {
  let cert: X509Certificate | undefined;
  if (certPem !== undefined && certPath !== undefined) {
    try {
      cert = newCertificate(certPem);
    } catch (error: unknown) {
      throw new ObjectError(`Unable to import ${server ? 'server' : 'client'} certificate ${certPath}: ${(error as Error).message}`);
    }
    checkTimes(cert, certPath, server ? 'server' : 'client');
    if (cert.ca) throw new ObjectError(`The certificate ${certPath} basic constraints show a CA, but we need one for a ${server ? 'server' : 'client'}`);
  }
  for (const ca of cas) {
    checkTimes(ca, caPath, 'CA');
    if (!ca.ca) throw new ObjectError(`The certificate ${caPath} basic constraints do not show a CA`);
  }
  if (cert !== undefined && cas.length > 0 && !cas.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey))) {
    throw new ObjectError(`Our own certificate ${certPath} failed validation against ${caPath}: The certificate hasn't got a known issuer`);
  }
}

function checkTimes(cert: X509Certificate, path: string, role: 'CA' | 'server' | 'client'): void {
  const now = Date.now();
  if (Date.parse(cert.validTo) < now) throw new ObjectError(`The ${role} certificate ${path} has expired`);
  if (Date.parse(cert.validFrom) > now) throw new ObjectError(`The ${role} certificate ${path} is not yet active`);
}

/** The certificates of ca-cert.pem (a PEM bundle), in QEMU's words when it has none or a bad one. */
function caCertificates(pem: Buffer, path: string): X509Certificate[] {
  const found = pem.toString('latin1').match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g);
  try {
    if (found === null) throw new Error('no certificate');
    return found.map((text) => newCertificate(text));
  } catch {
    throw new ObjectError(`Unable to import CA certificate list ${path}`);
  }
}
