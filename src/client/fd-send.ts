import type { Socket } from 'node:net';
import { fdPassingUnavailable, sendWithFds, socketFd } from '../base/fd-passing.js';

/** Why descriptors cannot go on `socket`, or undefined when they can (a unix socket, the addon built). */
export function fdSendRefusal(socket: Socket): string | undefined {
  if (socket.remoteAddress !== undefined) return 'descriptors can be passed on a unix socket only, not on TCP';
  if (fdPassingUnavailable !== undefined) return `cannot pass descriptors: ${fdPassingUnavailable}`;
  if (socketFd(socket) === undefined) return 'cannot pass descriptors: the socket has no descriptor';
  return undefined;
}

/**
 * Sends `text` with `fds` attached (SCM_RIGHTS) to the first of its bytes,
 * after whatever Node still has queued on the socket, so that requests
 * keep their order; what one sendmsg() does not take goes after it as
 * usual. The caller still owns `fds` (the server gets duplicates).
 */
export async function sendTextWithFds(socket: Socket, text: string, fds: readonly number[]): Promise<void> {
  while (socket.writableLength > 0) {
    await new Promise<void>((resolve, reject) => {
      const done = (): void => {
        socket.off('drain', done);
        socket.off('close', gone);
        resolve();
      };
      const gone = (): void => {
        socket.off('drain', done);
        reject(new Error('the connection closed'));
      };
      socket.once('drain', done);
      socket.once('close', gone);
    });
  }
  const fd = socketFd(socket);
  if (fd === undefined) throw new Error('the socket has no descriptor');
  const data = Buffer.from(text);
  const sent = sendWithFds(fd, data, fds);
  if (sent < data.length) socket.write(data.subarray(sent));
}
