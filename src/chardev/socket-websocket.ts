import * as http from 'node:http';
import type * as net from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import type { ReadLease } from './read-buffer.js';
import type { ConnectionHandlers, SocketConnection } from './socket-connection.js';

// The WebSocket transport of socket chardevs (websocket=on): a module of
// its own, imported when a WebSocket server starts listening, so that a
// daemon without one does not load ws (a tenth of its start-up).

/** Output a WebSocket peer may leave unread before further output is dropped (see OUTPUT_QUEUE_LIMIT). */
const WEBSOCKET_QUEUE_LIMIT = 1 << 20;
/** Above this much unsent output, write() asks the frontend to wait. */
const WEBSOCKET_HIGH_WATER_MARK = 64 * 1024;
/**
 * The largest message a WebSocket peer may send. QEMU decodes frames as
 * they arrive; ws assembles each message in memory first, so its size is
 * capped (a longer one closes the connection with 1009, message too big).
 */
export const WEBSOCKET_MAX_MESSAGE = 1 << 20;

/**
 * A WebSocket peer (QEMU's io/channel-websock.c as a chardev transport):
 * the bytes travel in binary frames; pings are answered; a close frame is
 * answered with a close frame.
 */
export class WebSocketConnection implements SocketConnection {
  dropped = 0;
  #waitingForDrain = false;

  constructor(
    readonly socket: net.Socket,
    private readonly ws: WebSocket,
    private readonly handlers: ConnectionHandlers,
  ) {
    ws.pause();
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary || data.length > 0) handlers.data(data);
    });
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      handlers.closed();
      // A frontend told to wait is woken, and finds its writes dropped (see StreamOutput.streamClosed).
      if (this.#waitingForDrain) {
        this.#waitingForDrain = false;
        handlers.drain();
      }
    });
  }

  /** ws keeps what it sends until the socket took it, so lent data goes as a copy. */
  write(data: Buffer, lease?: ReadLease): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) {
      this.dropped += data.length;
      return true;
    }
    // Refused only while a drain is owed, so the frontend is woken again;
    // below the mark a write is taken whole, however large.
    if (this.ws.bufferedAmount >= WEBSOCKET_HIGH_WATER_MARK && this.ws.bufferedAmount + data.length > WEBSOCKET_QUEUE_LIMIT) {
      this.dropped += data.length;
      this.#waitingForDrain = true;
      return false;
    }
    this.ws.send(lease === undefined ? data : Buffer.from(data), { binary: true }, () => this.#checkDrain());
    const below = this.ws.bufferedAmount < WEBSOCKET_HIGH_WATER_MARK;
    if (!below) this.#waitingForDrain = true;
    return below;
  }

  #checkDrain(): void {
    if (this.#waitingForDrain && this.ws.bufferedAmount < WEBSOCKET_HIGH_WATER_MARK) {
      this.#waitingForDrain = false;
      this.handlers.drain();
    }
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  close(): void {
    this.ws.terminate();
  }
}

/**
 * Runs the HTTP upgrade on freshly accepted sockets (QEMU's websocket
 * handshake): the client must offer the `binary` subprotocol, and the
 * reply names the server as QEMU's does, so clients that check see the
 * same headers.
 */
export class WebSocketAcceptor {
  readonly #http = http.createServer((_request, response) => {
    response.writeHead(400, { Connection: 'close' }).end();
  });
  readonly #wss = new WebSocketServer({
    noServer: true,
    maxPayload: WEBSOCKET_MAX_MESSAGE,
    handleProtocols: (protocols) => (protocols.has('binary') ? 'binary' : false),
  });

  constructor() {
    this.#wss.on('headers', (headers) => headers.push('Server: QEMU VNC'));
    this.#http.on('clientError', (_error, socket) => socket.destroy());
  }

  /** Calls `ready` with the connection once `socket` completed the upgrade; refused handshakes close the socket. */
  accept(socket: net.Socket, handlers: ConnectionHandlers, ready: (connection: SocketConnection) => void): void {
    const onUpgrade = (request: http.IncomingMessage, upgraded: net.Socket, head: Buffer): void => {
      if (upgraded !== socket) return;
      this.#http.off('upgrade', onUpgrade);
      this.#wss.handleUpgrade(request, socket, head, (ws) => ready(new WebSocketConnection(socket, ws, handlers)));
    };
    this.#http.on('upgrade', onUpgrade);
    socket.once('close', () => this.#http.off('upgrade', onUpgrade));
    this.#http.emit('connection', socket);
  }

  close(): void {
    this.#wss.close();
    this.#http.close();
  }
}
