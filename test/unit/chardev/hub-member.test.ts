import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { Chardev } from '../../../src/chardev/chardev.js';
import { HUB_LOSSLESS_QUEUE_FACTOR, HubMember, type MemberHub } from '../../../src/chardev/hub-member.js';

/** A member's backend that takes bytes while `room` lasts, then asks to wait. */
class SlowBackend extends Chardev {
  readonly kind = 'null';
  override readonly losslessSink: boolean;
  room = 0;
  readonly written: Buffer[] = [];

  constructor(lossless: boolean) {
    super('member');
    this.losslessSink = lossless;
  }

  get filename(): string {
    return 'slow';
  }

  async open(): Promise<void> {}

  protected writeToBackend(data: Buffer): boolean {
    this.written.push(data);
    this.room -= data.length;
    return this.room > 0;
  }

  /** Makes room and tells the member, as a backend that drained does. */
  makeRoom(bytes: number): void {
    this.room = bytes;
    this.drained();
  }

  protected async closeBackend(): Promise<void> {}
}

/** The hub's side, recording what the member tells it. */
function fakeHub(queueSize: number, backpressure = false, stallTimeoutMs?: number) {
  const told = { progressed: 0, drops: [] as number[] };
  const hub: MemberHub = {
    id: 'h',
    backpressure,
    queueSize,
    stallTimeoutMs,
    inputRoom: () => 0,
    memberInput: () => {},
    memberEvent: () => {},
    memberProgressed: () => told.progressed++,
    reportDrops: (member) => told.drops.push(member.dropped),
  };
  return { hub, told };
}

function join(backend: SlowBackend, hub: MemberHub): HubMember {
  const member = new HubMember(hub, backend);
  backend.attach(member);
  return member;
}

const bytes = (n: number, fill: number): Buffer => Buffer.alloc(n, fill);

suite('hub member: its output queue', () => {
  test('output goes straight to a backend with room; once it asks to wait, the rest is queued and flushed on drain', () => {
    const { hub, told } = fakeHub(100);
    const backend = new SlowBackend(false);
    const member = join(backend, hub);
    backend.room = 10;
    member.send(bytes(4, 1));
    member.send(bytes(8, 2));
    member.send(bytes(5, 3));
    assert.equal(member.written, 12);
    assert.equal(member.queued, 5);
    backend.makeRoom(100);
    assert.equal(member.queued, 0);
    assert.equal(member.written, 17);
    assert.deepEqual(Buffer.concat(backend.written), Buffer.concat([bytes(4, 1), bytes(8, 2), bytes(5, 3)]));
    assert.equal(told.progressed, 1);
    member.dispose();
  });

  test('a viewer that falls a queue behind loses its oldest bytes, counted and reported at once', () => {
    const { hub, told } = fakeHub(10);
    const backend = new SlowBackend(false);
    const member = join(backend, hub);
    member.send(bytes(1, 0));
    for (let i = 1; i <= 4; i++) member.send(bytes(4, i));
    assert.equal(member.queued, 10);
    assert.equal(member.dropped, 6);
    assert.deepEqual(told.drops, [2], 'the first loss is reported at once; later ones wait for the interval');
    assert.equal(member.pacing, false, 'a viewer never holds the frontend back');
    backend.makeRoom(100);
    assert.deepEqual(Buffer.concat(backend.written.slice(1)), Buffer.concat([bytes(2, 2), bytes(4, 3), bytes(4, 4)]), 'the newest ten bytes');
    member.dispose();
  });

  test(`a lossless member paces the frontend a queue behind and keeps up to ${HUB_LOSSLESS_QUEUE_FACTOR} queues before dropping`, () => {
    const { hub } = fakeHub(10);
    const backend = new SlowBackend(true);
    const member = join(backend, hub);
    assert.equal(member.lossless, true);
    member.send(bytes(1, 0));
    member.send(bytes(9, 1));
    assert.equal(member.pacing, false);
    member.send(bytes(1, 2));
    assert.equal(member.pacing, true, 'a whole queue behind');
    member.send(bytes(40, 3));
    assert.equal(member.queued, 10 * HUB_LOSSLESS_QUEUE_FACTOR);
    assert.equal(member.dropped, 10);
    member.dispose();
  });

  test('with backpressure any member that is behind paces the frontend', () => {
    const { hub } = fakeHub(10, true);
    const backend = new SlowBackend(false);
    const member = join(backend, hub);
    member.send(bytes(1, 0));
    assert.equal(member.pacing, true, 'its backend asked to wait');
    backend.makeRoom(100);
    assert.equal(member.pacing, false);
    member.dispose();
  });

  test('forget() drops the queue of a member that closed, uncounted', () => {
    const { hub } = fakeHub(10);
    const backend = new SlowBackend(false);
    const member = join(backend, hub);
    member.send(bytes(1, 0));
    member.send(bytes(5, 1));
    member.forget();
    assert.equal(member.queued, 0);
    assert.equal(member.dropped, 0);
    member.send(bytes(3, 2));
    assert.equal(member.written, 4, 'no longer waiting: output goes straight to the backend again');
    member.dispose();
  });
});

suite('hub member: stall-timeout', () => {
  test('a viewer that reads paces the frontend and loses nothing, however long it takes overall', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    const { hub, told } = fakeHub(10, false, 1000);
    const backend = new SlowBackend(false);
    const member = join(backend, hub);
    const sent: Buffer[] = [];
    for (let i = 0; i < 50; i++) {
      const chunk = bytes(8, i);
      sent.push(chunk);
      member.send(chunk);
      assert.equal(member.pacing, true, 'behind: it holds the frontend back');
      t.mock.timers.tick(900);
      backend.makeRoom(1);
    }
    assert.equal(member.cutLoose, false);
    assert.equal(member.dropped, 0);
    backend.makeRoom(1000);
    assert.equal(member.pacing, false);
    assert.deepEqual(Buffer.concat(backend.written), Buffer.concat(sent));
    assert.ok(told.progressed >= 50);
    member.dispose();
  });

  test('a viewer that takes nothing for the timeout is cut loose, loses its oldest bytes, and paces again once caught up', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    const { hub, told } = fakeHub(10, false, 1000);
    const backend = new SlowBackend(false);
    const member = join(backend, hub);
    member.send(bytes(1, 0));
    member.send(bytes(4, 1));
    assert.equal(member.pacing, true);
    t.mock.timers.tick(999);
    assert.equal(member.pacing, true);
    const progressed = told.progressed;
    t.mock.timers.tick(1);
    assert.equal(member.cutLoose, true);
    assert.equal(member.pacing, false, 'cut loose: the frontend no longer waits for it');
    assert.equal(told.progressed, progressed + 1, 'the hub heard it, so that its frontend may write again');
    for (let i = 2; i <= 4; i++) member.send(bytes(4, i));
    assert.equal(member.queued, 10, 'its queue keeps queue-size bytes');
    assert.equal(member.dropped, 6);
    assert.deepEqual(told.drops, [2], 'the first loss is reported at once, as any drop');
    backend.makeRoom(4);
    assert.equal(member.cutLoose, true, 'still behind');
    backend.makeRoom(100);
    assert.equal(member.cutLoose, false, 'caught up');
    assert.deepEqual(Buffer.concat(backend.written.slice(1)), Buffer.concat([bytes(2, 2), bytes(4, 3), bytes(4, 4)]), 'the newest ten bytes');
    member.send(bytes(200, 5));
    assert.equal(member.pacing, true, 'it paces again');
    member.send(bytes(5, 6));
    assert.equal(member.dropped, 6, 'and loses nothing while it paces');
    member.dispose();
  });

  test('a lossless member is never cut loose', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    const { hub } = fakeHub(10, false, 100);
    const backend = new SlowBackend(true);
    const member = join(backend, hub);
    member.send(bytes(1, 0));
    member.send(bytes(5, 1));
    t.mock.timers.tick(10_000);
    assert.equal(member.cutLoose, false);
    assert.equal(member.pacing, true);
    member.dispose();
  });

  test('a member that closes starts over: nothing queued, pacing, watched anew', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    const { hub } = fakeHub(10, false, 100);
    const backend = new SlowBackend(false);
    const member = join(backend, hub);
    member.send(bytes(1, 0));
    t.mock.timers.tick(100);
    assert.equal(member.cutLoose, true);
    member.forget();
    assert.equal(member.cutLoose, false);
    assert.equal(member.queued, 0);
    backend.room = 1;
    member.send(bytes(1, 1));
    assert.equal(member.pacing, true);
    t.mock.timers.tick(99);
    assert.equal(member.cutLoose, false);
    t.mock.timers.tick(1);
    assert.equal(member.cutLoose, true);
    member.dispose();
  });
});
