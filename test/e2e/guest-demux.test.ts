import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, suite, test } from 'node:test';
import { connected, descriptorCount, echoServer, roundTrip, sha256 } from '../support/demux-peer.js';
import { bootGuest, type Guest, GUEST_READY, guestSkipReason } from '../support/guest.js';
import { repoRoot } from '../support/paths.js';
import { waitFor } from '../support/peer-process.js';
import { Connection } from '../support/qmp-transcript.js';
import { type ServerProcess, startChardevd } from '../support/servers.js';

/**
 * The demux device with a real guest: QEMU's virtio-serial port connects
 * to the device's socket chardev, and a client in the guest opens several
 * channels by name over that one port, concurrently, to echo services on
 * the host, while the host opens a channel to a service in the guest.
 *
 * The guest is the busybox initramfs, where Node cannot run, so the guest
 * end is a small C client written from docs/demux-protocol.md
 * (test/support/demux-guest-client.c), compiled static here with gcc:
 * that also shows the document is enough to write the other end.
 */

const BOOT_TIMEOUT_MS = 90_000;
const RUN_TIMEOUT_MS = 60_000;
const CHANNEL_BYTES = 100_000;

/** The client, built static into a temporary directory; or why it cannot be. */
function buildClient(): { path: string } | { skip: string } {
  const dir = mkdtempSync(join(tmpdir(), 'chardevd-demuxc-'));
  const path = join(dir, 'demuxc');
  const result = spawnSync('gcc', ['-static', '-O2', '-o', path, join(repoRoot, 'test/support/demux-guest-client.c')], { encoding: 'utf8', timeout: 60_000 });
  if (result.error !== undefined) return { skip: 'gcc is not installed (apt-get install gcc libc6-dev)' };
  if (result.status !== 0) return { skip: `gcc -static failed (a static libc is needed: apt-get install libc6-dev): ${result.stderr.slice(0, 200)}` };
  after(() => rmSync(dir, { recursive: true, force: true }));
  return { path };
}

const guestReason = guestSkipReason();
const client = guestReason === undefined ? buildClient() : undefined;
const skip = guestReason ?? (client !== undefined && 'skip' in client ? client.skip : undefined);

suite('demux device with a real guest over virtio-serial', { skip }, () => {
  let chardevd: ServerProcess;
  let qmp: Connection;
  let guest: Guest | undefined;
  let consoleServer: Server;
  let console_: Socket | undefined;
  let text = '';
  const servers: Server[] = [];

  const consoleUntil = (pattern: RegExp, what: string, timeoutMs: number): Promise<void> =>
    waitFor(() => pattern.test(text), `${what} on the guest console (it ends ${JSON.stringify(text.slice(-200))})`, timeoutMs, 20);

  before(async () => {
    chardevd = await startChardevd((dir) => [
      '-chardev',
      `socket,id=vport,path=${join(dir, 'vport.sock')},server=on,wait=off`,
      '-device',
      'demux,id=dm0,chardev=vport',
      '-demux-service',
      `dm0,name=echo,connect=unix:${join(dir, 'echo.sock')}`,
      '-demux-service',
      `dm0,name=echo2,connect=unix:${join(dir, 'echo.sock')}`,
      '-demux-service',
      `dm0,name=gecho,listen=unix:${join(dir, 'gecho.sock')}`,
    ]);
    servers.push(await echoServer(join(chardevd.dir, 'echo.sock')));
    qmp = await Connection.open(chardevd.qmpPath);
    await qmp.execute('qmp_capabilities');
    // The console is the test's own socket, which QEMU connects to: nothing it prints is missed.
    consoleServer = createServer((socket) => {
      console_ = socket;
      socket.on('error', () => {});
      socket.setEncoding('latin1').on('data', (data: string) => (text += data));
    });
    const consolePath = join(chardevd.dir, 'console.sock');
    await new Promise<void>((resolve) => consoleServer.listen(consolePath, resolve));
    guest = bootGuest(
      chardevd.dir,
      `socket,id=serial0,path=${consolePath}`,
      [
        ...['-device', 'virtio-serial-pci'],
        ...['-chardev', `socket,id=dmx,path=${join(chardevd.dir, 'vport.sock')}`],
        ...['-device', 'virtserialport,chardev=dmx,name=org.chardevd.demux'],
      ],
      [{ name: 'demuxc', data: readFileSync((client as { path: string }).path) }],
    );
    await consoleUntil(new RegExp(GUEST_READY), 'the boot marker', BOOT_TIMEOUT_MS);
  });

  after(async () => {
    await guest?.stop();
    console_?.destroy();
    consoleServer?.close();
    for (const server of servers) server.close();
    await chardevd?.stop();
  });

  test('a guest client opens three channels by name over one virtio-serial port at once, an unknown name is refused, and the host opens one to the guest; every byte checked', async () => {
    const pid = chardevd.pid;
    const baseline = descriptorCount(pid);
    console_!.write(`demuxc $(ls /dev/vport*p* | head -n 1) ${CHANNEL_BYTES} 1 echo echo2 echo nope; echo "DEMUXC EXIT $?"\n`);
    // The guest's HELLO makes the session ready; then the host opens its channel.
    await waitFor(
      async () => ((await qmp.execute('query-demux'))['return'] as { state: string }[])[0]?.state === 'ready',
      'the demux session with the guest',
      RUN_TIMEOUT_MS,
      50,
    );
    const data = randomBytes(50_000);
    assert.deepEqual(await roundTrip(await connected(join(chardevd.dir, 'gecho.sock')), data), { sha: sha256(data), bytes: data.length });
    await consoleUntil(/DEMUXC EXIT \d+/, 'the client to finish', RUN_TIMEOUT_MS);
    const lines = text.split(/\r?\n/).filter((line) => line.startsWith('DEMUXC'));
    assert.deepEqual(lines.filter((line) => line.startsWith('DEMUXC CHANNEL')).sort(), [
      `DEMUXC CHANNEL echo OK ${CHANNEL_BYTES}`,
      `DEMUXC CHANNEL echo OK ${CHANNEL_BYTES}`,
      `DEMUXC CHANNEL echo2 OK ${CHANNEL_BYTES}`,
      'DEMUXC CHANNEL nope REFUSED 1',
    ]);
    assert.ok(lines.includes('DEMUXC SERVED gecho'));
    assert.ok(lines.includes('DEMUXC DONE 1'), 'one failure: the refused name');
    await waitFor(async () => ((await qmp.execute('query-demux-channels'))['return'] as unknown[]).length === 0, 'no channel left', 10_000, 50);
    await waitFor(() => descriptorCount(pid) <= baseline, `the daemon's descriptors back to ${baseline}`, 10_000, 50);
    const events = qmp.lines.filter((line) => line.includes('"DEMUX_CHANNEL_CLOSED"'));
    assert.equal(events.filter((line) => line.includes('"code": "OK"')).length, 4);
  });
});
