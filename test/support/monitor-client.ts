import { connect, type Socket } from 'node:net';
import { sendWithFds, socketFd } from '../../src/base/fd-passing.js';

const WAIT_MS = 5_000;

/**
 * One connection to a human monitor (chardevd's or QEMU's), for tests:
 * collects everything received as Latin-1 text, sends raw keystrokes, and
 * runs a command line to the next prompt. Every wait is bounded.
 */
export class MonitorClient {
  /** Everything received so far. */
  received = '';
  closed = false;
  #wake: (() => void) | undefined;

  private constructor(
    readonly socket: Socket,
    readonly prompt: string,
  ) {
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => {
      this.received += text;
      this.#wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.#wake?.();
    });
    socket.on('error', () => {});
  }

  /** A monitor on a socket already connected (a monitor that connected out to the test). */
  static of(socket: Socket, prompt = '(chardevd) '): MonitorClient {
    return new MonitorClient(socket, prompt);
  }

  /**
   * Connects to a unix socket path or a TCP port on 127.0.0.1, retrying
   * while the listener is not there yet, and waits for the first prompt
   * unless `waitForPrompt` is false (a monitor on a mux without the focus
   * prints none).
   */
  static async open(where: string | number, prompt = '(chardevd) ', waitForPrompt = true): Promise<MonitorClient> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      try {
        const socket = await new Promise<Socket>((resolve, reject) => {
          const s = typeof where === 'number' ? connect(where, '127.0.0.1') : connect(where);
          s.once('connect', () => resolve(s)).once('error', reject);
        });
        const client = new MonitorClient(socket, prompt);
        if (waitForPrompt) await client.until(() => client.received.endsWith(prompt), 'the banner and the first prompt');
        return client;
      } catch (error: unknown) {
        const code = (error as NodeJS.ErrnoException).code;
        if ((code !== 'ENOENT' && code !== 'ECONNREFUSED') || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }

  /** Sends raw bytes (a Latin-1 string: one character per byte). */
  send(bytes: string): void {
    this.socket.write(Buffer.from(bytes, 'latin1'));
  }

  /** How often `text` occurs in what was received. */
  count(text: string): number {
    return this.received.split(text).length - 1;
  }

  /** Waits until `done()` holds, or fails after a bound naming `what`. */
  async until(done: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) {
        throw new Error(`${this.closed ? 'connection closed' : 'timed out'} waiting for ${what}; received ${JSON.stringify(this.received.slice(-300))}`);
      }
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        timer = setTimeout(resolve, left);
        this.#wake = resolve;
      });
      // Cleared whichever way the wait ended, so no timer outlives the test.
      clearTimeout(timer);
    }
  }

  /** Sends keystrokes ending in Enter (with descriptors passed with them, SCM_RIGHTS) and waits for `prompts` more prompts; returns what came meanwhile. */
  async keys(bytes: string, prompts = 1, fds: readonly number[] = []): Promise<string> {
    const start = this.received.length;
    const before = this.count(`\r\n${this.prompt}`);
    if (fds.length > 0) sendWithFds(socketFd(this.socket)!, Buffer.from(bytes, 'latin1'), fds);
    else this.send(bytes);
    await this.until(() => this.count(`\r\n${this.prompt}`) >= before + prompts && this.received.endsWith(this.prompt), `the prompt after ${JSON.stringify(bytes)}`);
    return this.received.slice(start);
  }

  /** Runs one command line; returns its output (between the echoed line and the next prompt), "\r\n" line ends kept. */
  async command(line: string, fds: readonly number[] = []): Promise<string> {
    const all = await this.keys(`${line}\r`, 1, fds);
    const afterEcho = all.indexOf('\r\n');
    return all.slice(afterEcho + 2, all.length - this.prompt.length);
  }

  close(): void {
    this.socket.destroy();
  }
}
