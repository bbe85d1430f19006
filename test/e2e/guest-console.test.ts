import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, suite, test } from 'node:test';
import { QmpClient } from '../../src/client/qmp-client.js';
import { bootGuest, type Guest, GUEST_READY, guestSkipReason } from '../support/guest.js';
import { type ServerProcess, startChardevd } from '../support/servers.js';

const BOOT_TIMEOUT_MS = 60_000;
const ANSWER_TIMEOUT_MS = 10_000;

/** A viewer on the console's multi-client socket: everything it received, and a bounded wait. */
class Viewer {
  text = '';
  readonly #socket: Socket;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding('latin1').on('data', (data: string) => (this.text += data));
  }

  static async connect(path: string): Promise<Viewer> {
    const socket = connect(path);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new Viewer(socket);
  }

  type(line: string): void {
    this.#socket.write(`${line}\n`);
  }

  async until(pattern: RegExp, what: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.text)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the console showed ${JSON.stringify(this.text.slice(-300))}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  close(): void {
    this.#socket.destroy();
  }
}

/**
 * A real guest's serial console through chardevd: QEMU connects its
 * serial port to a socket chardev of chardevd, which a link device joins
 * to a socket server with several clients at once.
 */
suite('a real Linux guest on a chardevd console', { skip: guestSkipReason() }, () => {
  let chardevd: ServerProcess;
  let guest: Guest | undefined;
  const viewers: Viewer[] = [];

  before(async () => {
    chardevd = await startChardevd((dir) => [
      '-chardev',
      `socket,id=guest0,path=${join(dir, 'guest.sock')},server=on,wait=off`,
      '-chardev',
      `socket,id=viewers,path=${join(dir, 'viewers.sock')},server=on,wait=off,clients=4`,
      '-device',
      'link,id=console-link,chardev=guest0,peer=viewers',
    ]);
    // Viewers first: a socket chardev without a client drops output, as QEMU's does.
    for (let i = 0; i < 2; i++) viewers.push(await Viewer.connect(join(chardevd.dir, 'viewers.sock')));
    guest = bootGuest(chardevd.dir, `socket,id=serial0,path=${join(chardevd.dir, 'guest.sock')}`);
  });

  after(async () => {
    for (const viewer of viewers) viewer.close();
    await guest?.stop();
    await chardevd?.stop();
  });

  test("the boot reaches every viewer, up to the marker of the guest's /init", async () => {
    for (const [i, viewer] of viewers.entries()) {
      await viewer.until(new RegExp(GUEST_READY), `viewer ${i} to see the guest come up (QEMU stderr: ${guest!.stderr()})`, BOOT_TIMEOUT_MS);
    }
    // Both got the same bytes, none lost or reordered, from the first the guest sent.
    const boot = (viewer: Viewer): string => viewer.text.slice(0, viewer.text.indexOf(GUEST_READY) + GUEST_READY.length);
    assert.equal(boot(viewers[0]!), boot(viewers[1]!));
  });

  test('a command typed by one viewer runs in the guest and its output reaches both', async () => {
    // The shell echoes the typed line; $((6*7)) shows the answer came from the guest's shell.
    viewers[0]!.type('echo guest-says-$((6*7))');
    for (const [i, viewer] of viewers.entries()) {
      await viewer.until(/guest-says-42/, `viewer ${i} to see the command's output`, ANSWER_TIMEOUT_MS);
    }
  });

  test('query-links counts the bytes both ways', async () => {
    const client = await QmpClient.connect(chardevd.qmpPath, { connectTimeoutMs: 10_000 });
    try {
      const [link] = await client.queryLinks({ timeoutMs: 10_000 });
      assert.equal(link?.chardev, 'guest0');
      assert.ok(link['chardev-to-peer'] >= viewers[1]!.text.length, `guest to viewers: ${link['chardev-to-peer']}`);
      assert.ok(link['peer-to-chardev'] >= 'echo guest-says-$((6*7))\n'.length, `viewers to guest: ${link['peer-to-chardev']}`);
    } finally {
      client.close();
    }
  });
});
