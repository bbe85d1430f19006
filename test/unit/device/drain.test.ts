import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, suite, test } from 'node:test';
import { Chardev } from '../../../src/chardev/chardev.js';
import { ChardevRegistry } from '../../../src/chardev/registry.js';
import { drainLinks } from '../../../src/device/drain.js';
import { LinkDevice } from '../../../src/device/link.js';
import { waitFor } from '../../support/peer-process.js';

const dir = mkdtempSync(join(tmpdir(), 'chardevd-drain-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A lossless sink slower than a socket: it takes a write, asks to wait, and writes it a moment later. */
class SlowSink extends Chardev {
  readonly kind = 'file';
  override readonly losslessSink = true;
  readonly #hash = createHash('sha256');
  written = 0;
  #held: Buffer[] = [];
  #heldBytes = 0;

  get filename(): string {
    return 'slow';
  }

  async open(): Promise<void> {}

  protected writeToBackend(data: Buffer): boolean {
    this.#held.push(data);
    this.#heldBytes += data.length;
    setTimeout(() => {
      for (const chunk of this.#held) this.#hash.update(chunk);
      this.written += this.#heldBytes;
      this.#held = [];
      this.#heldBytes = 0;
      this.drained();
    }, 2);
    return false;
  }

  override get outputBacklog(): number {
    return this.#heldBytes;
  }

  digest(): string {
    return this.#hash.digest('hex');
  }

  protected async closeBackend(): Promise<void> {}
}

async function linkedSocket(): Promise<{ chardevs: ChardevRegistry; link: LinkDevice; sink: SlowSink; client: net.Socket }> {
  const chardevs = new ChardevRegistry({ log: () => {} });
  const path = join(dir, `${Math.random()}.sock`);
  const source = await chardevs.add('source', { type: 'socket', data: { addr: { type: 'unix', data: { path } }, server: true, wait: false } });
  const sink = new SlowSink('sink');
  const link = new LinkDevice('l0', '/machine/peripheral/l0', source, sink);
  const client = net.connect(path);
  client.on('error', () => {});
  await waitFor(() => source.isOpen, 'the source to accept its client', 10_000, 5);
  return { chardevs, link, sink, client };
}

suite('drainLinks: a graceful stop reads what the sources sent and lets lossless sinks write it', () => {
  test('what still sits in the kernel while the link waits for a slow sink is read and written before it resolves', async () => {
    const { chardevs, link, sink, client } = await linkedSocket();
    const data = randomBytes(4 << 20);
    // The last byte is with the kernel, most of it unread, when the drain starts.
    await new Promise<void>((resolve, reject) => client.write(data, (error) => (error ? reject(error) : resolve())));
    assert.ok(sink.written < data.length, 'the kernel still holds bytes when the drain starts');
    assert.equal(await drainLinks([link], chardevs.list().concat(sink), 30_000), true);
    assert.equal(sink.written, data.length);
    assert.equal(sink.digest(), createHash('sha256').update(data).digest('hex'));
    link.detach();
    client.destroy();
    await chardevs.closeAll();
  });

  test('a source that goes on sending does not hold the stop up: it resolves false at the bound', async () => {
    const { chardevs, link, sink, client } = await linkedSocket();
    let sending = true;
    const send = (): void => {
      if (sending) client.write(Buffer.alloc(4096), () => setImmediate(send));
    };
    send();
    const drained = await drainLinks([link], chardevs.list().concat(sink), 300);
    sending = false;
    assert.equal(drained, false);
    link.detach();
    client.destroy();
    await chardevs.closeAll();
  });

  test('with no link and nothing left to write it resolves true at once', async () => {
    assert.equal(await drainLinks([], [new SlowSink('idle')], 0), true);
  });
});
