import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, suite, test } from 'node:test';
import { waitFor } from '../support/peer-process.js';
import { Connection } from '../support/qmp-transcript.js';
import { type ServerProcess, startChardevd } from '../support/servers.js';

/**
 * The hub in the daemon, end to end: a guest socket linked to a hub made
 * on the command line, viewers on socket members, one of them a client
 * that never reads, and QMP showing the drops (query-chardev and
 * HUB_MEMBER_DROPPED) and changing the members at run time.
 */

const WAIT_MS = 20_000;
const TOTAL = 8 << 20;
const CHUNK = 64 << 10;

async function connected(path: string): Promise<Socket> {
  const socket = connect(path);
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return socket;
}

const until = (done: () => boolean, what: string): Promise<void> => waitFor(done, what, WAIT_MS, 5);

interface MemberInfo {
  id: string;
  open: boolean;
  lossless: boolean;
  written: number;
  queued: number;
  dropped: number;
}

async function members(qmp: Connection): Promise<MemberInfo[]> {
  const reply = (await qmp.execute('query-chardev'))['return'] as { label: string; hub?: { members: MemberInfo[] } }[];
  return reply.find((entry) => entry.label === 'console0')!.hub!.members;
}

suite('hub in the daemon: socket -> link -> hub -> viewers', () => {
  let daemon: ServerProcess;
  let qmp: Connection;

  before(async () => {
    daemon = await startChardevd((dir) => [
      '-chardev',
      `socket,id=guest0,path=${join(dir, 'guest0.sock')},server=on,wait=off`,
      '-chardev',
      `ringbuf,id=log0,size=${TOTAL}`,
      '-chardev',
      `socket,id=view0,path=${join(dir, 'view0.sock')},server=on,wait=off`,
      '-chardev',
      `socket,id=stuck0,path=${join(dir, 'stuck0.sock')},server=on,wait=off`,
      '-chardev',
      'hub,id=console0,chardevs.0=log0,chardevs.1=view0,chardevs.2=stuck0,queue-size=128k',
      '-device',
      'link,id=console0-link,chardev=guest0,peer=console0',
    ]);
    qmp = await Connection.negotiated(daemon.qmpPath);
  });

  after(async () => {
    qmp?.socket.destroy();
    await daemon?.stop();
  });

  test('a viewer that never reads loses its oldest output, reported by query-chardev and HUB_MEMBER_DROPPED, while the log and a reading viewer get every byte and typing reaches the guest', async (t) => {
    const viewer = await connected(join(daemon.dir, 'view0.sock'));
    t.after(() => viewer.destroy());
    let viewerBytes = 0;
    const viewerHash = createHash('sha256');
    viewer.on('data', (data: Buffer) => {
      viewerBytes += data.length;
      viewerHash.update(data);
    });
    const stuck = await connected(join(daemon.dir, 'stuck0.sock'));
    t.after(() => stuck.destroy());
    stuck.pause();
    const deadline = Date.now() + WAIT_MS;
    while (!(await members(qmp)).every((member) => member.open)) {
      if (Date.now() > deadline) throw new Error('members did not open');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const guest = await connected(join(daemon.dir, 'guest0.sock'));
    // Released even when an assertion fails, so that the next test can connect as the guest.
    t.after(() => guest.destroy());
    const guestInput: Buffer[] = [];
    guest.on('data', (data: Buffer) => guestInput.push(data));
    const source = randomBytes(TOTAL);
    for (let sent = 0; sent < TOTAL; sent += CHUNK) {
      guest.write(source.subarray(sent, sent + CHUNK));
      // The guest is slower than the reading viewer, never than the stuck one.
      await until(() => viewerBytes === sent + CHUNK, 'the reading viewer');
    }
    assert.equal(viewerHash.digest('hex'), createHash('sha256').update(source).digest('hex'));
    const log = (await qmp.execute('ringbuf-read', { device: 'log0', size: TOTAL, format: 'base64' }))['return'] as string;
    assert.equal(createHash('sha256').update(Buffer.from(log, 'base64')).digest('hex'), createHash('sha256').update(source).digest('hex'));

    const info = await members(qmp);
    const byId = new Map(info.map((member) => [member.id, member]));
    assert.equal(byId.get('log0')!.lossless, true);
    assert.deepEqual([byId.get('log0')!.dropped, byId.get('view0')!.dropped], [0, 0]);
    assert.ok(byId.get('stuck0')!.dropped > 0);
    assert.ok(byId.get('stuck0')!.queued <= 128 << 10);
    await qmp.until((lines) => lines.some((line) => line.includes('"HUB_MEMBER_DROPPED"')), 'HUB_MEMBER_DROPPED');
    const event = JSON.parse(qmp.lines.find((line) => line.includes('"HUB_MEMBER_DROPPED"'))!) as { data: Record<string, unknown> };
    assert.equal(event.data['hub'], 'console0');
    assert.equal(event.data['member'], 'stuck0');
    assert.ok((event.data['dropped'] as number) > 0);

    viewer.write('typed by a viewer\n');
    await until(() => Buffer.concat(guestInput).toString() === 'typed by a viewer\n', "the viewer's input at the guest");
    // Other chardevs' entries stay QEMU's three members.
    const all = (await qmp.execute('query-chardev'))['return'] as Record<string, unknown>[];
    assert.deepEqual(Object.keys(all.find((entry) => entry['label'] === 'guest0')!).sort(), ['filename', 'frontend-open', 'label']);
  });

  test('a viewer added at run time gets a replay, then the live output; removed, it is free again', async () => {
    const path = join(daemon.dir, 'late.sock');
    assert.deepEqual(
      (await qmp.execute('chardev-add', { id: 'late', backend: { type: 'socket', data: { addr: { type: 'unix', data: { path } }, server: true, wait: false } } }))[
        'return'
      ],
      {},
    );
    assert.deepEqual((await qmp.execute('hub-add-member', { hub: 'console0', member: 'late', replay: 6 }))['return'], {});
    assert.deepEqual((await qmp.execute('chardev-remove', { id: 'late' }))['error'], { class: 'GenericError', desc: "Chardev 'late' is busy" });
    assert.deepEqual((await qmp.execute('hub-add-member', { hub: 'console0', member: 'nope' }))['error'], {
      class: 'GenericError',
      desc: "hub: chardev can't be found by id 'nope'",
    });
    const guest = await connected(join(daemon.dir, 'guest0.sock'));
    guest.write('line one\nline two\n');
    // The replay is cut from what the hub has seen when the viewer connects: wait until it has the lines.
    const deadline = Date.now() + WAIT_MS;
    while (((await members(qmp)).find((m) => m.id === 'log0')?.written ?? 0) < TOTAL + 18) {
      if (Date.now() > deadline) throw new Error('the hub did not see the guest output');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const late = await connected(path);
    const received: Buffer[] = [];
    late.on('data', (data: Buffer) => received.push(data));
    await until(() => Buffer.concat(received).toString() === 'e two\n', 'the replay');
    guest.write('live\n');
    await until(() => Buffer.concat(received).toString() === 'e two\nlive\n', 'the live output');
    assert.deepEqual((await qmp.execute('hub-remove-member', { hub: 'console0', member: 'late' }))['return'], {});
    assert.deepEqual((await qmp.execute('chardev-remove', { id: 'late' }))['return'], {});
    late.destroy();
    guest.destroy();
  });
});
