import type * as tls from 'node:tls';
import type { TlsCredsPskProperties } from '../generated/qapi-types.gen.js';
import { ObjectError } from './object-error.js';
import { TlsCreds } from './tls-creds.js';

/** The user name a client sends when none is given (QCRYPTO_TLS_CREDS_DEFAULT_PSK_USERNAME). */
const DEFAULT_USERNAME = 'qemu';

/**
 * PSK cipher suites in OpenSSL's words: (EC)DHE with a pre-shared key
 * first, then plain PSK, as QEMU's "+ECDHE-PSK:+DHE-PSK:+PSK". Node.js
 * negotiates PSK in TLS 1.2 only, so these connections stop there.
 */
const PSK_CIPHERS = 'ECDHEPSK:DHEPSK:PSK';

/**
 * tls-creds-psk (crypto/tlscredspsk.c): pre-shared keys from `dir`/keys.psk,
 * one `username:hexkey` a line (psktool's format). A server takes any
 * user of the file; a client sends `username` ("qemu" if not given) with
 * that user's key.
 */
export class TlsCredsPsk extends TlsCreds {
  readonly qomType = 'tls-creds-psk';
  readonly #keys: ReadonlyMap<string, Buffer>;
  readonly #username: string;

  constructor(properties: TlsCredsPskProperties) {
    super(properties);
    const path = this.credentialPath('keys.psk', true)!;
    if (this.endpoint === 'server' && properties.username !== undefined) throw new ObjectError('username should not be set when endpoint=server');
    this.#keys = parseKeys(TlsCreds.readCredential(path).toString('utf8'), path);
    this.#username = properties.username ?? DEFAULT_USERNAME;
    if (this.endpoint === 'client' && !this.#keys.has(this.#username)) {
      throw new ObjectError(`Username ${this.#username} not found in pre-shared key file ${path}`);
    }
  }

  override get authenticatesPeers(): boolean {
    return true;
  }

  serverOptions(): tls.TlsOptions {
    return { ciphers: PSK_CIPHERS, maxVersion: 'TLSv1.2', pskCallback: (_socket, identity) => this.#keys.get(identity) ?? null };
  }

  clientOptions(): tls.ConnectionOptions {
    const psk = this.#keys.get(this.#username)!;
    return { ciphers: PSK_CIPHERS, maxVersion: 'TLSv1.2', checkServerIdentity: () => undefined, pskCallback: () => ({ psk, identity: this.#username }) };
  }
}

function parseKeys(text: string, path: string): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    const hex = line.slice(colon + 1).trim();
    if (colon < 0 || !/^(?:[0-9a-fA-F]{2})+$/.test(hex)) throw new ObjectError(`Cannot read pre-shared key file ${path}: expected lines of username:hexkey`);
    keys.set(line.slice(0, colon), Buffer.from(hex, 'hex'));
  }
  return keys;
}
