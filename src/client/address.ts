import type { ConnectionOptions } from 'node:tls';

/**
 * A unix socket path, or a TCP host and port; with `tls`, the connection is
 * TLS with these options (`ca`, and `cert` and `key` for a server that
 * asks for a client certificate).
 */
export type QmpAddress = string | { readonly host: string; readonly port: number; readonly tls?: ConnectionOptions | undefined };

/**
 * Reads the address forms people type: `unix:PATH`, `tcp:HOST:PORT`,
 * `HOST:PORT`, or a bare path (what qmp-shell accepts, plus QEMU's prefixes).
 */
export function parseQmpAddress(text: string): QmpAddress {
  const unix = /^unix:(.+)$/.exec(text);
  if (unix) return unix[1]!.split(',')[0]!;
  const tcp = /^(?:tcp:)?(\[[^\]]+\]|[^:/]+):(\d+)(?:,.*)?$/.exec(text);
  if (tcp) return { host: tcp[1]!.replace(/^\[(.*)\]$/, '$1'), port: Number(tcp[2]) };
  return text;
}
