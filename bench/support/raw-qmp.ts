import { connect, type Socket } from 'node:net';

/**
 * A negotiated QMP connection with as little client work as possible, so
 * that a benchmark measures the server: requests are written as given and
 * replies are counted by their line ends. `request()` also hands back the
 * reply's text for the few measurements that need the data.
 */
export class RawQmp {
  #lines = 0;
  #waiters: { count: number; resolve: () => void }[] = [];
  #keepText = false;
  #partial = '';
  #texts: string[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      let n = 0;
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) n++;
      if (this.#keepText) this.#collect(chunk);
      this.#lines += n;
      this.#waiters = this.#waiters.filter((w) => {
        if (this.#lines < w.count) return true;
        w.resolve();
        return false;
      });
    });
  }

  static async open(path: string): Promise<RawQmp> {
    const socket = connect(path);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.setNoDelay(true);
    const raw = new RawQmp(socket);
    await raw.until(1); // greeting
    await raw.send(Buffer.from('{"execute":"qmp_capabilities"}'));
    return raw;
  }

  /** Reply lines received so far (the greeting included). */
  get lines(): number {
    return this.#lines;
  }

  until(count: number): Promise<void> {
    if (this.#lines >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  /** Sends one request and waits for its reply. */
  send(request: Buffer): Promise<void> {
    const target = this.#lines + 1;
    this.socket.write(request);
    return this.until(target);
  }

  /** Sends one request and resolves with its reply, parsed. */
  async request(request: string): Promise<unknown> {
    // Text is kept only while a request() waits, and nothing else is in flight then.
    this.#keepText = true;
    this.#texts = [];
    this.#partial = '';
    await this.send(Buffer.from(request));
    this.#keepText = false;
    return JSON.parse(this.#texts.at(-1)!) as unknown;
  }

  #collect(chunk: Buffer): void {
    const lines = (this.#partial + chunk.toString('latin1')).split('\n');
    this.#partial = lines.pop()!;
    this.#texts.push(...lines.filter((line) => line.trim() !== ''));
  }

  close(): void {
    this.socket.destroy();
  }
}
