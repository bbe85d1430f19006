import { isIP } from 'node:net';

/**
 * Whether a request's `Host` names this server for us: an IP address
 * (v4 or v6, any port), `localhost`, or the host of one of the allowed
 * origins. Checking Host defeats DNS rebinding, where a page of another
 * site renames its host to this machine's address and so becomes "same
 * origin" with the console; such a page sends its own name as Host.
 */
export function hostAllowed(host: string | undefined, origins: readonly string[]): boolean {
  if (host === undefined || host === '') return false;
  const name = hostName(host.toLowerCase());
  if (name === 'localhost' || isIP(name) !== 0) return true;
  return origins.some((origin) => new URL(origin).host === host.toLowerCase());
}

/**
 * Whether a WebSocket may be opened from a page of `origin`: the page
 * this server served (its origin's host is the request's Host, whichever
 * the scheme: a TLS proxy in front changes it) or one of the allowed
 * origins. Browsers always send Origin on a WebSocket; a request without
 * one comes from a program, which no other site's page can drive.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, origins: readonly string[]): boolean {
  if (origin === undefined) return true;
  if (origins.includes(origin)) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    // "null" (a sandboxed frame, a file: page) and anything else unparsable.
    return false;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && host !== undefined && url.host === host.toLowerCase();
}

/** `example.com:8080` -> `example.com`, `[::1]:8080` -> `::1`. */
function hostName(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const colon = host.lastIndexOf(':');
  return colon < 0 ? host : host.slice(0, colon);
}
