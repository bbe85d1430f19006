import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, suite, test } from 'node:test';
import { waitFor } from '../support/peer-process.js';
import { Connection } from '../support/qmp-transcript.js';
import { type ServerProcess, startChardevd } from '../support/servers.js';

/**
 * A hub with stall-timeout in the daemon, over real sockets: a source
 * writes as fast as the daemon takes it through a link into the hub; two
 * viewers read, one never does. The readers pace the source and get
 * every byte; the stalled viewer is cut loose and its losses are counted.
 */

const WAIT_MS = 60_000;
const TOTAL = 24 << 20;
const CHUNK = 64 << 10;

async function connected(path: string): Promise<Socket> {
  const socket = connect(path);
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return socket;
}

/** Hashes and counts what a viewer reads. */
function reader(socket: Socket): { readonly bytes: () => number; readonly digest: () => string } {
  const hash = createHash('sha256');
  let bytes = 0;
  socket.on('data', (data: Buffer) => {
    hash.update(data);
    bytes += data.length;
  });
  return { bytes: () => bytes, digest: () => hash.copy().digest('hex') };
}

interface MemberInfo {
  id: string;
  open: boolean;
  written: number;
  queued: number;
  dropped: number;
  'cut-loose'?: boolean;
}

async function hubInfo(qmp: Connection): Promise<{ 'stall-timeout'?: number; members: MemberInfo[] }> {
  const reply = (await qmp.execute('query-chardev'))['return'] as { label: string; hub?: { 'stall-timeout'?: number; members: MemberInfo[] } }[];
  return reply.find((entry) => entry.label === 'console0')!.hub!;
}

suite('hub with stall-timeout in the daemon: source -> link -> hub -> three socket viewers', () => {
  let daemon: ServerProcess;
  let qmp: Connection;

  before(async () => {
    daemon = await startChardevd((dir) => [
      '-chardev',
      `socket,id=guest0,path=${join(dir, 'guest0.sock')},server=on,wait=off`,
      ...['view0', 'view1', 'stuck0'].flatMap((id) => ['-chardev', `socket,id=${id},path=${join(dir, `${id}.sock`)},server=on,wait=off`]),
      '-chardev',
      'hub,id=console0,chardevs.0=view0,chardevs.1=view1,chardevs.2=stuck0,stall-timeout=300',
      '-device',
      'link,id=console0-link,chardev=guest0,peer=console0',
    ]);
    qmp = await Connection.negotiated(daemon.qmpPath);
  });

  after(async () => {
    qmp?.socket.destroy();
    await daemon?.stop();
  });

  test('the two reading viewers get every byte of an unpaced source; the viewer that never reads is cut loose and its losses show in query-chardev', async (t) => {
    const sockets = await Promise.all(['view0', 'view1', 'stuck0'].map((id) => connected(join(daemon.dir, `${id}.sock`))));
    t.after(() => {
      for (const socket of sockets) socket.destroy();
    });
    const [view0, view1, stuck] = sockets as [Socket, Socket, Socket];
    const readers = [reader(view0), reader(view1)];
    stuck.pause();
    await waitFor(async () => (await hubInfo(qmp)).members.every((member) => member.open), 'the viewers to open', WAIT_MS, 20);
    const guest = await connected(join(daemon.dir, 'guest0.sock'));
    t.after(() => guest.destroy());
    const source = randomBytes(TOTAL);
    // As fast as the daemon takes it: the source waits only when its socket says so.
    for (let sent = 0; sent < TOTAL; sent += CHUNK) {
      if (!guest.write(source.subarray(sent, sent + CHUNK))) await new Promise((resolve) => guest.once('drain', resolve));
    }
    await waitFor(() => readers.every((r) => r.bytes() >= TOTAL), 'both reading viewers to get everything', WAIT_MS, 10);
    const expected = createHash('sha256').update(source).digest('hex');
    for (const r of readers) {
      assert.equal(r.bytes(), TOTAL);
      assert.equal(r.digest(), expected);
    }
    const info = await hubInfo(qmp);
    assert.equal(info['stall-timeout'], 300);
    const byId = new Map(info.members.map((member) => [member.id, member]));
    for (const id of ['view0', 'view1']) {
      assert.deepEqual([byId.get(id)!.written, byId.get(id)!.dropped, byId.get(id)!['cut-loose']], [TOTAL, 0, false], id);
    }
    const stuckInfo = byId.get('stuck0')!;
    assert.ok(stuckInfo.dropped > 0, 'the stalled viewer lost bytes');
    assert.equal(stuckInfo['cut-loose'], true);
    assert.ok(stuckInfo.queued <= 1 << 20, 'within its queue');
    await qmp.until((lines) => lines.some((line) => line.includes('"HUB_MEMBER_DROPPED"') && line.includes('stuck0')), 'HUB_MEMBER_DROPPED');

    // Reading again, it gets everything it did not lose, and paces again.
    const late = reader(stuck);
    stuck.resume();
    await waitFor(
      async () => {
        const member = (await hubInfo(qmp)).members.find((m) => m.id === 'stuck0')!;
        return member['cut-loose'] === false && late.bytes() + member.dropped === TOTAL;
      },
      'the stalled viewer to catch up',
      WAIT_MS,
      50,
    );
  });

  test("a negative or non-number stall-timeout over QMP is refused in the QMP input visitor's words", async () => {
    for (const [value, text] of [
      // As QEMU's visit_type_uintN words it: the member's own name, not its path.
      [-1, "Parameter 'stall-timeout' expects uint32"],
      ['1000', "Invalid parameter type for 'backend.data.stall-timeout', expected: integer"],
    ] as const) {
      const reply = await qmp.execute('chardev-add', { id: 'h2', backend: { type: 'hub', data: { chardevs: ['x'], 'stall-timeout': value } } });
      assert.deepEqual(reply['error'], { class: 'GenericError', desc: text });
    }
  });
});
