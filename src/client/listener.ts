import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { ConnectError, StateError } from './errors.js';
import type { QmpAddress } from './address.js';

/**
 * Connections that arrived while nobody waited for one. QEMU's client-mode
 * monitor opens exactly one (and one more per `reconnect=`), so a few is
 * plenty; more are refused instead of piling up.
 */
const MAX_WAITING_CONNECTIONS = 4;

/**
 * A listening socket for QEMU monitors in client mode (`-qmp unix:PATH`
 * or `-qmp tcp:HOST:PORT` without `server=on`): QEMU connects to us.
 * `QmpClient.accept()` takes connections from it, one at a time.
 */
export class QmpListener {
  readonly #server: Server;
  readonly #waiting: Socket[] = [];
  #waiter: { resolve(socket: Socket): void; reject(error: Error): void } | undefined;
  #closed = false;

  private constructor(
    server: Server,
    /** Where it listens; for TCP with port 0, the port the system chose. */
    readonly address: QmpAddress,
  ) {
    this.#server = server;
    server.on('connection', (socket) => this.#arrived(socket));
    server.on('error', () => this.close());
  }

  /** Listens on a unix socket path or a TCP host and port (port 0: any free port). */
  static async listen(address: QmpAddress): Promise<QmpListener> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => reject(new ConnectError(`listening on ${describeAddress(address)}: ${error.message}`, { cause: error })));
      if (typeof address === 'string') server.listen(address, resolve);
      else server.listen(address.port, address.host, resolve);
    });
    const bound = typeof address === 'string' ? address : { host: address.host, port: (server.address() as AddressInfo).port };
    return new QmpListener(server, bound);
  }

  /** The next connection (queued or yet to come). */
  next(signal?: AbortSignal): Promise<Socket> {
    if (this.#closed) return Promise.reject(new StateError('the listener is closed'));
    if (this.#waiter !== undefined) return Promise.reject(new StateError('already waiting for a connection'));
    const queued = this.#waiting.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiter = undefined;
        reject(new ConnectError(`no connection on ${describeAddress(this.address)}: ${abortMessage(signal)}`));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiter = {
        resolve: (socket) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(socket);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
    });
  }

  /** Stops listening (a unix socket file is removed) and drops connections nobody took. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.close();
    for (const socket of this.#waiting.splice(0)) socket.destroy();
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(new StateError('the listener is closed'));
  }

  #arrived(socket: Socket): void {
    socket.on('error', () => socket.destroy());
    if (this.#waiter !== undefined) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter.resolve(socket);
    } else if (this.#waiting.length < MAX_WAITING_CONNECTIONS) {
      this.#waiting.push(socket);
      socket.once('close', () => {
        const index = this.#waiting.indexOf(socket);
        if (index >= 0) this.#waiting.splice(index, 1);
      });
    } else {
      socket.destroy();
    }
  }
}

export function describeAddress(address: QmpAddress): string {
  return typeof address === 'string' ? address : `${address.host}:${address.port}`;
}

export function abortMessage(signal: AbortSignal | undefined): string {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason.message : 'aborted';
}
