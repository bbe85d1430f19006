import { once } from 'node:events';
import { unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';

/** Where a monitor listener (QMP or HMP) accepts connections. */
export type QmpListenAddress =
  | { readonly type: 'unix'; readonly path: string }
  | { readonly type: 'inet'; readonly host: string; readonly port: number; readonly ipv6Only?: boolean };

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
  async open(address: QmpListenAddress, onConnection: (socket: Socket) => void, options: { allowHalfOpen?: boolean } = {}): Promise<QmpListenAddress> {
    const server = createServer({ allowHalfOpen: options.allowHalfOpen ?? false }, onConnection);
    if (address.type === 'unix') {
      // A server socket replaces whatever is at its path, as QEMU does.
      removeSocketFile(address.path);
      server.listen(address.path);
    } else {
      server.listen({ host: address.host, port: address.port, ipv6Only: address.ipv6Only ?? false });
    }
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([error]) => Promise.reject(error as Error))]);
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

function removeSocketFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (error: unknown) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
