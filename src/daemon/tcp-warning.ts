import { isIPv4 } from 'node:net';

/**
 * The warning for a management listener that takes TCP connections
 * without TLS credentials that authenticate the client (x509 with
 * verify-peer, or a pre-shared key): QMP and the human monitor have no
 * authentication of their own, so whoever connects drives the daemon with its rights (creating a file
 * chardev is enough to overwrite any file the daemon may write). `what`
 * names the listener (`QMP listener tcp:127.0.0.1:4444`), `host` is the
 * address it is bound to: on loopback every local user can connect,
 * elsewhere anyone who can reach the machine. A unix listener's socket
 * file is 0600, so only the daemon's own user gets in.
 */
export function unprotectedTcpWarning(what: string, host: string, service: 'QMP' | 'monitor'): string {
  const protocol = service === 'QMP' ? 'QMP has' : 'the human monitor has';
  const instead = `to keep it to this user, use a unix socket instead: ${service === 'QMP' ? '-qmp' : '-monitor'} unix:PATH,server=on (its file is made mode 0600), or require client certificates with tls-creds=ID (tls-creds-x509, verify-peer=on) and tls-authz=ID`;
  const why = `(${protocol} no authentication of its own, and this listener no TLS that checks the client)`;
  if (isLoopback(host)) return `warning: ${what} lets every local user control this daemon ${why}; ${instead}`;
  return `warning: ${what} lets anyone who can reach this machine control this daemon ${why}; ${instead}; bound to 127.0.0.1, it would still let every local user in`;
}

/**
 * The warning for a web console on a TCP address beyond loopback: it
 * speaks plain HTTP, so console output, and the token of a viewer that
 * writes, cross the network unencrypted. On loopback there is none to
 * give: viewers are read-only without a token, and writing needs one
 * (a TLS proxy in front is how to serve it further, docs/web.md).
 */
export function webTcpWarning(host: string): string | undefined {
  if (isLoopback(host)) return undefined;
  return `warning: the web console on ${host} speaks plain HTTP: console output and write tokens cross the network unencrypted; bind it to 127.0.0.1 or a unix socket behind a TLS reverse proxy (docs/web.md)`;
}

/**
 * Where a socket chardev listens over TCP, read from its QEMU filename
 * (`disconnected:tcp:0.0.0.0:4555,server=on`, `telnet:...`, `websocket:...`):
 * the address as QEMU writes it and its host; undefined for every other chardev.
 */
export function tcpServerAddress(filename: string): { readonly address: string; readonly host: string } | undefined {
  const match = /^(?:disconnected:)?((?:tcp|telnet|websocket):(.*):\d+),server=on/.exec(filename);
  return match === null ? undefined : { address: match[1]!, host: match[2]! };
}

function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  const v4 = host.startsWith('::ffff:') ? host.slice('::ffff:'.length) : host;
  return isIPv4(v4) && v4.startsWith('127.');
}
