import * as fs from 'node:fs';
import { ByteCollector } from './peer-process.js';

const WAIT_MS = 5_000;
const POLL_MS = 5;

/**
 * The test's own end of a terminal, e.g. the slave of a pty chardev, as
 * a terminal program would open it: read-write, not as controlling
 * terminal, non-blocking so that waiting for input never blocks the test.
 */
export class TtyPeer {
  readonly fd: number;
  readonly #input = new ByteCollector();
  #closed = false;

  constructor(readonly path: string) {
    this.fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK);
  }

  /** Everything read so far. */
  get input(): Buffer {
    return this.#input.bytes;
  }

  get text(): string {
    return this.input.toString('latin1');
  }

  write(data: string | Buffer): void {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    let done = 0;
    while (done < bytes.length) done += fs.writeSync(this.fd, bytes, done);
  }

  /** Reads what is there now; 'eof' or the error code once the other end is gone. */
  readNow(): 'eof' | string | undefined {
    const buffer = Buffer.alloc(64 * 1024);
    for (;;) {
      let count: number;
      try {
        count = fs.readSync(this.fd, buffer, 0, buffer.length, null);
      } catch (error: unknown) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return undefined;
        return code;
      }
      if (count === 0) return 'eof';
      // A copy: the read buffer is reused for the next read.
      this.#input.push(Buffer.from(buffer.subarray(0, count)));
    }
  }

  /** Reads until `done()` holds; fails after a bound, naming `what`. */
  async readUntil(done: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = this.readNow();
      if (done()) return;
      if (end !== undefined) throw new Error(`the terminal ended (${end}) while waiting for ${what}; read ${JSON.stringify(this.text.slice(-80))}`);
      if (Date.now() >= deadline) throw new Error(`timed out waiting for ${what}; read ${JSON.stringify(this.text.slice(-80))}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** Waits until reading reports the end (EOF or an error such as EIO); returns what it was. */
  async readEnd(what: string, timeoutMs = WAIT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = this.readNow();
      if (end !== undefined) return end;
      if (Date.now() >= deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    fs.closeSync(this.fd);
  }
}
