/**
 * QMP command rate over one connection, chardevd against QEMU 7.2, in the
 * same run: `query-version` answered sequentially (send, wait, send) and
 * pipelined (a window of requests in flight). Prints a table with the
 * ratio. Run: npm run bench:qmp-rate [-- --seconds N]
 */
import { connect, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { startChardevd, startQemu, type ServerProcess } from '../test/support/servers.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '2' }, window: { type: 'string', default: '256' } } });
const SECONDS = Number(values.seconds);
/** Requests kept in flight when pipelining. */
const WINDOW = Number(values.window);
const REQUEST = Buffer.from('{"execute":"query-version"}');

/** Counts reply lines on a negotiated raw connection. */
class RawQmp {
  #lines = 0;
  #waiters: { count: number; resolve: () => void }[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      let n = 0;
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) n++;
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
    socket.write('{"execute":"qmp_capabilities"}');
    await raw.until(2);
    return raw;
  }

  get lines(): number {
    return this.#lines;
  }

  until(count: number): Promise<void> {
    if (this.#lines >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }
}

async function sequential(raw: RawQmp, seconds: number): Promise<number> {
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  let done = 0;
  while (performance.now() < end) {
    const target = raw.lines + 1;
    raw.socket.write(REQUEST);
    await raw.until(target);
    done++;
  }
  return done / ((performance.now() - start) / 1000);
}

async function pipelined(raw: RawQmp, seconds: number): Promise<number> {
  const start = performance.now();
  const end = start + seconds * 1000;
  const base = raw.lines;
  let sent = 0;
  while (performance.now() < end) {
    // Keep WINDOW requests in flight: send a batch, wait until half of it is answered.
    const batch = Buffer.concat(Array.from({ length: WINDOW / 2 }, () => REQUEST));
    raw.socket.write(batch);
    sent += WINDOW / 2;
    await raw.until(base + sent - WINDOW / 2);
  }
  await raw.until(base + sent);
  return sent / ((performance.now() - start) / 1000);
}

async function measure(server: ServerProcess): Promise<{ sequential: number; pipelined: number }> {
  const raw = await RawQmp.open(server.qmpPath);
  try {
    await sequential(raw, 0.2); // warm-up
    return { sequential: await sequential(raw, SECONDS), pipelined: await pipelined(raw, SECONDS) };
  } finally {
    raw.socket.destroy();
  }
}

const qemu = await startQemu();
const chardevd = await startChardevd();
try {
  const theirs = await measure(qemu);
  const ours = await measure(chardevd);
  const row = (name: string, a: number, b: number): string =>
    `| ${name.padEnd(24)} | ${a.toFixed(0).padStart(10)} | ${b.toFixed(0).padStart(10)} | ${(a / b).toFixed(1).padStart(6)}x |`;
  console.log(`query-version per second over one connection, ${SECONDS} s each, pipelined window ${WINDOW}`);
  console.log('| mode                     |   chardevd |   QEMU 7.2 |  ratio |');
  console.log('|--------------------------|-----------:|-----------:|-------:|');
  console.log(row('sequential', ours.sequential, theirs.sequential));
  console.log(row('pipelined', ours.pipelined, theirs.pipelined));
} finally {
  await Promise.all([qemu.stop(), chardevd.stop()]);
}
