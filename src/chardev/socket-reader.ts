import * as net from 'node:net';
import type * as tls from 'node:tls';
import { ReadBuffer, type ReadLease } from './read-buffer.js';

/** What net.Socket keeps of its libuv handle (internal to Node; see readIntoBuffer). */
interface StreamHandle {
  readStart(): number;
  useUserBuffer(buffer: Uint8Array): void;
}

/**
 * Makes a connected socket read into a ReadBuffer: `deliver` gets each
 * read as a view of the buffer, with the buffer as its lease (see
 * ReadLease). Returns the socket to use from now on, which pauses and
 * resumes as before, and ends and closes as the old one would have.
 *
 * Node reads into a caller's buffer (`onread`) only for a socket created
 * with that option, and a server creates the sockets it accepts itself,
 * without it. So the connection's handle moves to a new net.Socket made
 * with `onread`, and the socket that held it, never read from, is
 * destroyed without the handle (releasing its place in its server's
 * connection count). Where Node's internals do not look as expected,
 * the socket is returned as it is, reading with 'data' events into
 * buffers of their own (no lease); so is a TLS socket.
 */
export function readIntoBuffer(socket: net.Socket, deliver: (data: Buffer, lease: ReadLease | undefined) => void): net.Socket {
  const owner = socket as unknown as { _handle?: Partial<StreamHandle> | null };
  const handle = owner._handle;
  // A TLS socket's handle holds the session: it stays where it is. (Every
  // TLSSocket is `encrypted`; asked so, node:tls need not be loaded.)
  if (
    (socket as Partial<tls.TLSSocket>).encrypted === true ||
    socket.connecting ||
    typeof handle?.readStart !== 'function' ||
    typeof handle.useUserBuffer !== 'function'
  ) {
    socket.on('data', (chunk: Buffer) => deliver(chunk, undefined));
    return socket;
  }
  socket.pause();
  owner._handle = null;
  socket.destroy();
  const reader = new ReadBuffer();
  let read = 0;
  const options = {
    handle,
    readable: true,
    writable: true,
    pauseOnCreate: true,
    onread: {
      buffer: () => reader.next(read),
      callback: (bytes: number, buffer: Uint8Array): void => {
        read = bytes;
        deliver((buffer as Buffer).subarray(0, bytes), reader);
      },
    },
  };
  return new net.Socket(options);
}
