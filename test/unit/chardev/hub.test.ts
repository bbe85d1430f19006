import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, suite, test } from 'node:test';
import type { Chardev } from '../../../src/chardev/chardev.js';
import { HUB_MEMBER_LIMIT, HubChardev } from '../../../src/chardev/hub.js';
import { parseChardevOption } from '../../../src/chardev/options.js';
import { ChardevRegistry } from '../../../src/chardev/registry.js';
import type { RingbufChardev } from '../../../src/chardev/ringbuf.js';
import type { QmpEvents } from '../../../src/generated/qapi-events.gen.js';
import type { ChardevBackend, ChardevHub, ChardevInfo } from '../../../src/generated/qapi-types.gen.js';
import { charHandlers } from '../../../src/commands/char.js';
import type { QmpContext } from '../../../src/commands/context.js';
import { parseDeviceOption } from '../../../src/device/device-option.js';
import type { LinkDevice } from '../../../src/device/link.js';
import { DeviceRegistry } from '../../../src/device/registry.js';
import { checkConsoleAttach } from '../../../src/monitor/hmp/console.js';
import { waitFor } from '../../support/peer-process.js';
import { sameBytes } from '../../support/same-bytes.js';
import { TestFrontend } from '../../support/test-frontend.js';

const dir = mkdtempSync(join(tmpdir(), 'chardevd-hub-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const WAIT_MS = 10_000;
let socketCount = 0;

interface Setup {
  readonly chardevs: ChardevRegistry;
  readonly events: { name: string; data: QmpEvents['HUB_MEMBER_DROPPED'] }[];
  /** The real query-chardev and hub commands, run against this registry. */
  readonly qmp: QmpContext;
}

function setup(): Setup {
  const events: Setup['events'] = [];
  const chardevs = new ChardevRegistry({
    log: () => {},
    events: {
      emit(name, data) {
        if (name === 'HUB_MEMBER_DROPPED') events.push({ name, data: data as QmpEvents['HUB_MEMBER_DROPPED'] });
      },
    },
  });
  return { chardevs, events, qmp: { daemon: { chardevs } } as unknown as QmpContext };
}

const ringbuf = (size = 1 << 16): ChardevBackend => ({ type: 'ringbuf', data: { size } });
const hub = (chardevs: string[], extra: Partial<ChardevHub> = {}): ChardevBackend => ({ type: 'hub', data: { chardevs, ...extra } });

async function unixServer(chardevs: ChardevRegistry, id: string): Promise<{ chardev: Chardev; path: string }> {
  const path = join(dir, `${socketCount++}.sock`);
  const chardev = await chardevs.add(id, { type: 'socket', data: { addr: { type: 'unix', data: { path } }, server: true, wait: false } });
  return { chardev, path };
}

/** A client of a socket chardev that counts (and hashes) what it reads; `pause()` makes it stop reading. */
class Client {
  readonly socket: net.Socket;
  received = 0;
  readonly #hash = createHash('sha256');
  readonly chunks: Buffer[] = [];

  constructor(path: string, keep = false) {
    this.socket = net.connect(path);
    this.socket.on('error', () => {});
    this.socket.on('data', (chunk: Buffer) => {
      this.received += chunk.length;
      this.#hash.update(chunk);
      if (keep) this.chunks.push(chunk);
    });
  }

  digest(): string {
    return this.#hash.copy().digest('hex');
  }

  close(): void {
    this.socket.destroy();
  }
}

const until = (done: () => boolean, what: string): Promise<void> => waitFor(done, what, WAIT_MS, 2);

function query(setup: Setup, id: string): ChardevInfo {
  const all = charHandlers['query-chardev'](undefined, setup.qmp) as ChardevInfo[];
  const info = all.find((entry) => entry.label === id);
  assert.ok(info !== undefined, `${id} in query-chardev`);
  return info;
}

function ringText(chardev: Chardev): string {
  const ring = (chardev as RingbufChardev).ring;
  return Buffer.from(ring.read(ring.unread)).toString('latin1');
}

suite('hub chardev: QEMU 10 rules (test-char.c char_hub_test)', () => {
  test("a hub without members, with an unknown member, with a hub as member or with a member in use is refused with QEMU's texts", async () => {
    const { chardevs } = setup();
    await assert.rejects(chardevs.add('h', hub([])), { message: "Failed to add chardev 'h': hub: 'chardevs' list is not defined" });
    await assert.rejects(chardevs.add('h', hub(['nope'])), { message: "Failed to add chardev 'h': hub: chardev can't be found by id 'nope'" });
    await chardevs.add('a', ringbuf());
    await chardevs.add('b', ringbuf());
    await chardevs.add('h0', hub(['a']));
    await assert.rejects(chardevs.add('h', hub(['b', 'h0'])), {
      message:
        "Failed to add chardev 'h': hub: multiplexers and hub devices can't be stacked, check chardev 'h0', chardev should not be a hub device or have 'mux=on' enabled",
    });
    await assert.rejects(chardevs.add('h', hub(['b', 'a'])), { message: "Failed to add chardev 'h': chardev 'a' is already in use" });
    // The failed hub let go of 'b', which it had taken before failing.
    assert.equal(chardevs.get('b')!.busy, false);
    assert.equal(chardevs.get('h'), undefined);
    // A member listed twice is in use by the time it comes again.
    await assert.rejects(chardevs.add('h', hub(['b', 'b'])), { message: "Failed to add chardev 'h': chardev 'b' is already in use" });
    await chardevs.closeAll();
  });

  test('stall-timeout out of range, or with backpressure, is refused; query-chardev shows it and who is cut loose', async () => {
    const state = setup();
    const { chardevs } = state;
    await chardevs.add('a', ringbuf());
    await chardevs.add('v', { type: 'null', data: {} });
    await assert.rejects(chardevs.add('h', hub(['a'], { 'stall-timeout': 0 })), {
      message: "Failed to add chardev 'h': hub: 'stall-timeout' must be between 1 and 2147483647",
    });
    await assert.rejects(chardevs.add('h', hub(['a'], { 'stall-timeout': 2 ** 31 })), {
      message: "Failed to add chardev 'h': hub: 'stall-timeout' must be between 1 and 2147483647",
    });
    await assert.rejects(chardevs.add('h', hub(['a'], { 'stall-timeout': 10, backpressure: true })), {
      message: "Failed to add chardev 'h': hub: 'backpressure' and 'stall-timeout' are mutually exclusive",
    });
    assert.equal(chardevs.get('a')!.busy, false);
    await chardevs.add('h', hub(['a', 'v'], { 'stall-timeout': 250 }));
    const info = query(state, 'h').hub!;
    assert.equal(info['stall-timeout'], 250);
    assert.deepEqual(
      info.members.map((m) => [m.id, m['cut-loose']]),
      [
        ['a', false],
        ['v', false],
      ],
    );
    await chardevs.closeAll();
  });

  test('-chardev hub reads chardevs.N up to the first gap, and one without any has no list', () => {
    assert.deepEqual(parseChardevOption('hub,id=h,chardevs.0=a,chardevs.1=b').backend, { type: 'hub', data: { logappend: false, chardevs: ['a', 'b'] } });
    assert.deepEqual(parseChardevOption('hub,id=h').backend, { type: 'hub', data: { logappend: false, chardevs: [] } });
    assert.throws(() => parseChardevOption(`hub,id=h,chardevs.${HUB_MEMBER_LIMIT}=a`), { message: `Invalid parameter 'chardevs.${HUB_MEMBER_LIMIT}'` });
  });

  test(`more than four members are fine; beyond ${HUB_MEMBER_LIMIT} the hub says so in QEMU's words`, async () => {
    const { chardevs } = setup();
    const ids: string[] = [];
    for (let i = 0; i <= HUB_MEMBER_LIMIT; i++) {
      ids.push(`n${i}`);
      await chardevs.add(`n${i}`, { type: 'null', data: {} });
    }
    await assert.rejects(chardevs.add('h', hub(ids)), { message: `Failed to add chardev 'h': hub: too many uses of chardevs 'h' (maximum is ${HUB_MEMBER_LIMIT})` });
    const full = (await chardevs.add('h', hub(ids.slice(0, HUB_MEMBER_LIMIT)))) as HubChardev;
    assert.equal(full.members.length, HUB_MEMBER_LIMIT);
    await chardevs.closeAll();
  });

  test('a hub made without members (withoutMembers) takes them at run time, and is closed when no longer needed', async () => {
    const { chardevs } = setup();
    const a = await chardevs.add('chr1', ringbuf());
    const h = HubChardev.withoutMembers('made0', { log: () => {} });
    assert.deepEqual(h.members, []);
    h.join(a);
    assert.equal(h.write(Buffer.from('joined')), true);
    assert.equal(ringText(a), 'joined');
    h.leave(a);
    await h.close();
    // The member is free again.
    await chardevs.remove('chr1');
  });

  test('two ringbufs: output goes to both, a second frontend is refused, members and hub are busy, ordered teardown works', async () => {
    const { chardevs } = setup();
    const a = await chardevs.add('chr1', ringbuf());
    const b = await chardevs.add('chr2', ringbuf());
    const h = await chardevs.add('hub0', hub(['chr1', 'chr2']));
    const frontend = new TestFrontend();
    h.attach(frontend);
    assert.throws(() => h.attach(new TestFrontend()), { message: "chardev 'hub0' is already in use" });
    // The ringbufs are open, so the frontend hears opened once.
    assert.deepEqual(frontend.events, ['opened']);
    assert.equal(h.write(Buffer.from('hello')), true);
    assert.equal(ringText(a), 'hello');
    assert.equal(ringText(b), 'hello');
    await assert.rejects(chardevs.remove('chr1'), { message: "Chardev 'chr1' is busy" });
    await assert.rejects(chardevs.remove('hub0'), { message: "Chardev 'hub0' is busy" });
    await assert.rejects(chardevs.change('hub0', ringbuf()), { message: 'For mux or hub device hotswap is not supported yet' });
    await assert.rejects(chardevs.change('chr1', ringbuf()), { message: 'Chardev user does not support chardev hotswap' });
    h.detach(frontend);
    await chardevs.remove('hub0');
    await chardevs.remove('chr1');
    await chardevs.remove('chr2');
    assert.deepEqual(chardevs.list(), []);
  });

  test("a member is in use for a link and a console too, and a link can be the hub's frontend", async () => {
    const { chardevs } = setup();
    const devices = new DeviceRegistry(chardevs);
    await chardevs.add('a', ringbuf());
    await chardevs.add('b', ringbuf());
    await chardevs.add('free', ringbuf());
    await chardevs.add('h', hub(['a']));
    assert.throws(() => devices.add(parseDeviceOption('link,chardev=free,peer=a')), { message: "Property 'link.peer' can't take value 'a': Device 'a' is in use" });
    assert.throws(() => checkConsoleAttach(chardevs.get('a')!), { message: "Chardev 'a' is in use by the hub 'h'" });
    const device = devices.add(parseDeviceOption('link,id=l0,chardev=b,peer=h')) as LinkDevice;
    assert.throws(() => devices.add(parseDeviceOption('link,chardev=free,peer=h')), { message: "Property 'link.peer' can't take value 'h': Device 'h' is in use" });
    devices.remove('l0');
    assert.equal(device.peer.busy, false);
    await chardevs.closeAll();
  });

  test("input from every member reaches the frontend, and the frontend's room paces all of them", async () => {
    const { chardevs } = setup();
    const s1 = await unixServer(chardevs, 's1');
    const s2 = await unixServer(chardevs, 's2');
    const h = await chardevs.add('h', hub(['s1', 's2']));
    const frontend = new TestFrontend();
    h.attach(frontend);
    const c1 = new Client(s1.path);
    const c2 = new Client(s2.path);
    await until(() => s1.chardev.isOpen && s2.chardev.isOpen, 'both clients');
    c1.socket.write('one;');
    await frontend.until(() => frontend.text === 'one;', 'input of the first member');
    c2.socket.write('two;');
    await frontend.until(() => frontend.text === 'one;two;', 'input of the second member');
    // A frontend with no room takes nothing; what the members send waits and comes once it has room.
    frontend.capacity = 0;
    c1.socket.write('three;');
    c2.socket.write('four;');
    await until(() => c1.socket.writableLength === 0 && c2.socket.writableLength === 0, 'the clients to send');
    assert.equal(frontend.text, 'one;two;');
    frontend.capacity = 1 << 20;
    h.acceptInput();
    await frontend.until(() => frontend.text.length === 'one;two;three;four;'.length, 'the held input');
    assert.match(frontend.text, /^one;two;(three;four;|four;three;)$/);
    c1.close();
    c2.close();
    h.detach(frontend);
    await chardevs.closeAll();
  });

  test('the frontend hears opened when the first member opens and closed only when the last one closes', async () => {
    const { chardevs } = setup();
    const s1 = await unixServer(chardevs, 's1');
    const s2 = await unixServer(chardevs, 's2');
    const h = await chardevs.add('h', hub(['s1', 's2']));
    const frontend = new TestFrontend();
    h.attach(frontend);
    assert.deepEqual(frontend.events, []);
    const c1 = new Client(s1.path);
    await frontend.until(() => frontend.events.length === 1, 'opened');
    const c2 = new Client(s2.path);
    await until(() => s2.chardev.isOpen, 'the second client');
    c1.close();
    await until(() => !s1.chardev.isOpen, 'the first client to leave');
    assert.deepEqual(frontend.events, ['opened']);
    c2.close();
    await frontend.until(() => frontend.events.length === 2, 'closed');
    assert.deepEqual(frontend.events, ['opened', 'closed']);
    h.detach(frontend);
    await chardevs.closeAll();
  });

  test('ringbuf + ringbuf + pipe with backpressure=on: the full pipe holds the frontend back, and once it drains every member has every byte exactly once', async () => {
    const { chardevs } = setup();
    const fifo = join(dir, `p${socketCount++}`);
    execFileSync('mkfifo', [`${fifo}.in`, `${fifo}.out`]);
    const r1 = await chardevs.add('r1', ringbuf(1 << 20));
    const r2 = await chardevs.add('r2', ringbuf(1 << 20));
    await chardevs.add('p', { type: 'pipe', data: { device: fifo } });
    const h = await chardevs.add('h', hub(['r1', 'r2', 'p'], { backpressure: true }));
    const frontend = new TestFrontend();
    h.attach(frontend);
    // Fill until the hub asks to wait (QEMU's test fills until EAGAIN).
    const written: Buffer[] = [];
    for (let i = 0; ; i++) {
      const chunk = Buffer.from(`chunk${String(i).padStart(6, '0')};`.repeat(64));
      written.push(chunk);
      if (!h.write(chunk)) break;
      assert.ok(i < 10_000, 'the unread pipe never made the hub wait');
    }
    // Now read the pipe; once it drains the frontend may go on.
    const fd = openSync(`${fifo}.out`, constants.O_RDONLY | constants.O_NONBLOCK);
    const reader = new net.Socket({ fd, readable: true, writable: false });
    const piped: Buffer[] = [];
    let pipedBytes = 0;
    reader.on('data', (data: Buffer) => {
      piped.push(data);
      pipedBytes += data.length;
    });
    await frontend.until(() => frontend.drains > 0, 'drain');
    const last = Buffer.from('streamisrestored');
    written.push(last);
    h.write(last);
    const all = Buffer.concat(written);
    await until(() => pipedBytes >= all.length, 'the pipe to deliver everything');
    sameBytes(Buffer.concat(piped), all, 'the pipe');
    sameBytes(ringText(r1), all, 'ringbuf r1');
    sameBytes(ringText(r2), all, 'ringbuf r2');
    reader.destroy();
    h.detach(frontend);
    await chardevs.closeAll();
    rmSync(`${fifo}.in`);
    rmSync(`${fifo}.out`);
  });

  test('output skips a closed member, which then starts from the current position', async () => {
    const { chardevs } = setup();
    const s = await unixServer(chardevs, 's');
    const rb = await chardevs.add('rb', ringbuf());
    const h = await chardevs.add('h', hub(['rb', 's']));
    h.write(Buffer.from('before;'));
    const client = new Client(s.path, true);
    await until(() => s.chardev.isOpen, 'the client');
    h.write(Buffer.from('after;'));
    await until(() => client.received === 6, 'the output after the client came');
    assert.equal(Buffer.concat(client.chunks).toString(), 'after;');
    assert.equal(ringText(rb), 'before;after;');
    client.close();
    await chardevs.closeAll();
  });
});

suite('hub chardev: members join and leave at run time', () => {
  test('hub-add-member adds a member that gets the output from then on; hub-remove-member frees it', async () => {
    const setupState = setup();
    const { chardevs, qmp } = setupState;
    const a = await chardevs.add('a', ringbuf());
    const b = await chardevs.add('b', ringbuf());
    const h = await chardevs.add('h', hub(['a']));
    h.write(Buffer.from('1;'));
    assert.deepEqual(await charHandlers['hub-add-member']({ hub: 'h', member: 'b' }, qmp), {});
    h.write(Buffer.from('2;'));
    assert.equal(ringText(a), '1;2;');
    assert.equal(ringText(b), '2;');
    assert.deepEqual(
      query(setupState, 'h').hub?.members.map((m) => m.id),
      ['a', 'b'],
    );
    await assert.rejects(chardevs.remove('b'), { message: "Chardev 'b' is busy" });
    assert.deepEqual(await charHandlers['hub-remove-member']({ hub: 'h', member: 'b' }, qmp), {});
    h.write(Buffer.from('3;'));
    assert.equal(ringText(b), '');
    await chardevs.remove('b');
    assert.equal(ringText(a), '3;');
    await chardevs.closeAll();
  });

  test('joining and leaving are checked as hub creation is, with the same texts', async () => {
    const { chardevs, qmp } = setup();
    await chardevs.add('a', ringbuf());
    await chardevs.add('b', ringbuf());
    await chardevs.add('h', hub(['a']));
    await chardevs.add('h2', hub(['b']));
    await chardevs.add('c', ringbuf());
    const add = (hubId: string, member: string): unknown => charHandlers['hub-add-member']({ hub: hubId, member }, qmp);
    const remove = (hubId: string, member: string): unknown => charHandlers['hub-remove-member']({ hub: hubId, member }, qmp);
    assert.throws(() => add('nope', 'c'), { message: "Chardev 'nope' not found" });
    assert.throws(() => add('c', 'a'), { message: "Chardev 'c' is not a hub" });
    assert.throws(() => add('h', 'nope'), { message: "hub: chardev can't be found by id 'nope'" });
    assert.throws(() => add('h', 'b'), { message: "chardev 'b' is already in use" });
    assert.throws(() => add('h', 'h2'), { message: /^hub: multiplexers and hub devices can't be stacked, check chardev 'h2'/ });
    assert.throws(() => remove('h', 'c'), { message: "Chardev 'c' is not a member of hub 'h'" });
    await chardevs.closeAll();
  });

  test('when the last open member leaves, the frontend hears closed', async () => {
    const { chardevs, qmp } = setup();
    await chardevs.add('a', ringbuf());
    const h = await chardevs.add('h', hub(['a']));
    const frontend = new TestFrontend();
    h.attach(frontend);
    await charHandlers['hub-remove-member']({ hub: 'h', member: 'a' }, qmp);
    assert.deepEqual(frontend.events, ['opened', 'closed']);
    await charHandlers['hub-add-member']({ hub: 'h', member: 'a' }, qmp);
    assert.deepEqual(frontend.events, ['opened', 'closed', 'opened']);
    h.detach(frontend);
    await chardevs.closeAll();
  });

  test('a joining member can ask for the most recent output first; the replay comes when it opens', async () => {
    const { chardevs, qmp } = setup();
    await chardevs.add('a', ringbuf());
    const h = await chardevs.add('h', hub(['a'], { history: 64 }));
    for (let i = 0; i < 20; i++) h.write(Buffer.from(`line${String(i).padStart(2, '0')}\n`));
    const late = await chardevs.add('late', ringbuf());
    await charHandlers['hub-add-member']({ hub: 'h', member: 'late', replay: 14 }, qmp);
    h.write(Buffer.from('live\n'));
    assert.equal(ringText(late), 'line18\nline19\nlive\n');
    // Replay is bounded by the history: asking for more gives what is kept.
    const greedy = await chardevs.add('greedy', ringbuf());
    await charHandlers['hub-add-member']({ hub: 'h', member: 'greedy', replay: 1 << 20 }, qmp);
    assert.equal(ringText(greedy).length, 64);
    // A socket viewer gets its replay once a client connects.
    const s = await unixServer(chardevs, 'viewer');
    await charHandlers['hub-add-member']({ hub: 'h', member: 'viewer', replay: 5 }, qmp);
    const client = new Client(s.path, true);
    await until(() => client.received === 5, 'the replay');
    h.write(Buffer.from('next\n'));
    await until(() => client.received === 10, 'the live output');
    assert.equal(Buffer.concat(client.chunks).toString(), 'live\nnext\n');
    client.close();
    await chardevs.closeAll();
  });
});

suite('hub chardev: per-member isolation', () => {
  const TOTAL = 4 << 20;
  const CHUNK = 64 << 10;

  test('a client that never reads loses its oldest output, counted, while a ringbuf and a reading client get every byte', async () => {
    const state = setup();
    const { chardevs, events } = state;
    const rb = await chardevs.add('rb', ringbuf(TOTAL));
    const fast = await unixServer(chardevs, 'fast');
    const slow = await unixServer(chardevs, 'slow');
    const h = await chardevs.add('h', hub(['rb', 'fast', 'slow'], { 'queue-size': 64 << 10 }));
    const frontend = new TestFrontend();
    h.attach(frontend);
    const fastClient = new Client(fast.path);
    const slowClient = new Client(slow.path);
    slowClient.socket.pause();
    await until(() => fast.chardev.isOpen && slow.chardev.isOpen, 'both clients');
    const source = randomBytes(TOTAL);
    const expected = createHash('sha256').update(source).digest('hex');
    for (let sent = 0; sent < TOTAL; sent += CHUNK) {
      // Never told to wait: the stalled client does not pace the source.
      assert.equal(h.write(source.subarray(sent, sent + CHUNK)), true);
      await until(() => fastClient.received === sent + CHUNK, 'the reading client to keep up');
    }
    assert.equal(fastClient.digest(), expected);
    const ring = (rb as RingbufChardev).ring;
    assert.equal(createHash('sha256').update(ring.read(ring.unread)).digest('hex'), expected);

    const slowInfo = query(state, 'h').hub!.members.find((m) => m.id === 'slow')!;
    assert.ok(slowInfo.dropped > 0, 'the stalled member dropped bytes');
    assert.ok(slowInfo.queued <= 64 << 10, 'its queue stays within queue-size');
    const others = query(state, 'h').hub!.members.filter((m) => m.id !== 'slow');
    assert.deepEqual(
      others.map((m) => [m.id, m.dropped, m.written]),
      [
        ['rb', 0, TOTAL],
        ['fast', 0, TOTAL],
      ],
    );
    assert.ok(events.length >= 1, 'HUB_MEMBER_DROPPED was sent');
    assert.deepEqual({ ...events[0]!.data, dropped: 0, queued: 0 }, { hub: 'h', member: 'slow', dropped: 0, queued: 0 });
    assert.ok(events[0]!.data.dropped > 0);
    // The first drop is reported at once, the rest at most once a second: far fewer events than drops.
    assert.ok(events.length <= 2, `${events.length} events`);

    // When it reads again it gets what was not dropped, the newest bytes last, and nothing twice.
    slowClient.socket.resume();
    await until(() => slowClient.received + slowInfo.dropped === TOTAL, 'the stalled client to catch up');
    assert.equal(query(state, 'h').hub!.members.find((m) => m.id === 'slow')!.queued, 0);
    fastClient.close();
    slowClient.close();
    h.detach(frontend);
    await chardevs.closeAll();
  });

  test('a file member never loses a byte: when its writes fall a whole queue behind, the hub holds the frontend back instead', async () => {
    const state = setup();
    const { chardevs } = state;
    // A FIFO as the file, with a reader that does not read yet: a disk that cannot keep up.
    const fifo = join(dir, `slowdisk${socketCount++}`);
    execFileSync('mkfifo', [fifo]);
    const fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    await chardevs.add('disk', { type: 'file', data: { out: fifo } });
    const s = await unixServer(chardevs, 'viewer');
    const h = await chardevs.add('h', hub(['disk', 'viewer'], { 'queue-size': 256 << 10 }));
    const frontend = new TestFrontend();
    h.attach(frontend);
    const client = new Client(s.path);
    await until(() => s.chardev.isOpen, 'the viewer');
    const written: Buffer[] = [];
    let held = false;
    for (let i = 0; i < 1000 && !held; i++) {
      const chunk = randomBytes(16 << 10);
      written.push(chunk);
      held = !h.write(chunk);
    }
    assert.ok(held, 'the hub held the frontend back');
    const disk = query(state, 'h').hub!.members.find((m) => m.id === 'disk')!;
    assert.equal(disk.lossless, true);
    assert.ok(disk.queued >= 256 << 10);
    const reader = new net.Socket({ fd, readable: true, writable: false });
    const got: Buffer[] = [];
    let gotBytes = 0;
    reader.on('data', (data: Buffer) => {
      got.push(data);
      gotBytes += data.length;
    });
    await frontend.until(() => frontend.drains > 0, 'drain once the disk caught up');
    const all = Buffer.concat(written);
    await until(() => gotBytes >= all.length && client.received >= all.length, 'the file and the viewer');
    sameBytes(Buffer.concat(got), all, 'the file');
    assert.equal(query(state, 'h').hub!.members.find((m) => m.id === 'disk')!.dropped, 0);
    reader.destroy();
    client.close();
    h.detach(frontend);
    await chardevs.closeAll();
    rmSync(fifo);
  });

  test('with backpressure=on the stalled client paces the frontend, as in QEMU, and nobody loses a byte', async () => {
    const state = setup();
    const { chardevs } = state;
    const rb = await chardevs.add('rb', ringbuf(TOTAL));
    const fast = await unixServer(chardevs, 'fast');
    const slow = await unixServer(chardevs, 'slow');
    const h = await chardevs.add('h', hub(['rb', 'fast', 'slow'], { backpressure: true }));
    assert.equal(query(state, 'h').hub!.backpressure, true);
    const frontend = new TestFrontend();
    h.attach(frontend);
    const fastClient = new Client(fast.path);
    const slowClient = new Client(slow.path);
    slowClient.socket.pause();
    await until(() => fast.chardev.isOpen && slow.chardev.isOpen, 'both clients');
    const source = randomBytes(TOTAL);
    const expected = createHash('sha256').update(source).digest('hex');
    let sent = 0;
    let told = false;
    while (sent < TOTAL) {
      const more = h.write(source.subarray(sent, sent + CHUNK));
      sent += CHUNK;
      if (!more) {
        if (!told) {
          // The first time it must wait: the stalled client holds it; let the client read again.
          told = true;
          assert.ok(sent < TOTAL, 'the hub asked the frontend to wait before the end');
          assert.equal(frontend.drains, 0);
          slowClient.socket.resume();
        }
        const drains = frontend.drains;
        await frontend.until(() => frontend.drains > drains, 'drain');
      }
    }
    assert.ok(told, 'the stalled member paced the frontend');
    await until(() => slowClient.received === TOTAL && fastClient.received === TOTAL, 'every client to get everything');
    assert.equal(slowClient.digest(), expected);
    assert.equal(fastClient.digest(), expected);
    const ring = (rb as RingbufChardev).ring;
    assert.equal(createHash('sha256').update(ring.read(ring.unread)).digest('hex'), expected);
    assert.deepEqual(
      query(state, 'h').hub!.members.map((m) => m.dropped),
      [0, 0, 0],
    );
    fastClient.close();
    slowClient.close();
    h.detach(frontend);
    await chardevs.closeAll();
  });

  test("query-chardev shows the hub member only on hubs, so other entries stay QEMU's", async () => {
    const state = setup();
    await state.chardevs.add('a', ringbuf());
    await state.chardevs.add('h', hub(['a']));
    assert.deepEqual(query(state, 'a'), { label: 'a', filename: 'ringbuf', 'frontend-open': true });
    assert.deepEqual(query(state, 'h'), {
      label: 'h',
      filename: 'hub',
      'frontend-open': false,
      hub: {
        backpressure: false,
        'queue-size': 1 << 20,
        history: 64 << 10,
        members: [{ id: 'a', open: true, lossless: true, written: 0, queued: 0, 'lag-ms': 0, dropped: 0 }],
      },
    });
    assert.ok(state.chardevs.get('h') instanceof HubChardev);
    await state.chardevs.closeAll();
  });
});
