import type { Socket } from 'node:net';
import { type FdReceiver, fdPassingUnavailable, sharedReadBuffer } from '../../base/fd-passing.js';
import { fdSocketReader } from '../../qmp/fd-socket-reader.js';
import type { QmpListenAddress } from '../../qmp/socket-listeners.js';
import { SocketListeners } from '../../qmp/socket-listeners.js';
import { HmpSession, type HmpSessionHost, type MonitorTerminal } from './session.js';

/** How long close() lets clients read their last output before cutting them off. */
const CLOSE_GRACE_MS = 1000;

/**
 * Output waiting for a client that reads nothing beyond which it is
 * disconnected. Commands stop being read long before (OUTPUT_PAUSE_BYTES);
 * this catches what still comes, such as the banner of many reconnects.
 */
export const MAX_OUTPUT_BYTES = 16 << 20;

/** A monitor connection's socket as a terminal. */
class SocketTerminal implements MonitorTerminal {
  constructor(
    private readonly socket: Socket,
    readonly peer: string,
    /** Reads the socket instead of Node when descriptors may come with the input. */
    private readonly receiver: FdReceiver | undefined,
  ) {}

  write(data: Buffer): void {
    if (this.socket.destroyed) return;
    this.socket.write(data);
    if (this.socket.writableLength > MAX_OUTPUT_BYTES) this.socket.destroy();
  }

  get backlog(): number {
    return this.socket.writableLength;
  }

  setInputPaused(paused: boolean): void {
    if (this.socket.destroyed) return;
    if (this.receiver !== undefined) this.receiver.setReading(!paused);
    else if (paused && !this.socket.isPaused()) this.socket.pause();
    else if (!paused && this.socket.isPaused()) this.socket.resume();
  }
}

/**
 * Human monitor listeners (`-monitor unix:...`, `-monitor tcp:...`). Unlike
 * QEMU, whose monitor socket serves one client at a time, a listener serves
 * any number of connections at once, each a session of its own (history,
 * console); what a connection holds is released when it goes.
 */
export class HmpServer {
  readonly sessions = new Set<HmpSession>();
  readonly #sockets = new Map<HmpSession, Socket>();
  readonly #listeners: SocketListeners = new SocketListeners('monitor', (message) => this.log(message));
  readonly #sessionWaiters: ((session: HmpSession) => void)[] = [];
  #connections = 0;

  constructor(
    /** What every session of this server shares; monitors on chardevs use it too. */
    readonly host: HmpSessionHost,
    private readonly log: (message: string) => void,
  ) {}

  /** Connections accepted since start. */
  get accepted(): number {
    return this.#connections;
  }

  /** Starts listening; resolves with the bound address (the real port when port 0 was asked). */
  async listen(address: QmpListenAddress): Promise<QmpListenAddress> {
    // A unix connection may pass descriptors (getfd): it is read with recvmsg(), so Node must not start reading it.
    const passFds = address.type === 'unix' && fdPassingUnavailable === undefined;
    if (address.type === 'unix' && !passFds) this.log(`monitor on ${address.path} takes no passed descriptors: ${fdPassingUnavailable}`);
    // Half-open, so that output still goes out after the client has shut its sending side.
    return this.#listeners.open(address, (socket) => this.accept(socket, address.type === 'unix' ? 'unix socket' : 'tcp', passFds), {
      allowHalfOpen: true,
      pauseOnConnect: passFds,
    });
  }

  /** Serves a connected socket as a monitor session; with `passFds` (a unix socket accepted paused) descriptors passed with its input reach the session. */
  accept(socket: Socket, kind = 'socket', passFds = false): HmpSession {
    socket.setNoDelay(true);
    const number = ++this.#connections;
    const peer = socket.remoteAddress !== undefined ? ` from ${socket.remoteAddress}:${socket.remotePort}` : '';
    const name = `connection ${number} (${kind}${peer})`;
    let session: HmpSession | undefined;
    // A client that sends its commands and then shuts its side (echo info chardev | socat - UNIX:...)
    // gets their output before the connection ends.
    // Read with recvmsg(), Node never sees the peer's end: once the output is out, the socket goes.
    const ended = (): void => session?.endOfInput(() => (receiver === undefined ? socket.end() : socket.end(() => socket.destroy())));
    const receiver = passFds
      ? fdSocketReader(socket, `monitor ${name}`, this.log, sharedReadBuffer, {
          // A copy: the session queues input while a command runs, and a console hands it to a chardev.
          data: (chunk, fds) => session?.input(Buffer.from(chunk), fds),
          end: () => {
            // Nothing more to read: the poll stops for good, Node still writes the output.
            receiver?.close();
            ended();
          },
        })
      : undefined;
    if (passFds && receiver === undefined) socket.resume();
    const terminal = new SocketTerminal(socket, name, receiver);
    session = new HmpSession(this.host, terminal);
    this.sessions.add(session);
    this.#sockets.set(session, socket);
    const closed = (): void => {
      receiver?.close();
      if (!this.sessions.delete(session)) return;
      this.#sockets.delete(session);
      session.close();
      socket.destroy();
    };
    if (receiver === undefined) {
      socket.on('data', (chunk: Buffer) => session.input(chunk));
      socket.on('end', ended);
    }
    socket.on('drain', () => session.writable());
    socket.on('error', closed);
    socket.on('close', closed);
    session.start();
    // Node's socket reads from its first 'data' listener; the poll starts here.
    receiver?.setReading(true);
    for (const resolve of this.#sessionWaiters.splice(0)) resolve(session);
    return session;
  }

  /** Resolves with the next connection accepted. */
  nextSession(): Promise<HmpSession> {
    return new Promise((resolve) => this.#sessionWaiters.push(resolve));
  }

  /** Stops accepting and ends every connection, giving each a moment to read its last output. */
  async close(): Promise<void> {
    const closing = this.#listeners.closeAll();
    const sockets = [...this.#sockets.values()];
    const ended = sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          socket.once('close', () => resolve());
          socket.end();
        }),
    );
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref());
    await Promise.race([Promise.all(ended), timeout]);
    for (const socket of sockets) socket.destroy();
    for (const session of this.sessions) session.close();
    this.sessions.clear();
    this.#sockets.clear();
    await Promise.all(closing);
  }
}
