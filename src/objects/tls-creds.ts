import * as fs from 'node:fs';
import type { X509Certificate } from 'node:crypto';
import type * as tls from 'node:tls';
import { describeSystemError } from '../base/system-error.js';
import type { QCryptoTLSCredsEndpoint, TlsCredsProperties } from '../generated/qapi-types.gen.js';
import { ObjectError } from './object-error.js';

/**
 * TLS credentials (QEMU's QCryptoTLSCreds): what a TLS server or client
 * session is made with, loaded from the files of `dir` when the object is
 * created, as QEMU loads them. A socket or listener takes the options it
 * needs from them once, when it is created, and keeps them.
 */
export abstract class TlsCreds {
  abstract readonly qomType: 'tls-creds-anon' | 'tls-creds-psk' | 'tls-creds-x509';
  readonly endpoint: QCryptoTLSCredsEndpoint;
  /** Whether the peer's credentials are checked (QEMU's verify-peer, default on; a no-op for anonymous ones). */
  readonly verifyPeer: boolean;
  readonly dir: string | undefined;
  #serverContext: tls.SecureContext | undefined;

  constructor(properties: TlsCredsProperties) {
    this.endpoint = properties.endpoint ?? 'client';
    this.verifyPeer = properties['verify-peer'] ?? true;
    this.dir = properties.dir;
    // QEMU hands `priority` to gnutls_priority_set_direct(); OpenSSL has no reader for GnuTLS priority strings.
    if (properties.priority !== undefined) {
      throw new ObjectError(`priority '${properties.priority}' is a GnuTLS priority string, which chardevd's TLS (OpenSSL, through Node.js) cannot honour; leave it out`);
    }
  }

  /** Options of the tls.Server a server endpoint's sessions are accepted with. */
  abstract serverOptions(): tls.TlsOptions;

  /** Options of tls.connect() for a client endpoint's sessions; `host` is what the client connected to. */
  abstract clientOptions(host: string): tls.ConnectionOptions;

  /** The secure context of a server endpoint's sessions, made once: every accepted session shares it. */
  serverContext(): tls.SecureContext {
    this.#serverContext ??= process.getBuiltinModule('node:tls').createSecureContext(this.serverOptions());
    return this.#serverContext;
  }

  /** The CA certificates a client's certificate must be issued by (x509 only). */
  get trustedCertificates(): readonly X509Certificate[] {
    return [];
  }

  /** Whether only a peer that proves who it is gets through (a CA's certificate with verify-peer, a pre-shared key). */
  get authenticatesPeers(): boolean {
    return false;
  }

  /** Whether a server asks its tls-authz about the client (x509 with verify-peer, as QEMU's check_certificate). */
  get authorizesPeers(): boolean {
    return false;
  }

  /**
   * qcrypto_tls_creds_get_path: `dir/name` if it can be read; a file that
   * is not there is undefined unless `required`; any other failure, and a
   * required file that is not there, fails in QEMU's words.
   */
  protected credentialPath(name: string, required: boolean): string | undefined {
    if (this.dir === undefined) {
      if (required) throw new ObjectError("Missing 'dir' property value");
      return undefined;
    }
    const path = `${this.dir}/${name}`;
    try {
      fs.accessSync(path, fs.constants.R_OK);
    } catch (error: unknown) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !required) return undefined;
      throw new ObjectError(`Unable to access credentials ${path}: ${describeSystemError(error)}`);
    }
    return path;
  }

  /** Reads a file credentialPath() found, in QEMU's words when it cannot. */
  protected static readCredential(path: string): Buffer {
    try {
      return fs.readFileSync(path);
    } catch (error: unknown) {
      throw new ObjectError(`Cannot load CA cert list ${path}: Failed to open file “${path}”: ${describeSystemError(error)}`);
    }
  }
}
