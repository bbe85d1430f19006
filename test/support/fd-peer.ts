/** A raw QMP client that passes descriptors with its commands (SCM_RIGHTS), for tests of descriptor passing. */
import { readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { sendWithFds, socketFd } from '../../src/base/fd-passing.js';

/** Bound for every wait of a peer. */
const WAIT_MS = 10_000;

export class FdPeer {
  #text = '';
  #waiter: (() => void) | undefined;
  #closed = false;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#text += chunk;
      this.#waiter?.();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#waiter?.();
    });
    socket.on('error', () => {});
  }

  /** Connects, reads the greeting and, unless told not to, negotiates. */
  static async open(path: string, negotiate = true): Promise<FdPeer> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(path);
      s.once('connect', () => resolve(s)).once('error', reject);
    });
    const peer = new FdPeer(socket);
    await peer.line();
    if (negotiate) await peer.command('{"execute":"qmp_capabilities"}');
    return peer;
  }

  /** The next line the server sent. */
  async line(): Promise<string> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const end = this.#text.indexOf('\r\n');
      if (end >= 0) {
        const line = this.#text.slice(0, end);
        this.#text = this.#text.slice(end + 2);
        return line;
      }
      if (this.#closed) throw new Error('the server closed the connection');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no line within ${WAIT_MS} ms (have ${this.#text.length} bytes)`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#waiter = undefined;
    }
  }

  /** Sends `text` in one message with `fds` (none: a plain write). */
  send(text: string, fds: readonly number[] = []): void {
    if (fds.length === 0) {
      this.socket.write(text);
      return;
    }
    const fd = socketFd(this.socket);
    if (fd === undefined) throw new Error('the peer socket has no descriptor');
    sendWithFds(fd, Buffer.from(text), fds);
  }

  /** Sends a command (with `fds`) and resolves with the reply line; events that come first are skipped. */
  async command(text: string, fds: readonly number[] = []): Promise<string> {
    this.send(text, fds);
    for (;;) {
      const line = await this.line();
      if (!line.startsWith('{"timestamp"')) return line;
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** How many descriptors process `pid` has open. */
export function openFdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Waits, bounded, until `pid` has `count` descriptors open (closing is asynchronous); resolves with the last count seen. */
export async function untilFdCount(pid: number, count: number, timeoutMs = WAIT_MS): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let now = openFdCount(pid);
  while (now !== count && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    now = openFdCount(pid);
  }
  return now;
}

/**
 * The number of descriptors `pid` settles at once connections it is
 * closing are gone: the same count over `quietMs` (closing is
 * asynchronous), within a bound.
 */
export async function settledFdCount(pid: number, quietMs = 300, timeoutMs = WAIT_MS): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let count = openFdCount(pid);
  let since = Date.now();
  while (Date.now() - since < quietMs && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const now = openFdCount(pid);
    if (now !== count) {
      count = now;
      since = Date.now();
    }
  }
  return count;
}
