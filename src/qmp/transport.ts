import type { Socket } from 'node:net';

/** What a QMP session hears from its transport. */
export interface QmpTransportHandlers {
  /**
   * Input; `fds` are descriptors passed with it (SCM_RIGHTS), the session's to own from now on.
   * The chunk may be a view of a buffer the transport reads into again (fdSocketTransport): the
   * session keeps a chunk beyond the call only while it has reading turned off.
   */
  data(chunk: Buffer, fds?: readonly number[]): void;
  /** The peer took output it had left waiting. */
  drain(): void;
  /** The peer is gone: the session ends. */
  gone(): void;
}

/**
 * The byte stream under one QMP session: a connection accepted by a
 * listener, or a chardev the monitor is the frontend of
 * (`-mon chardev=ID,mode=control`). The session owns the protocol; the
 * transport only moves bytes and says how far behind the peer is.
 */
export interface QmpTransport {
  /** Who is on the other end, for the daemon's log. */
  readonly peer: string;
  /** Output bytes the peer has not taken yet. */
  backlog(): number;
  bind(handlers: QmpTransportHandlers): void;
  write(text: string): void;
  /** Stops or restarts reading input (the session's queue is full, or the peer leaves its replies unread). */
  setReading(reading: boolean): void;
  /** Ends the session's use of the stream now. */
  destroy(): void;
  /** Ends it once the output written so far has gone out. */
  end(): void;
}

/** A QMP connection on a socket a listener accepted. */
export function socketTransport(socket: Socket): QmpTransport {
  return {
    peer: socket.remoteAddress !== undefined ? `${socket.remoteAddress}:${socket.remotePort}` : 'on unix socket',
    backlog: () => socket.writableLength,
    bind(handlers) {
      socket.on('data', (chunk: Buffer) => handlers.data(chunk));
      socket.on('drain', () => handlers.drain());
      socket.on('error', () => handlers.gone());
      socket.on('close', () => handlers.gone());
      socket.on('end', () => handlers.gone());
    },
    write(text) {
      socket.write(text);
    },
    setReading(reading) {
      if (reading && socket.isPaused()) socket.resume();
      else if (!reading && !socket.isPaused()) socket.pause();
    },
    destroy() {
      socket.destroy();
    },
    end() {
      socket.end();
    },
  };
}
