import type * as net from 'node:net';
import type * as tls from 'node:tls';
import type { Authz } from './authz.js';
import { distinguishedName } from './peer-name.js';
import type { TlsCreds } from './tls-creds.js';

/**
 * How long a TLS handshake may take, from the connection to the end of
 * the peer's checks. QEMU sets no bound, so a peer that connects and says
 * nothing holds its place (and its descriptor) for ever; chardevd closes
 * it after this.
 */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** Where a server finds the authorization object named by its tls-authz, at each handshake (QEMU's qauthz_is_allowed_by_id). */
export type AuthzLookup = (id: string) => Authz | string;

/** A server's TLS: its credentials, and the tls-authz it asks about each client. */
export interface TlsServerPolicy {
  readonly creds: TlsCreds;
  readonly authz?: string | undefined;
  readonly lookupAuthz: AuthzLookup;
}

/** A finished handshake: the encrypted socket, or why the peer was refused (QEMU's words where it has them). */
export type TlsOutcome = { readonly socket: tls.TLSSocket } | { readonly refused: string };

/**
 * Makes `raw`, just accepted, a TLS server session; `done` is called once,
 * with the session after the handshake and the checks QEMU makes of the
 * client (qcrypto_tls_session_check_certificate) or with the reason it
 * was refused, the socket then destroyed.
 */
export function acceptTls(raw: net.Socket, policy: TlsServerPolicy, done: (outcome: TlsOutcome) => void): void {
  const { creds } = policy;
  const { pskCallback } = creds.serverOptions();
  // The checks are made below, once the handshake is done, as QEMU makes them.
  const secure = new (process.getBuiltinModule('node:tls').TLSSocket)(raw, {
    isServer: true,
    secureContext: creds.serverContext(),
    requestCert: creds.authorizesPeers,
    rejectUnauthorized: false,
    ...(pskCallback === undefined ? {} : { pskCallback }),
  });
  guard(raw, secure, done, () => {
    const refused = creds.authorizesPeers ? checkClient(secure, policy) : undefined;
    return refused === undefined ? { socket: secure } : { refused };
  });
}

/** Makes `raw`, just connected to `host`, a TLS client session; `done` as for acceptTls. */
export function connectTls(raw: net.Socket, creds: TlsCreds, host: string, done: (outcome: TlsOutcome) => void): void {
  const secure = process.getBuiltinModule('node:tls').connect({ ...creds.clientOptions(host), socket: raw });
  guard(raw, secure, done, () => ({ socket: secure }), 'secureConnect');
}

/** Bounds the handshake, reports its end once, and destroys a refused or failed session. */
function guard(raw: net.Socket, secure: tls.TLSSocket, done: (outcome: TlsOutcome) => void, check: () => TlsOutcome, readyEvent = 'secure'): void {
  let settled = false;
  const finish = (outcome: TlsOutcome): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    secure.off('error', failed);
    secure.off('close', closed);
    if ('refused' in outcome) secure.destroy();
    done(outcome);
  };
  // OpenSSL's reason ("wrong version number"), not its whole error line.
  const failed = (error: Error & { reason?: string }): void => finish({ refused: error.reason ?? error.message });
  const closed = (): void => finish({ refused: 'the peer closed the connection during the handshake' });
  const timer = setTimeout(() => finish({ refused: `no TLS handshake within ${TLS_HANDSHAKE_TIMEOUT_MS / 1000} s` }), TLS_HANDSHAKE_TIMEOUT_MS);
  secure.on('error', failed);
  secure.once('close', closed);
  // The raw socket's own errors end up on the TLS socket; this keeps one from being unhandled meanwhile.
  raw.on('error', () => raw.destroy());
  secure.once(readyEvent, () => finish(check()));
}

/**
 * qcrypto_tls_session_check_certificate for a server with verify-peer: a
 * certificate issued by one of the CAs, valid now, whose distinguished
 * name the tls-authz object allows.
 */
function checkClient(secure: tls.TLSSocket, policy: TlsServerPolicy): string | undefined {
  const cert = secure.getPeerX509Certificate();
  if (cert === undefined) return 'No certificate peers';
  if (!policy.creds.trustedCertificates.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey))) return "The certificate hasn't got a known issuer";
  const now = Date.now();
  if (Date.parse(cert.validTo) < now) return 'The certificate has expired';
  if (Date.parse(cert.validFrom) > now) return 'The certificate is not yet activated';
  if (policy.authz === undefined) return undefined;
  const name = distinguishedName(cert);
  const authz = policy.lookupAuthz(policy.authz);
  if (typeof authz === 'string') return authz;
  return authz.isAllowed(name) ? undefined : `TLS x509 authz check for ${name} is denied`;
}
