import { rmSync } from 'node:fs';
import * as net from 'node:net';
import type { DemuxChannel, DemuxChannelHandler } from '../demux/channel.js';
import { bridgeStream } from './demux-bridge.js';

/**
 * Firecracker's hybrid vsock handshake, which its host-side callers speak
 * on a unix socket: one line `CONNECT <port>\n` (the keyword in any case,
 * the port a decimal u32; Firecracker reads it into a 32-byte buffer),
 * answered with `OK <host port>\n` once the guest accepted, after which
 * the connection is the channel's byte stream. A malformed line, or a
 * port the guest refuses, closes the connection without a word, as
 * Firecracker does. The host port is a number Firecracker allocates
 * from [2^30, 2^31) for the connection; here it counts up from 2^30.
 */
export const HYBRID_VSOCK_LINE_MAX = 32;
const FIRST_HOST_PORT = 1 << 30;

/** Opens a channel by port for one CONNECT; throws when it cannot (no session). */
export type OpenByPort = (port: number, handler: DemuxChannelHandler) => DemuxChannel;

export class HybridVsockDoor {
  readonly #server: net.Server;
  #nextHostPort = FIRST_HOST_PORT;
  readonly #connections = new Set<net.Socket>();

  constructor(
    readonly path: string,
    private readonly openByPort: OpenByPort,
  ) {
    this.#server = net.createServer({ allowHalfOpen: true }, (socket) => this.#connection(socket));
    this.#server.on('error', () => {});
  }

  /** Binds the socket (a stale file at the path is replaced, as a QEMU unix server does). */
  listen(): Promise<void> {
    rmSync(this.path, { force: true });
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.path, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
  }

  close(): void {
    this.#server.close();
    for (const socket of this.#connections) socket.destroy();
    rmSync(this.path, { force: true });
  }

  #connection(socket: net.Socket): void {
    this.#connections.add(socket);
    socket.on('close', () => this.#connections.delete(socket));
    socket.on('error', () => {});
    let line = Buffer.alloc(0);
    const reading = (chunk: Buffer): void => {
      line = Buffer.concat([line, chunk]);
      const newline = line.indexOf(0x0a);
      if (newline < 0) {
        if (line.length >= HYBRID_VSOCK_LINE_MAX) socket.destroy();
        return;
      }
      socket.off('data', reading);
      socket.pause();
      const match = newline < HYBRID_VSOCK_LINE_MAX ? /^connect\s+(\d{1,10})\s*$/i.exec(line.subarray(0, newline).toString('latin1')) : null;
      const port = match === null ? NaN : Number(match[1]);
      if (!(port <= 0xffffffff)) {
        socket.destroy();
        return;
      }
      this.#open(socket, port, line.subarray(newline + 1));
    };
    socket.on('data', reading);
  }

  #open(socket: net.Socket, port: number, rest: Buffer): void {
    const bridge = bridgeStream(socket);
    let channel: DemuxChannel;
    try {
      channel = this.openByPort(port, {
        ...bridge,
        accepted: () => {
          socket.write(`OK ${this.#nextHostPort}\n`);
          this.#nextHostPort = this.#nextHostPort + 1 >= 2 ** 31 ? FIRST_HOST_PORT : this.#nextHostPort + 1;
        },
      });
    } catch {
      socket.destroy();
      return;
    }
    bridge.attach(channel);
    if (rest.length > 0) channel.write(rest);
  }
}
