import { connect, type Socket } from 'node:net';

/** Connects to a unix socket, retrying for up to 10 s while the server is still starting. */
export async function connectWithRetry(path: string): Promise<Socket> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const socket = connect(path);
        socket.once('connect', () => resolve(socket)).once('error', reject);
      });
    } catch (error: unknown) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
