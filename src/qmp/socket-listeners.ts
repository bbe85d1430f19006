import { once } from 'node:events';
import { unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { ChardevdError } from '../base/error.js';
import { isLiveUnixSocket, liveSocketText } from '../base/live-socket.js';

/** Where a monitor listener (QMP or HMP) accepts connections. */
export type QmpListenAddress =
  | {
      readonly type: 'unix';
      readonly path: string;
      /** The socket file's permission bits (`perm=`); DEFAULT_SOCKET_PERM when not given. */
      readonly perm?: number;
    }
  | {
      readonly type: 'inet';
      readonly host: string;
      readonly port: number;
      readonly ipv6Only?: boolean;
      /** A handshake each accepted connection goes through first (TLS); only those it passes on are served. */
      readonly secure?: SecureAccept | undefined;
    };

/** Takes an accepted connection through a handshake and calls `serve` with the socket to serve, if it passes. */
export type SecureAccept = (socket: Socket, serve: (socket: Socket) => void) => void;

/**
 * A listener's socket file when nothing says otherwise: read and write for
 * the daemon's own user only, whatever the umask. Whoever can connect
 * drives the daemon with its rights; QEMU's monitor sockets follow the umask.
 */
const DEFAULT_SOCKET_PERM = 0o600;

/** A listener that could not open; the daemon prefixes the option it came from, as QEMU does. */
export class ListenerError extends ChardevdError {
  override readonly name = 'ListenerError';
  readonly code = 'LISTENER_FAILED';
}

/** inet_listen_saddr's text for a port in use; other failures in the system's words. */
function listenError(error: NodeJS.ErrnoException): ListenerError {
  if (error.code === 'EADDRINUSE') return new ListenerError('Failed to find an available port: Address already in use', { cause: error });
  return new ListenerError(error.message, { cause: error });
}

/**
 * The listening sockets of a monitor server (QMP or HMP): each opened on
 * a unix path or a TCP address, and closed together, a unix socket's file
 * removed as QEMU removes it.
 */
export class SocketListeners {
  readonly #listeners: { server: Server; unlinkPath: string | undefined }[] = [];

  /**
   * @param what names the listener in the daemon's log (`QMP`, `monitor`)
   */
  constructor(
    private readonly what: string,
    private readonly log: (message: string) => void,
  ) {}

  /** Starts listening; resolves with the bound address (the real port when port 0 was asked). */
  async open(
    address: QmpListenAddress,
    onConnection: (socket: Socket) => void,
    options: { allowHalfOpen?: boolean; pauseOnConnect?: boolean } = {},
  ): Promise<QmpListenAddress> {
    const secure = address.type === 'inet' ? address.secure : undefined;
    const accept = secure === undefined ? onConnection : (socket: Socket): void => secure(socket, onConnection);
    const server = createServer({ allowHalfOpen: options.allowHalfOpen ?? false, pauseOnConnect: options.pauseOnConnect ?? false }, accept);
    if (address.type === 'unix') {
      // A server socket replaces a file left at its path, as QEMU does; unlike QEMU, never one a process still listens on.
      if (await isLiveUnixSocket(address.path)) throw new ListenerError(liveSocketText(address.path));
      removeSocketFile(address.path);
      listenWithPerm(server, address.path, address.perm ?? DEFAULT_SOCKET_PERM);
    } else {
      server.listen({ host: address.host, port: address.port, ipv6Only: address.ipv6Only ?? false });
    }
    // once() rejects with the 'error' event's error.
    await once(server, 'listening').catch((error: unknown) => Promise.reject(listenError(error as NodeJS.ErrnoException)));
    server.on('error', (error) => this.log(`${this.what} listener error: ${error.message}`));
    this.#listeners.push({ server, unlinkPath: address.type === 'unix' ? address.path : undefined });
    const bound = server.address();
    if (address.type === 'inet' && bound !== null && typeof bound === 'object') return { ...address, port: bound.port };
    return address;
  }

  /** Stops accepting; each promise settles when its listener has closed. */
  closeAll(): Promise<void>[] {
    return this.#listeners.splice(0).map(({ server, unlinkPath }) => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      if (unlinkPath !== undefined) removeSocketFile(unlinkPath);
      return closed;
    });
  }
}

/**
 * Creates the socket file with exactly `perm`, whatever the umask. A chmod
 * after listen() would come too late: bind() creates the file with the
 * umask's bits and listen() makes it connectable at once, so anyone those
 * bits let in could connect in between, and keep the connection. So the
 * umask is set to the complement of `perm` around the call: Node binds and
 * listens synchronously inside server.listen(), on this thread, and no
 * code of ours runs before the umask is restored. The umask is the
 * process's, so a file a libuv worker thread creates in those microseconds
 * gets `perm`'s bits in place of the umask's (with the default 0600, fewer).
 * Binding in a private directory and renaming the socket into place would
 * avoid that, but lengthens the path, which a unix socket limits to 107 bytes.
 */
function listenWithPerm(server: Server, path: string, perm: number): void {
  const umask = process.umask(~perm & 0o777);
  try {
    server.listen(path);
  } finally {
    process.umask(umask);
  }
}

function removeSocketFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (error: unknown) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
