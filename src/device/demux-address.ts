import { rmSync } from 'node:fs';
import * as net from 'node:net';
import { DeviceError } from './device-error.js';

/** Where a demux service connects or listens: `unix:PATH` or `tcp:HOST:PORT` (HOST may be `[v6]`). */
export type DemuxAddress = { readonly type: 'unix'; readonly path: string } | { readonly type: 'tcp'; readonly host: string; readonly port: number };

export function parseDemuxAddress(text: string, what: string): DemuxAddress {
  if (text.startsWith('unix:') && text.length > 'unix:'.length) return { type: 'unix', path: text.slice('unix:'.length) };
  const tcp = /^tcp:(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  if (tcp !== null && Number(tcp[3]) <= 65535) return { type: 'tcp', host: tcp[1] ?? (tcp[2] || 'localhost'), port: Number(tcp[3]) };
  throw new DeviceError(`${what} '${text}' is not unix:PATH or tcp:HOST:PORT`);
}

/** A connection to `address`, both halves closable on their own. */
export function connectDemuxAddress(address: DemuxAddress): net.Socket {
  return address.type === 'unix'
    ? net.connect({ path: address.path, allowHalfOpen: true })
    : net.connect({ host: address.host, port: address.port, allowHalfOpen: true });
}

/** `server` listening on `address`, a stale unix socket file replaced; rejects with the listen error. */
export async function listenDemuxAddress(server: net.Server, address: DemuxAddress): Promise<void> {
  if (address.type === 'unix') rmSync(address.path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      resolve();
    };
    if (address.type === 'unix') server.listen(address.path, done);
    else server.listen(address.port, address.host, done);
  });
}

/**
 * Connects to `address` for a channel still opening: `connected` gets the
 * socket once it is up, `failed` the error if it never comes; a channel
 * that stopped opening meanwhile (its session ended) gets neither, and
 * the socket is closed.
 */
export function connectForChannel(address: DemuxAddress, stillOpening: () => boolean, connected: (socket: net.Socket) => void, failed: (error: Error) => void): void {
  const socket = connectDemuxAddress(address);
  socket.once('error', failed);
  socket.once('connect', () => {
    socket.off('error', failed);
    if (!stillOpening()) {
      socket.destroy();
      return;
    }
    connected(socket);
  });
}
