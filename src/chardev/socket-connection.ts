import type * as net from 'node:net';
import { closeFds, FdReceiver, sharedReadBuffer } from '../base/fd-passing.js';
import type { ReadLease } from './read-buffer.js';
import { readIntoBuffer } from './socket-reader.js';
import { StreamOutput } from './stream-io.js';
import { TELNET_INIT, TelnetInputFilter, TN3270_INIT } from './telnet.js';

/** What a connection reports to its socket chardev. */
export interface ConnectionHandlers {
  /** Input; with a `lease`, `chunk` is lent (see ReadLease). */
  data(chunk: Buffer, lease?: ReadLease): void;
  /** Descriptors passed with the input that comes next (a connection read with recvmsg() only). */
  descriptors(fds: readonly number[]): void;
  /** A peer passed more descriptors in one message than are taken; all of them were closed. */
  tooManyDescriptors(): void;
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

/**
 * The most descriptors one message may pass (QEMU's TCP_MAX_FDS,
 * chardev/char-socket.c); the kernel closes any beyond.
 */
const MAX_PASSED_FDS = 16;

/**
 * A unix connection read with recvmsg() (FdReceiver), so that descriptors
 * the peer passes reach the frontend with the bytes they came with, as
 * QEMU's tcp_chr_recv reads every unix socket chardev. The socket must
 * never have been read by Node (accepted with pauseOnConnect, or made from
 * a passed descriptor paused); Node writes and closes it. Undefined when
 * descriptor passing is unavailable.
 */
export function fdStreamConnection(socket: net.Socket, handlers: ConnectionHandlers): SocketConnection | undefined {
  const receiver = FdReceiver.open(
    socket,
    MAX_PASSED_FDS,
    sharedReadBuffer,
    ({ data, fds, truncated }) => {
      if (data.length === 0) {
        // The peer's end of the stream: the connection ends, as for any socket chardev.
        closeFds(fds);
        socket.destroy();
        return;
      }
      if (truncated) {
        closeFds(fds);
        handlers.tooManyDescriptors();
      } else if (fds.length > 0) {
        handlers.descriptors(fds);
      }
      // A copy: a frontend may keep what it is handed (a hub's or a link's queued output).
      handlers.data(Buffer.from(data));
    },
    () => socket.destroy(),
  );
  if (receiver === undefined) return undefined;
  const output = new StreamOutput(socket, () => handlers.drain());
  socket.on('error', () => socket.destroy());
  socket.on('close', () => {
    receiver.close();
    handlers.closed();
    output.streamClosed();
  });
  return {
    socket,
    get dropped() {
      return output.dropped;
    },
    write: (data, lease) => output.write(data, lease),
    pause: () => receiver.setReading(false),
    resume: () => {
      if (!socket.destroyed) receiver.setReading(true);
    },
    close: () => {
      receiver.close();
      socket.destroy();
    },
  };
}
