import type { ObjectInfo, ObjectOptions, QCryptoTLSCredsEndpoint } from '../generated/qapi-types.gen.js';
import { ID_ERROR, isWellFormedId } from '../options/qemu-opts.js';
import type { Authz } from './authz.js';
import { AuthzList } from './authz-list.js';
import { AuthzSimple } from './authz-simple.js';
import { ObjectError } from './object-error.js';
import { TlsCreds } from './tls-creds.js';
import { TlsCredsAnon } from './tls-creds-anon.js';
import { TlsCredsPsk } from './tls-creds-psk.js';
import { TlsCredsX509 } from './tls-creds-x509.js';

type UserObject = TlsCreds | Authz;

/** What a socket needs of the objects: its credentials when created, its authorization at each handshake. */
export interface TlsObjects {
  /** The credentials `id` names for an endpoint of this kind, or an ObjectError in QEMU's words. */
  tlsCreds(id: string, endpoint: QCryptoTLSCredsEndpoint): TlsCreds;
  /** The authorization object `id` names, or why there is none in QEMU's words. */
  authz(id: string): Authz | string;
}

/**
 * The objects QEMU keeps under /objects: made by -object, a config
 * file's `objects` or object-add, removed by object-del, in the order
 * they were made.
 */
export class ObjectRegistry implements TlsObjects {
  readonly #objects = new Map<string, { readonly options: ObjectOptions; readonly object: UserObject }>();

  /** user_creatable_add_qapi: the id checked, then taken, then the object made (its files read). */
  add(options: ObjectOptions): void {
    if (!isWellFormedId(options.id)) throw new ObjectError(ID_ERROR);
    if (this.#objects.has(options.id)) throw new ObjectError(`attempt to add duplicate property '${options.id}' to object (type 'container')`);
    this.#objects.set(options.id, { options, object: createObject(options) });
  }

  /**
   * object-del. As in QEMU, whoever uses the object keeps what it took:
   * a socket its credentials; a tls-authz that names it finds nothing.
   */
  delete(id: string): void {
    if (!this.#objects.delete(id)) throw new ObjectError(`object '${id}' not found`);
  }

  /** The objects' arguments, in the order they were made (query-config). */
  options(): ObjectOptions[] {
    return [...this.#objects.values()].map(({ options }) => options);
  }

  /** The arguments object `id` was made with, if there is one. */
  find(id: string): ObjectOptions | undefined {
    return this.#objects.get(id)?.options;
  }

  list(): ObjectInfo[] {
    return [...this.#objects.values()].map(({ options }) => ({ id: options.id, 'qom-type': options['qom-type'] }));
  }

  /** qmp_chardev_open_socket's lookup, with its texts. */
  tlsCreds(id: string, endpoint: QCryptoTLSCredsEndpoint): TlsCreds {
    const found = this.#objects.get(id)?.object;
    if (found === undefined) throw new ObjectError(`No TLS credentials with id '${id}'`);
    if (!(found instanceof TlsCreds)) throw new ObjectError(`Object with id '${id}' is not TLS credentials`);
    // qcrypto_tls_creds_check_endpoint
    if (found.endpoint !== endpoint) throw new ObjectError(`Expected TLS credentials for a ${endpoint} endpoint`);
    return found;
  }

  /** qauthz_is_allowed_by_id's lookup, with its texts. */
  authz(id: string): Authz | string {
    const found = this.#objects.get(id)?.object;
    if (found === undefined) return `Cannot find QAuthZ object ID ${id}`;
    if (found instanceof TlsCreds) return `Object '${id}' is not a QAuthZ subclass`;
    return found;
  }
}

function createObject(options: ObjectOptions): UserObject {
  switch (options['qom-type']) {
    case 'authz-list':
      return new AuthzList(options);
    case 'authz-simple':
      return new AuthzSimple(options);
    case 'tls-creds-anon':
      return new TlsCredsAnon(options);
    case 'tls-creds-psk':
      return new TlsCredsPsk(options);
    case 'tls-creds-x509':
      return new TlsCredsX509(options);
  }
}
