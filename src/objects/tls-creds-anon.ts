import type * as tls from 'node:tls';
import type { TlsCredsAnonProperties } from '../generated/qapi-types.gen.js';
import { TlsCreds } from './tls-creds.js';

/**
 * Anonymous Diffie-Hellman suites. OpenSSL 3 offers them only at security
 * level 0 and in TLS 1.2 (GnuTLS's ANON-DH too), so these connections ask
 * for both, and for nothing else.
 */
const ANON_CIPHERS = 'ADH:@SECLEVEL=0';

/**
 * tls-creds-anon (crypto/tlscredsanon.c): encryption without
 * authentication; a server may take its Diffie-Hellman parameters from
 * `dir`/dh-params.pem, and OpenSSL picks them otherwise.
 */
export class TlsCredsAnon extends TlsCreds {
  readonly qomType = 'tls-creds-anon';
  readonly #dhparam: Buffer | 'auto';

  constructor(properties: TlsCredsAnonProperties) {
    super(properties);
    const dhPath = this.endpoint === 'server' ? this.credentialPath('dh-params.pem', false) : undefined;
    this.#dhparam = dhPath === undefined ? 'auto' : TlsCreds.readCredential(dhPath);
  }

  serverOptions(): tls.TlsOptions {
    return { ciphers: ANON_CIPHERS, maxVersion: 'TLSv1.2', dhparam: this.#dhparam };
  }

  clientOptions(): tls.ConnectionOptions {
    return { ciphers: ANON_CIPHERS, maxVersion: 'TLSv1.2', checkServerIdentity: () => undefined, rejectUnauthorized: false };
  }
}
