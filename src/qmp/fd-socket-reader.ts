import type { Socket } from 'node:net';
import { closeFds, FdReceiver } from '../base/fd-passing.js';

/**
 * The most descriptors one message may pass to a monitor connection
 * (QEMU's TCP_MAX_FDS, chardev/char-socket.c); the kernel closes any beyond.
 */
export const MAX_PASSED_FDS = 16;

/** What a monitor connection read with recvmsg() hears. */
export interface FdSocketHandlers {
  /**
   * Input, and the descriptors that came with it (the handler's to own).
   * The chunk is a view of the read buffer (FdReceiver): the handler copies
   * what it keeps, or turns reading off until it is done with it.
   */
  data(chunk: Buffer, fds: readonly number[]): void;
  /** The peer closed its side, or the socket failed. */
  end(): void;
}

/**
 * Reads a monitor connection on a unix socket with recvmsg(), so that
 * descriptors sent with SCM_RIGHTS arrive with the bytes they came with.
 * The socket must have been accepted paused (pauseOnConnect) so that Node
 * never reads it; Node still writes and closes it. Undefined when
 * descriptor passing is unavailable: the caller reads the socket as usual.
 * More than MAX_PASSED_FDS in one message: QEMU keeps the first 16 and
 * loses the rest unnoticed; a command cannot know which it got, so none
 * are kept, and `who` is named in the daemon's log.
 */
export function fdSocketReader(socket: Socket, who: string, log: (message: string) => void, readBuffer: Buffer, handlers: FdSocketHandlers): FdReceiver | undefined {
  return FdReceiver.open(
    socket,
    MAX_PASSED_FDS,
    readBuffer,
    ({ data, fds, truncated }) => {
      if (data.length === 0) {
        closeFds(fds);
        handlers.end();
        return;
      }
      if (truncated) {
        closeFds(fds);
        log(`${who} passed more than ${MAX_PASSED_FDS} descriptors with one message: closed them all`);
        handlers.data(data, []);
        return;
      }
      handlers.data(data, fds);
    },
    () => handlers.end(),
  );
}
