import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { suite, test } from 'node:test';
import { waitFor } from '../support/peer-process.js';
import { Connection } from '../support/qmp-transcript.js';
import { startChardevd } from '../support/servers.js';

/**
 * Stopping with bytes in flight: a sender writes into a socket chardev
 * linked to a file chardev, and the daemon is told to stop right after
 * the sender's last write went to the kernel, none of it read yet (the
 * daemon is held with SIGSTOP while the last part goes out and the stop
 * is sent, so that the bytes are certainly still in the socket). The
 * daemon stops accepting, reads what the sender had sent, writes it and
 * exits: the file holds every byte.
 */

const TOTAL = 8 << 20;
/** The last part, sent while the daemon is held: less than a unix socket's send buffer (208 KiB), so that it goes to the kernel at once. */
const TAIL = 128 << 10;
const STOPS = ['SIGTERM', 'SIGINT', 'quit'] as const;
const ROUNDS = 6;
const EXIT_WAIT_MS = 20_000;

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** The bytes the link has moved from the sender to the file so far (query-links). */
async function moved(qmp: Connection): Promise<number> {
  const id = `links-${qmp.lines.length}`;
  qmp.socket.write(JSON.stringify({ execute: 'query-links', id }));
  await qmp.until((lines) => lines.some((line) => line.includes(id)), 'the reply to query-links');
  const reply = JSON.parse(qmp.lines.find((line) => line.includes(id))!) as { return: { 'chardev-to-peer': number }[] };
  return reply.return[0]!['chardev-to-peer'];
}

suite('a graceful stop (SIGTERM, SIGINT, quit) loses nothing a sender had sent', () => {
  for (let round = 0; round < ROUNDS; round++) {
    const stop = STOPS[round % STOPS.length]!;
    // Every other round the sender hangs up after its last write; the others keep the connection open.
    const hangUp = round % 2 === 1;
    test(`round ${round + 1}: ${stop} right after the last write of ${TOTAL >> 20} MiB${hangUp ? ', the sender hanging up' : ''}: the file has every byte`, async () => {
      const daemon = await startChardevd((dir) => [
        '-chardev',
        `socket,id=guest0,path=${join(dir, 'guest0.sock')},server=on,wait=off`,
        '-chardev',
        `file,id=log0,path=${join(dir, 'console.log')}`,
        '-device',
        'link,id=l0,chardev=guest0,peer=log0',
      ]);
      const out = join(daemon.dir, 'console.log');
      let qmp: Connection | undefined;
      let sender: Socket | undefined;
      let held = false;
      try {
        qmp = await Connection.negotiated(daemon.qmpPath);
        const guest = connect(join(daemon.dir, 'guest0.sock'));
        sender = guest;
        guest.on('error', () => {});
        await new Promise<void>((resolve, reject) => guest.once('connect', resolve).once('error', reject));
        const data = randomBytes(TOTAL);
        const send = (part: Buffer): Promise<void> => new Promise((resolve, reject) => guest.write(part, (error) => (error ? reject(error) : resolve())));
        await send(data.subarray(0, TOTAL - TAIL));
        await waitFor(async () => (await moved(qmp!)) === TOTAL - TAIL, 'the daemon to read the first part', EXIT_WAIT_MS, 5);
        process.kill(daemon.pid, 'SIGSTOP');
        held = true;
        await send(data.subarray(TOTAL - TAIL));
        if (hangUp) guest.end();
        if (stop === 'quit') qmp.socket.write('{"execute":"quit"}');
        else process.kill(daemon.pid, stop);
        process.kill(daemon.pid, 'SIGCONT');
        held = false;
        let timer: NodeJS.Timeout | undefined;
        const status = await Promise.race([
          daemon.exited,
          new Promise<'timeout'>((resolve) => {
            timer = setTimeout(() => resolve('timeout'), EXIT_WAIT_MS);
          }),
        ]);
        clearTimeout(timer);
        assert.equal(status, 0, `the daemon exits by itself with status 0; stderr: ${daemon.stderr().slice(-500)}`);
        const written = fs.readFileSync(out);
        assert.equal(written.length, data.length, 'the file has every byte');
        assert.equal(sha256(written), sha256(data), 'in order');
      } finally {
        if (held) process.kill(daemon.pid, 'SIGCONT');
        sender?.destroy();
        qmp?.socket.destroy();
        await daemon.stop();
      }
    });
  }
});
