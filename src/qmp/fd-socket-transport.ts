import type { Socket } from 'node:net';
import { closeFds, FdReceiver } from '../base/fd-passing.js';
import type { QmpTransport } from './transport.js';

/**
 * The most descriptors one message may pass to a QMP connection (QEMU's
 * TCP_MAX_FDS, chardev/char-socket.c); the kernel closes any beyond.
 */
const MAX_FDS = 16;

/**
 * A QMP connection on a unix socket that takes descriptors passed with
 * SCM_RIGHTS: its input is read with recvmsg() (FdReceiver), its output
 * written by Node. The socket must have been accepted paused
 * (pauseOnConnect) so that Node never reads it; undefined when descriptor
 * passing is unavailable, and the caller serves the socket as usual.
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
  const receiver = FdReceiver.open(
    socket,
    MAX_FDS,
    ({ data, fds, truncated }) => {
      if (data.length === 0) {
        closeFds(fds);
        leave();
        return;
      }
      if (truncated) {
        // QEMU keeps the first 16 and loses the rest unnoticed; a command cannot know which it got, so none are kept.
        closeFds(fds);
        log(`QMP client ${peer} passed more than ${MAX_FDS} descriptors with one message: closed them all`);
        handlers?.data(data, []);
        return;
      }
      handlers?.data(data, fds);
    },
    () => leave(),
  );
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
