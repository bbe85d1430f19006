import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, suite, test } from 'node:test';
import { SINK_RETRY_MAX_MS, SINK_STALL_LIMIT_MS } from '../../src/chardev/sink-output.js';
import { waitFor } from '../support/peer-process.js';
import { Connection } from '../support/qmp-transcript.js';
import { type ServerProcess, startChardevd } from '../support/servers.js';

/**
 * A file chardev behind a link, on a filesystem that runs full: a small
 * tmpfs (256 KiB) nearly filled by another file. The file stalls and
 * paces the guest, then drops what comes, counted; once space is freed
 * it writes again, and the file holds every byte but the ones counted
 * as lost, in order.
 */

const WAIT_MS = SINK_STALL_LIMIT_MS + SINK_RETRY_MAX_MS + 20_000;
const FS_SIZE = 256 << 10;
/** Room left on the filesystem once the filler is written. */
const ROOM = 64 << 10;

const mountDir = fs.mkdtempSync(join(tmpdir(), 'chardevd-full-'));

/** Mounts the tmpfs; the reason it cannot, or undefined. */
function mountSkipReason(): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${FS_SIZE}`, 'tmpfs', mountDir], { stdio: 'pipe' });
    return undefined;
  } catch (error: unknown) {
    fs.rmSync(mountDir, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return `cannot mount a tmpfs to fill (needs root or CAP_SYS_ADMIN): ${stderr || (error as Error).message}`;
  }
}

const skip = mountSkipReason();

interface SinkInfo {
  state: string;
  error?: string;
  pending: number;
  lost: number;
}

interface LinkInfo {
  'chardev-to-peer': number;
  'chardev-to-peer-lost'?: number;
}

suite('a file chardev on a full disk', { skip }, () => {
  let daemon: ServerProcess;
  let qmp: Connection;
  const out = join(mountDir, 'console.log');
  const filler = join(mountDir, 'filler');

  before(async () => {
    daemon = await startChardevd((dir) => [
      '-chardev',
      `socket,id=guest0,path=${join(dir, 'guest0.sock')},server=on,wait=off`,
      '-chardev',
      `file,id=log0,path=${out}`,
      '-device',
      'link,id=l0,chardev=guest0,peer=log0',
    ]);
    qmp = await Connection.negotiated(daemon.qmpPath);
  });

  after(async () => {
    qmp?.socket.destroy();
    await daemon?.stop();
    execFileSync('umount', [mountDir]);
    fs.rmSync(mountDir, { recursive: true, force: true });
  });

  const execute = async (command: string, args: object = {}): Promise<unknown> => (await qmp.execute(command, args))['return'];

  /** The data of every CHARDEV_SINK_CHANGE so far. */
  const sinkEvents = (): (SinkInfo & { id: string })[] =>
    qmp.lines.filter((line) => line.includes('"CHARDEV_SINK_CHANGE"')).map((line) => (JSON.parse(line) as { data: SinkInfo & { id: string } }).data);

  async function chardev(label: string): Promise<Record<string, unknown>> {
    const all = (await execute('query-chardev')) as Record<string, unknown>[];
    return all.find((entry) => entry['label'] === label)!;
  }

  async function linkInfo(): Promise<LinkInfo> {
    return ((await execute('query-links')) as LinkInfo[])[0]!;
  }

  test('stalls and paces the guest, then drops and counts; after space is freed it writes again, and the file lacks only the bytes counted as lost', async () => {
    fs.writeFileSync(filler, Buffer.alloc(FS_SIZE - ROOM));
    const guest: Socket = connect(join(daemon.dir, 'guest0.sock'));
    guest.on('error', () => {});
    await new Promise<void>((resolve, reject) => guest.once('connect', resolve).once('error', reject));
    const before = randomBytes(1 << 20);
    guest.write(before);

    // Full: the file holds what it could not write and the link stops reading the guest.
    await waitFor(() => sinkEvents().length > 0, 'CHARDEV_SINK_CHANGE', WAIT_MS, 20);
    const error = 'No space left on device';
    assert.deepEqual({ ...sinkEvents()[0], pending: 0 }, { id: 'log0', state: 'stalled', error, pending: 0, lost: 0 });
    const stalled = (await chardev('log0'))['sink'] as SinkInfo;
    assert.equal(stalled.state, 'stalled');
    assert.equal(stalled.error, error);
    assert.ok(stalled.pending > 0, 'the file holds what it could not write');
    assert.equal(stalled.lost, 0);
    assert.deepEqual(Object.keys(await chardev('guest0')).sort(), ['filename', 'frontend-open', 'label'], "other entries stay QEMU's");
    const held = await linkInfo();
    assert.equal(held['chardev-to-peer'], fs.statSync(out).size + stalled.pending, 'moved = written + held, nothing more');
    assert.equal(held['chardev-to-peer-lost'], undefined);

    // Still full after the stall limit: new output is dropped, counted, and the guest goes on.
    await waitFor(() => sinkEvents().some((event) => event.state === 'dropping'), 'the dropping state', WAIT_MS, 50);
    await waitFor(
      async () => {
        const link = await linkInfo();
        return link['chardev-to-peer'] + (link['chardev-to-peer-lost'] ?? 0) === before.length;
      },
      'the link to read everything the guest sent',
      WAIT_MS,
      50,
    );
    const dropping = (await chardev('log0'))['sink'] as SinkInfo;
    assert.equal(dropping.state, 'dropping');
    assert.ok(dropping.lost > 0);
    const counted = await linkInfo();
    assert.equal(counted['chardev-to-peer-lost'], dropping.lost);
    assert.equal(counted['chardev-to-peer'], fs.statSync(out).size + dropping.pending);

    // Space again: the next retry writes what was held, and new output follows it.
    fs.rmSync(filler);
    await waitFor(() => sinkEvents().at(-1)?.state === 'ok', 'the sink to write again', WAIT_MS, 20);
    const recovered = sinkEvents().at(-1)!;
    assert.deepEqual({ ...recovered }, { id: 'log0', state: 'ok', error, pending: 0, lost: dropping.lost });
    const afterwards = randomBytes(16 << 10);
    guest.write(afterwards);
    const sent = Buffer.concat([before, afterwards]);
    await waitFor(() => fs.statSync(out).size === sent.length - dropping.lost, 'the file to hold everything not lost', WAIT_MS, 20);
    const written = fs.readFileSync(out);
    let gap = 0;
    while (gap < written.length && written[gap] === sent[gap]) gap++;
    assert.ok(written.subarray(gap).equals(sent.subarray(gap + dropping.lost)), 'the file is what was sent, less one run of exactly the lost bytes');
    assert.deepEqual((await chardev('log0'))['sink'], { state: 'ok', error, pending: 0, lost: dropping.lost });
    const final = await linkInfo();
    assert.equal(final['chardev-to-peer'], written.length);
    assert.equal(final['chardev-to-peer-lost'], dropping.lost);
    guest.destroy();
  });
});
