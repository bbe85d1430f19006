import type * as net from 'node:net';
import type { ReadLease } from './read-buffer.js';
import { readIntoBuffer } from './socket-reader.js';
import { StreamOutput } from './stream-io.js';
import { TELNET_INIT, TelnetInputFilter, TN3270_INIT } from './telnet.js';

/** What a connection reports to its socket chardev. */
export interface ConnectionHandlers {
  /** Input; with a `lease`, `chunk` is lent (see ReadLease). */
  data(chunk: Buffer, lease?: ReadLease): void;
  /** A telnet IAC BREAK arrived. */
  break(): void;
  drain(): void;
  /** The connection ended, whatever the reason. */
  closed(): void;
}

/** One connected peer of a socket chardev, after any handshake. */
export interface SocketConnection {
  /** The TCP or Unix socket underneath (for addresses and TCP options). */
  readonly socket: net.Socket;
  /** Output; with a `lease`, `data` is lent (see ReadLease). */
  write(data: Buffer, lease?: ReadLease): boolean;
  pause(): void;
  resume(): void;
  close(): void;
  /** Bytes dropped because the peer did not read. */
  readonly dropped: number;
}

export interface TelnetOptions {
  readonly telnet: boolean;
  readonly tn3270: boolean;
}

/**
 * A plain stream connection, with QEMU's telnet negotiation when asked
 * for: the greeting goes out before anything else and commands are
 * stripped from the input. It reads into a buffer of its own, lent to
 * the chardev with each read (socket-reader.ts); the telnet filter
 * returns a new buffer, which is not lent.
 */
export class StreamConnection implements SocketConnection {
  readonly socket: net.Socket;
  readonly #output: StreamOutput;

  constructor(connected: net.Socket, telnet: TelnetOptions | undefined, handlers: ConnectionHandlers) {
    const filter = telnet !== undefined && (telnet.telnet || telnet.tn3270) ? new TelnetInputFilter(telnet.tn3270, () => handlers.break()) : undefined;
    const socket = readIntoBuffer(connected, (chunk, lease) => {
      if (filter === undefined) handlers.data(chunk, lease);
      else {
        const data = filter.filter(chunk);
        if (data.length > 0) handlers.data(data);
      }
    });
    this.socket = socket;
    this.#output = new StreamOutput(socket, () => handlers.drain());
    if (filter !== undefined) socket.write(telnet?.tn3270 === true ? TN3270_INIT : TELNET_INIT);
    socket.pause();
    // A reset or a failed write (ECONNRESET, EPIPE) ends the connection like a hang-up.
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      handlers.closed();
      this.#output.streamClosed();
    });
  }

  get dropped(): number {
    return this.#output.dropped;
  }

  write(data: Buffer, lease?: ReadLease): boolean {
    return this.#output.write(data, lease);
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    if (!this.socket.destroyed) this.socket.resume();
  }

  close(): void {
    this.socket.destroy();
  }
}
