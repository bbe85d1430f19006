/** A TLS client for tests: connects with the certificates of a directory laid out as QEMU's tls-creds-x509 reads it. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tls from 'node:tls';

const WAIT_MS = 15_000;

export interface TlsPeer {
  readonly socket: tls.TLSSocket;
  /** Everything received so far, as Latin-1. */
  received(): string;
  /** Settles once the connection has closed, whoever closed it. */
  readonly closed: Promise<void>;
  /** Waits, bounded, until what was received contains `text`. */
  until(text: string): Promise<void>;
}

/**
 * Connects to 127.0.0.1:`port` trusting `dir`/ca-cert.pem, presenting
 * `dir`/client-cert.pem and client-key.pem when they exist.
 */
export function tlsPeer(port: number, dir: string): TlsPeer {
  const cert = join(dir, 'client-cert.pem');
  const options: tls.ConnectionOptions = { host: '127.0.0.1', port, ca: readFileSync(join(dir, 'ca-cert.pem')) };
  if (existsSync(cert)) {
    options.cert = readFileSync(cert);
    options.key = readFileSync(join(dir, 'client-key.pem'));
  }
  const socket = tls.connect(options);
  let text = '';
  let waiter: (() => void) | undefined;
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    text += chunk;
    waiter?.();
  });
  // A refused handshake ends in an error on this side; the test looks at what arrived and at the close.
  socket.on('error', () => socket.destroy());
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  void closed.then(() => waiter?.());
  return {
    socket,
    received: () => text,
    closed,
    async until(wanted: string): Promise<void> {
      const deadline = Date.now() + WAIT_MS;
      while (!text.includes(wanted)) {
        if (socket.destroyed || Date.now() > deadline) throw new Error(`no ${JSON.stringify(wanted)} from the TLS server; ${text.length} bytes came`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
          waiter = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    },
  };
}

/** Waits, bounded, until `peer` has closed; throws if it has not. */
export async function closedWithin(peer: TlsPeer, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the connection is still open after ${ms} ms`)), ms);
  });
  try {
    await Promise.race([peer.closed, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
