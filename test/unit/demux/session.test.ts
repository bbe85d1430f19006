import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import fc from 'fast-check';
import type { DemuxChannel, DemuxCloseInfo } from '../../../src/demux/channel.js';
import { DemuxCode, type DemuxRole } from '../../../src/demux/codes.js';
import { DemuxOpenError, DemuxSession, type DemuxSessionError } from '../../../src/demux/session.js';

// Two sessions joined by two simulated wires whose delivery the test
// schedules: fast-check picks the interleaving of opens, writes, partial
// deliveries, reads, half-closes and closes, and the checks are about the
// bytes each channel carried.

const SIDES = ['a', 'b'] as const;
type Side = (typeof SIDES)[number];
const other = (side: Side): Side => (side === 'a' ? 'b' : 'a');

/** The i-th byte a stream carries: distinct per stream, so that mixed or reordered bytes show. */
const patternByte = (stream: number, i: number): number => (stream * 131 + i * 7 + (i >>> 8) * 3) & 0xff;

/** One direction: frames written by one session, delivered to the other when the test says so. */
class Wire {
  readonly #chunks: Uint8Array[] = [];
  #bytes = 0;
  #blocked = false;
  to!: DemuxSession;
  from!: DemuxSession;
  constructor(readonly capacity: number) {}

  write(frame: Uint8Array): boolean {
    this.#chunks.push(frame);
    this.#bytes += frame.length;
    if (this.#bytes > this.capacity) this.#blocked = true;
    return !this.#blocked;
  }

  /** Noise between two frames, as a serial line might add. */
  garbage(bytes: Uint8Array): void {
    this.#chunks.push(bytes);
    this.#bytes += bytes.length;
  }

  get pending(): number {
    return this.#bytes;
  }

  deliver(max: number): number {
    let moved = 0;
    while (moved < max && this.#chunks.length > 0) {
      const first = this.#chunks[0]!;
      const part = first.subarray(0, max - moved);
      if (part.length === first.length) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(part.length);
      this.#bytes -= part.length;
      moved += part.length;
      this.to.receive(part);
    }
    if (this.#blocked && this.#bytes <= this.capacity / 2) {
      this.#blocked = false;
      this.from.drained();
    }
    return moved;
  }
}

/** A stream: what one end of a channel wrote and what the other end received. */
interface Stream {
  readonly id: number;
  written: number;
  received: number[];
  /** The receiving end never reads: a stalled consumer. */
  stalled: boolean;
  /** Received bytes not yet consumed (credit not yet returned). */
  unconsumed: number;
}

interface Pair {
  readonly ends: Partial<Record<Side, DemuxChannel>>;
  /** Streams by writing side. */
  readonly streams: Record<Side, Stream>;
  aborted: boolean;
  closedAt: Partial<Record<Side, DemuxCloseInfo>>;
}

function world(window: number, capacity: number) {
  const wires = { a: new Wire(capacity), b: new Wire(capacity) };
  const pairs: Pair[] = [];
  const errors: DemuxSessionError[] = [];
  let streamCount = 0;
  const sessions = {} as Record<Side, DemuxSession>;
  const handler = (pair: Pair, side: Side) => ({
    data: (bytes: Uint8Array) => {
      const stream = pair.streams[other(side)];
      for (const byte of bytes) stream.received.push(byte);
      stream.unconsumed += bytes.length;
      if (!stream.stalled) consume(pair, side, stream.unconsumed);
    },
    closed: (info: DemuxCloseInfo) => {
      pair.closedAt[side] = info;
    },
  });
  const consume = (pair: Pair, side: Side, count: number): void => {
    const stream = pair.streams[other(side)];
    const n = Math.min(count, stream.unconsumed);
    stream.unconsumed -= n;
    pair.ends[side]?.consumed(n);
  };
  for (const side of SIDES) {
    const role: DemuxRole = side === 'a' ? 'primary' : 'secondary';
    sessions[side] = new DemuxSession({
      role,
      window,
      maxChannels: 64,
      write: (bytes) => wires[side].write(bytes),
      incoming: (channel) => {
        const target = 'name' in channel.target ? channel.target.name : '';
        if (target === 'refused') {
          channel.refuse(DemuxCode.UNKNOWN_SERVICE, 'no such service');
          return;
        }
        const pair = pairs.find((p) => p.ends[other(side)]?.id === channel.id && p.ends[side] === undefined);
        assert.ok(pair, 'an OPEN arrives for a channel the other side opened');
        pair.ends[side] = channel;
        channel.accept(handler(pair, side));
      },
      error: (error) => errors.push(error),
    });
  }
  wires.a.from = sessions.a;
  wires.a.to = sessions.b;
  wires.b.from = sessions.b;
  wires.b.to = sessions.a;
  sessions.a.start();
  sessions.b.start();
  const settle = (): void => {
    for (let round = 0; round < 100_000; round++) {
      for (const pair of pairs) for (const side of SIDES) if (!pair.streams[other(side)].stalled) consume(pair, side, Infinity);
      if (wires.a.deliver(1 << 20) + wires.b.deliver(1 << 20) === 0) return;
    }
    assert.fail('the wires never went quiet');
  };
  settle();
  return {
    sessions,
    wires,
    pairs,
    errors,
    settle,
    open(side: Side, name: string, stalled: readonly boolean[]): Pair | undefined {
      const pair: Pair = {
        ends: {},
        streams: {
          a: { id: streamCount++, written: 0, received: [], stalled: stalled[0] ?? false, unconsumed: 0 },
          b: { id: streamCount++, written: 0, received: [], stalled: stalled[1] ?? false, unconsumed: 0 },
        },
        aborted: false,
        closedAt: {},
      };
      try {
        pair.ends[side] = sessions[side].open({ name }, handler(pair, side));
      } catch (error: unknown) {
        if (error instanceof DemuxOpenError && error.code === DemuxCode.TOO_MANY_CHANNELS) return undefined;
        throw error;
      }
      pairs.push(pair);
      return pair;
    },
    write(pair: Pair, side: Side, size: number): void {
      const end = pair.ends[side];
      if (end === undefined || end.state === 'closed' || end.state === 'closing' || end.ended) return;
      const stream = pair.streams[side];
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i++) bytes[i] = patternByte(stream.id, stream.written + i);
      // Bytes written after end() are dropped by the channel; end() is only asked once below.
      end.write(bytes);
      stream.written += size;
    },
  };
}

type Action =
  | { kind: 'open'; side: Side; refused: boolean; stalled: [boolean, boolean] }
  | { kind: 'write'; side: Side; pair: number; size: number }
  | { kind: 'deliver'; side: Side; bytes: number }
  | { kind: 'end'; side: Side; pair: number }
  | { kind: 'close'; side: Side; pair: number }
  | { kind: 'garbage'; side: Side; bytes: Uint8Array };

const side = fc.constantFrom<Side>('a', 'b');
const actionArb = (withGarbage: boolean, stall: boolean): fc.Arbitrary<Action> =>
  fc.oneof(
    {
      arbitrary: fc.record({
        kind: fc.constant('open' as const),
        side,
        refused: fc.boolean(),
        stalled: fc.tuple(stall ? fc.boolean() : fc.constant(false), stall ? fc.boolean() : fc.constant(false)),
      }),
      weight: 2,
    },
    { arbitrary: fc.record({ kind: fc.constant('write' as const), side, pair: fc.nat(40), size: fc.integer({ min: 1, max: 70_000 }) }), weight: 6 },
    { arbitrary: fc.record({ kind: fc.constant('deliver' as const), side, bytes: fc.integer({ min: 1, max: 200_000 }) }), weight: 6 },
    { arbitrary: fc.record({ kind: fc.constant('end' as const), side, pair: fc.nat(40) }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('close' as const), side, pair: fc.nat(40) }), weight: withGarbage ? 0 : 1 },
    {
      arbitrary: fc.record({ kind: fc.constant('garbage' as const), side, bytes: fc.uint8Array({ minLength: 1, maxLength: 300 }) }),
      weight: withGarbage ? 1 : 0,
    },
  );

function run(actions: readonly Action[], window: number, capacity: number) {
  const w = world(window, capacity);
  const ended = new Set<string>();
  for (const action of actions) {
    const pair = 'pair' in action ? w.pairs[action.pair % Math.max(1, w.pairs.length)] : undefined;
    switch (action.kind) {
      case 'open': {
        const opened = w.open(action.side, action.refused ? 'refused' : `svc${w.pairs.length}`, action.stalled);
        // What is written to a refused channel goes nowhere.
        if (opened !== undefined) opened.aborted = action.refused;
        break;
      }
      case 'write':
        if (pair !== undefined && !ended.has(`${w.pairs.indexOf(pair)}${action.side}`)) w.write(pair, action.side, action.size);
        break;
      case 'deliver':
        w.wires[action.side].deliver(action.bytes);
        break;
      case 'end':
        if (pair?.ends[action.side] !== undefined) {
          ended.add(`${w.pairs.indexOf(pair)}${action.side}`);
          pair.ends[action.side]!.end();
        }
        break;
      case 'close':
        if (pair?.ends[action.side] !== undefined) {
          pair.aborted = true;
          pair.ends[action.side]!.close(DemuxCode.OK, 'test');
        }
        break;
      case 'garbage':
        w.wires[action.side].garbage(action.bytes);
        break;
    }
  }
  w.settle();
  return w;
}

function checkStreams(w: ReturnType<typeof world>, window: number): void {
  for (const pair of w.pairs) {
    for (const writer of SIDES) {
      const stream = pair.streams[writer];
      // Never mixed or reordered: what arrived is the start of what was written.
      for (let i = 0; i < stream.received.length; i++) {
        if (stream.received[i] !== patternByte(stream.id, i)) assert.fail(`stream ${stream.id}: byte ${i} is not the one written there`);
      }
      assert.ok(stream.received.length <= stream.written, `stream ${stream.id} received more than was written`);
      if (stream.stalled) {
        // A reader that stops holds at most one window: the sender waits for credit.
        assert.ok(stream.received.length <= window, `stalled stream ${stream.id} buffered ${stream.received.length} bytes, more than the window ${window}`);
      } else if (!pair.aborted) {
        // Not lost: everything written arrived, whatever the other channels did.
        assert.equal(stream.received.length, stream.written, `stream ${stream.id}: bytes received`);
      }
    }
  }
}

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 60);

suite('demux session: channels over one byte stream', () => {
  test('random interleavings of opens, data, deliveries, half-closes and closes never lose, reorder or mix bytes', () => {
    fc.assert(
      fc.property(fc.array(actionArb(false, false), { minLength: 1, maxLength: 120 }), fc.integer({ min: 1024, max: 300_000 }), (actions, window) => {
        const w = run(actions, window, 64 << 10);
        checkStreams(w, window);
        assert.deepEqual(
          w.errors.map((e) => e.code),
          [],
        );
      }),
      { numRuns: RUNS, seed: 4242 },
    );
  });

  test('a channel whose reader stops never blocks the others', () => {
    fc.assert(
      fc.property(fc.array(actionArb(false, true), { minLength: 1, maxLength: 120 }), fc.integer({ min: 1024, max: 100_000 }), (actions, window) => {
        const w = run(actions, window, 16 << 10);
        checkStreams(w, window);
      }),
      { numRuns: RUNS, seed: 777 },
    );
  });

  test('garbage between frames is reported with an ERROR frame and skipped, and every channel goes on', () => {
    fc.assert(
      fc.property(fc.array(actionArb(true, false), { minLength: 1, maxLength: 120 }), (actions) => {
        const w = run(actions, 65536, 64 << 10);
        checkStreams(w, 65536);
        const garbage = actions.some((a) => a.kind === 'garbage');
        for (const error of w.errors) assert.ok(error.code === DemuxCode.GARBAGE, `only garbage errors, got ${error.code}: ${error.reason}`);
        // Each side that skipped garbage told the other with an ERROR frame.
        if (garbage) assert.ok(w.sessions.a.counters.garbageBytes + w.sessions.b.counters.garbageBytes > 0);
        assert.equal(w.sessions.a.counters.errorsReceived, w.sessions.b.counters.errorsSent);
      }),
      { numRuns: RUNS, seed: 99 },
    );
  });

  test('channels closed in order by both sides leave no entry in either table', () => {
    const w = world(4096, 1 << 20);
    const pairs = Array.from({ length: 20 }, (_, i) => w.open(i % 2 === 0 ? 'a' : 'b', `svc${i}`, [false, false])!);
    w.settle();
    for (const pair of pairs) {
      w.write(pair, 'a', 10_000);
      w.write(pair, 'b', 5_000);
      pair.ends.a!.end();
      pair.ends.b!.end();
    }
    w.settle();
    checkStreams(w, 4096);
    assert.equal(w.sessions.a.channels.length, 0);
    assert.equal(w.sessions.b.channels.length, 0);
    for (const pair of pairs) assert.deepEqual(pair.closedAt.a, { code: DemuxCode.OK, reason: '', refused: false, byPeer: false });
  });
});
