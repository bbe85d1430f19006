/**
 * The peer of bench/web-fanout.ts: the plainest WebSocket console relay,
 * as terminal-sharing servers are built (ttyd and gotty, which would be
 * the natural peers, cannot be installed from the Debian sources here). A guest connects to a unix
 * socket; every byte it sends goes to every WebSocket client with
 * ws.send(), no flow control and no per-client bound; keys from a client
 * go to the guest. Prints the port it listens on, then serves until
 * killed.
 *
 * Run: node dist/bench/support/ws-relay.js GUEST-SOCKET-PATH
 */
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { WebSocketServer } from 'ws';

const path = process.argv[2];
if (path === undefined) throw new Error('usage: ws-relay.js GUEST-SOCKET-PATH');
const viewers = new WebSocketServer({ host: '127.0.0.1', port: 0 });
let guest: Socket | undefined;
viewers.on('connection', (ws) => {
  ws.on('message', (data: Buffer, binary: boolean) => {
    if (binary) guest?.write(data);
  });
  ws.on('error', () => ws.terminate());
});
const guests = createServer((socket) => {
  guest = socket;
  socket.on('data', (chunk: Buffer) => {
    for (const ws of viewers.clients) ws.send(chunk, { binary: true });
  });
  socket.on('error', () => socket.destroy());
});
await Promise.all([once(viewers, 'listening'), new Promise<void>((resolve) => guests.listen(path, resolve))]);
const address = viewers.address();
process.stdout.write(`${typeof address === 'object' && address !== null ? address.port : 0}\n`);
