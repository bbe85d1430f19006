import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';

/** Shared by the demux tests and benchmark: echo servers, connections, hashing. */

/** A unix echo server: what a connection sends comes back, and its end ends the answer. */
export async function echoServer(path: string): Promise<Server> {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, resolve));
  return server;
}

export async function connected(path: string): Promise<Socket> {
  const socket = connect({ path, allowHalfOpen: true });
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return socket;
}

/** Sends `data`, ends, and resolves with the sha256 and length of everything that came back before the close. */
export function roundTrip(socket: Socket, data: Buffer): Promise<{ sha: string; bytes: number }> {
  return new Promise((resolve) => {
    const hash = createHash('sha256');
    let bytes = 0;
    socket.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    socket.once('close', () => resolve({ sha: hash.digest('hex'), bytes }));
    socket.end(data);
  });
}

export const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** How many descriptors process `pid` holds. */
export function descriptorCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}
