import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, suite, test } from 'node:test';
import { QmpClient } from '../../src/client/qmp-client.js';
import { bootGuest, type Guest, GUEST_READY, guestSkipReason } from '../support/guest.js';
import { sameBytes } from '../support/same-bytes.js';
import { type ServerProcess, startChardevd } from '../support/servers.js';

const BOOT_TIMEOUT_MS = 60_000;
const FLOOD_TIMEOUT_MS = 60_000;
const CALL = { timeoutMs: 10_000 };
/**
 * Output the guest floods its console with while one client is stopped:
 * more than that client's 1 MiB queue and its socket buffers hold (a TCG
 * guest's serial port moves about 300 KB/s, so the buffers are kept small:
 * see the stopped client's socat options).
 */
const FLOOD_BYTES = 1_200_000;

/** Something that receives the console's bytes: a TCP client, or a program reading the pty. */
class Receiver {
  text = '';
  constructor(readonly name: string) {}
  add(data: Buffer): void {
    this.text += data.toString('latin1');
  }
  async until(pattern: RegExp, what: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.text)) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what} at ${this.name}; it has ${this.text.length} bytes ending ${JSON.stringify(this.text.slice(-200))}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

async function tcpClient(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.on('error', () => {});
  return socket;
}

/** The rotated log's files, oldest first (console.log.4 ... console.log.1, console.log), joined. */
function rotatedLog(dir: string): string {
  const backups = readdirSync(dir)
    .map((name) => /^console\.log\.(\d+)$/.exec(name))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => Number(match[1]))
    .sort((a, b) => b - a);
  return [...backups.map((n) => `console.log.${n}`), 'console.log'].map((name) => readFileSync(join(dir, name), 'latin1')).join('');
}

/** Waits, bounded, until the log file (written asynchronously) has caught up with `length` bytes. */
async function logReaches(dir: string, length: number): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const text = rotatedLog(dir);
    if (text.length >= length || Date.now() > deadline) return text;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The console setup users ask for, on a real guest: QEMU's serial port
 * connects to chardevd, a link joins it to a hub, and the hub's members
 * are a ringbuf, a rotated log, a pty and a TCP socket with three
 * clients, one of which never reads.
 */
suite('a real guest console shared through a hub', { skip: guestSkipReason() }, () => {
  let chardevd: ServerProcess;
  let qmp: QmpClient;
  let guest: Guest | undefined;
  let ptyReader: ChildProcess | undefined;
  let stalledViewer: ChildProcess | undefined;
  const sockets: Socket[] = [];
  const viewerA = new Receiver('viewer A');
  const viewerB = new Receiver('viewer B');
  const pty = new Receiver('the pty reader');

  before(async () => {
    chardevd = await startChardevd((dir) => [
      '-chardev',
      `socket,id=guest0,path=${join(dir, 'guest.sock')},server=on,wait=off`,
      '-chardev',
      'ringbuf,id=console-ring,size=1M',
      // A bounded log on disk, rotated as virtlogd rotates: a file chardev whose own output is
      // discarded, logging every byte (a null chardev would not do: it is never open, as in QEMU,
      // and a hub skips members that are not open).
      '-chardev',
      `file,id=console-log,path=/dev/null,logfile=${join(dir, 'console.log')},logsize=512K,logbackups=8`,
      '-chardev',
      'pty,id=console-pty',
      '-chardev',
      'socket,id=viewers,host=127.0.0.1,port=0,server=on,wait=off,clients=3',
      '-chardev',
      'hub,id=console0,chardevs.0=console-ring,chardevs.1=console-log,chardevs.2=console-pty,chardevs.3=viewers',
      '-device',
      'link,id=console-link,chardev=guest0,peer=console0',
    ]);
    qmp = await QmpClient.connect(chardevd.qmpPath, { connectTimeoutMs: 10_000 });
    const chardevs = await qmp.queryChardev(CALL);
    const port = Number(/:(\d+),server=on$/.exec(chardevs.find((c) => c.label === 'viewers')!.filename)![1]);
    const ptsPath = chardevs.find((c) => c.label === 'console-pty')!.filename.replace(/^pty:/, '');
    // Everyone is there before the guest starts, so everyone should see all of it.
    for (const receiver of [viewerA, viewerB]) {
      const socket = await tcpClient(port);
      socket.on('data', (data: Buffer) => receiver.add(data));
      sockets.push(socket);
    }
    // The third client is a socat that is SIGSTOPped once connected: a viewer whose terminal froze.
    // Its small receive buffer and segment size keep the kernel from absorbing much of what it will
    // not read (over loopback, Linux sizes a connection's send buffer from its segment size).
    stalledViewer = spawn('socat', ['-d', '-d', '-u', `TCP:127.0.0.1:${port},rcvbuf=4096,mss=536`, 'OPEN:/dev/null'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let socatLog = '';
    stalledViewer.stderr!.setEncoding('latin1').on('data', (text: string) => (socatLog += text));
    const connected = Date.now() + 10_000;
    while (!socatLog.includes('starting data transfer loop')) {
      assert.ok(Date.now() < connected, `the third client to connect; socat said ${socatLog}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    stalledViewer.kill('SIGSTOP');
    ptyReader = spawn('socat', ['-u', `OPEN:${ptsPath},raw,echo=0`, 'STDOUT'], { stdio: ['ignore', 'pipe', 'ignore'] });
    ptyReader.stdout!.on('data', (data: Buffer) => pty.add(data));
    const deadline = Date.now() + 10_000;
    while (!(await qmp.queryChardev(CALL)).some((c) => c.label === 'console-pty' && c['frontend-open'])) {
      assert.ok(Date.now() < deadline, 'the pty member to be attached');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    guest = bootGuest(chardevd.dir, `socket,id=serial0,path=${join(chardevd.dir, 'guest.sock')}`);
  });

  after(async () => {
    for (const socket of sockets) socket.destroy();
    qmp?.close();
    ptyReader?.kill();
    stalledViewer?.kill('SIGKILL');
    await guest?.stop();
    await chardevd?.stop();
  });

  test('the boot log arrives complete at both reading clients, the pty and the rotated log', async () => {
    const marker = new RegExp(GUEST_READY);
    for (const receiver of [viewerA, viewerB, pty]) await receiver.until(marker, 'the guest to come up', BOOT_TIMEOUT_MS);
    const boot = (text: string): string => text.slice(0, text.indexOf(GUEST_READY) + GUEST_READY.length);
    sameBytes(boot(viewerB.text), boot(viewerA.text), 'the boot log at viewer B');
    sameBytes(boot(pty.text), boot(viewerA.text), 'the boot log at the pty');
    sameBytes(boot(await logReaches(chardevd.dir, boot(viewerA.text).length)), boot(viewerA.text), 'the boot log in the rotated log');
  });

  test('a command typed by one client runs in the guest and its output reaches every member', async () => {
    sockets[0]!.write('echo guest-says-$((6*7))\n');
    for (const receiver of [viewerA, viewerB, pty]) await receiver.until(/guest-says-42/, 'the command output', 10_000);
  });

  test('a stopped client stalls neither the guest nor the other clients, the lossless members keep everything, and its losses are reported', async () => {
    sockets[1]!.write(`yes 0123456789abcdef | head -c ${FLOOD_BYTES}; echo FLOOD-$((1+1))-DONE\n`);
    await viewerA.until(/FLOOD-2-DONE/, 'the end of the flood', FLOOD_TIMEOUT_MS);
    await viewerB.until(/FLOOD-2-DONE/, 'the end of the flood', FLOOD_TIMEOUT_MS);
    await pty.until(/FLOOD-2-DONE/, 'the end of the flood', FLOOD_TIMEOUT_MS);
    // Let the prompt after it arrive too, then compare everything each member got.
    await viewerA.until(/FLOOD-2-DONE\r\n[^]*# (\x1b\[6n)?$/, 'the prompt after the flood', 10_000);
    await viewerB.until(/FLOOD-2-DONE\r\n[^]*# (\x1b\[6n)?$/, 'the prompt after the flood', 10_000);
    sameBytes(viewerB.text, viewerA.text, 'viewer B');
    assert.ok(viewerA.text.length > FLOOD_BYTES, `viewer A got ${viewerA.text.length} bytes`);
    sameBytes(await logReaches(chardevd.dir, viewerA.text.length), viewerA.text, 'the rotated log holds every byte');
    const ring = Buffer.from(await qmp.ringbufRead({ device: 'console-ring', size: 1 << 20, format: 'base64' }, CALL), 'base64').toString('latin1');
    sameBytes(ring, viewerA.text.slice(-(1 << 20)), 'the ringbuf holds the last 1 MiB');
    // The stopped client never held the hub back: its member neither queued nor dropped anything.
    const hub = (await qmp.queryChardev(CALL)).find((c) => c.label === 'console0')!.hub!;
    const member = hub.members.find((m) => m.id === 'viewers')!;
    assert.equal(member.dropped, 0);
    assert.equal(member.queued, 0);
    assert.equal(member.written, viewerA.text.length);
    const viewers = (await qmp.queryChardev(CALL)).find((c) => c.label === 'viewers')!;
    // What the stopped client could not take beyond its queue is counted, not held against the others.
    assert.ok((viewers['output-dropped'] ?? 0) > 0, `the stopped client's losses are reported: ${JSON.stringify(viewers)}`);
  });
});
