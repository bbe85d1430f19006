import type { Socket } from 'node:net';
import { READ_BUFFER_BYTES } from '../base/fd-passing.js';
import { fdSocketReader } from './fd-socket-reader.js';
import type { QmpTransport } from './transport.js';

/**
 * A QMP connection on a unix socket that takes descriptors passed with
 * SCM_RIGHTS: its input is read with recvmsg() (fdSocketReader), its
 * output written by Node. Undefined when descriptor passing is
 * unavailable, and the caller serves the socket as usual.
 */
export function fdSocketTransport(socket: Socket, log: (message: string) => void): QmpTransport | undefined {
  let handlers: Parameters<QmpTransport['bind']>[0] | undefined;
  let gone = false;
  const peer = 'on unix socket';
  const leave = (): void => {
    if (gone) return;
    gone = true;
    receiver?.close();
    handlers?.gone();
  };
  // The connection's own read buffer: the session parses a chunk over several turns, keeping it
  // unread meanwhile, and reads again only once it is done with it (QmpTransportHandlers.data).
  const receiver = fdSocketReader(socket, `QMP client ${peer}`, log, Buffer.allocUnsafeSlow(READ_BUFFER_BYTES), {
    data: (chunk, fds) => handlers?.data(chunk, fds),
    end: leave,
  });
  if (receiver === undefined) return undefined;
  return {
    peer,
    backlog: () => socket.writableLength,
    bind(bound) {
      handlers = bound;
      socket.on('drain', () => bound.drain());
      socket.on('error', leave);
      socket.on('close', leave);
      receiver.setReading(true);
    },
    write(text) {
      socket.write(text);
    },
    setReading(reading) {
      receiver.setReading(reading);
    },
    destroy() {
      gone = true;
      receiver.close();
      socket.destroy();
    },
    end() {
      // Nothing more is read: a client that keeps talking must not hold the connection open.
      receiver.setReading(false);
      socket.end();
    },
  };
}
