import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { suite, type TestContext, test } from 'node:test';
import { SINK_RETRY_FIRST_MS, SINK_RETRY_MAX_MS, SINK_STALL_LIMIT_MS, type SinkEndpoint, SinkOutput } from '../../../src/chardev/sink-output.js';
import { OUTPUT_QUEUE_LIMIT } from '../../../src/chardev/stream-io.js';

/** A disk that can run full: every stream made on it writes (a whole chunk, or nothing) while it has room. */
class Disk {
  readonly written: Buffer[] = [];
  full = false;
  streams = 0;

  stream(): Writable {
    this.streams++;
    return new Writable({
      highWaterMark: 16,
      write: (chunk: Buffer, _encoding, callback) => {
        setImmediate(() => {
          if (this.full) {
            callback(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
            return;
          }
          this.written.push(chunk);
          callback();
        });
      },
    });
  }

  get text(): string {
    return Buffer.concat(this.written).toString('latin1');
  }
}

/** What the chardev hears from its sink. */
class Owner {
  drains = 0;
  readonly states: string[] = [];
  sink!: SinkOutput;

  constructor(readonly lossless: boolean) {}

  drained(): void {
    this.drains++;
  }

  changed(): void {
    this.states.push(this.sink.state);
  }
}

function sinkOn(disk: Disk, { lossless = true, reopen = true } = {}): { sink: SinkOutput; owner: Owner } {
  const owner = new Owner(lossless);
  const endpoint: SinkEndpoint = { stream: disk.stream(), ...(reopen ? { reopen: () => disk.stream() } : {}) };
  owner.sink = new SinkOutput(endpoint, owner);
  return { sink: owner.sink, owner };
}

/** Lets the streams' callbacks run (they use setImmediate, which the mocked timers leave alone). */
async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

function mockTimers(t: TestContext): void {
  t.mock.timers.enable({ apis: ['setTimeout'] });
}

suite('SinkOutput: writes that fail are held, retried and reported', () => {
  test('a failed write is held and the frontend told to wait; the retry writes it, in order, and the frontend hears drain', async (t) => {
    mockTimers(t);
    const disk = new Disk();
    const { sink, owner } = sinkOn(disk);
    assert.equal(sink.write(Buffer.from('one ')), true);
    await settle();
    disk.full = true;
    sink.write(Buffer.from('two '));
    await settle();
    assert.equal(sink.state, 'stalled');
    assert.equal(sink.error, 'No space left on device');
    assert.deepEqual(owner.states, ['stalled']);
    assert.equal(sink.write(Buffer.from('three ')), false, 'a stalled lossless sink paces its frontend');
    assert.deepEqual(sink.info, { state: 'stalled', error: 'No space left on device', pending: 10, lost: 0 });

    disk.full = false;
    t.mock.timers.tick(SINK_RETRY_FIRST_MS);
    await settle();
    assert.equal(sink.state, 'ok');
    assert.deepEqual(owner.states, ['stalled', 'ok']);
    assert.equal(owner.drains, 1);
    assert.equal(disk.text, 'one two three ');
    assert.deepEqual(sink.info, { state: 'ok', error: 'No space left on device', pending: 0, lost: 0 }, 'the last error stays');
  });

  test('retries wait 100 ms, then twice as long each time, at most SINK_RETRY_MAX_MS', async (t) => {
    mockTimers(t);
    const disk = new Disk();
    const { sink } = sinkOn(disk);
    disk.full = true;
    sink.write(Buffer.from('x'));
    await settle();
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      const before = disk.streams;
      let waited = 0;
      while (disk.streams === before) {
        t.mock.timers.tick(SINK_RETRY_FIRST_MS);
        waited += SINK_RETRY_FIRST_MS;
        assert.ok(waited <= SINK_RETRY_MAX_MS, 'a retry comes within SINK_RETRY_MAX_MS');
      }
      waits.push(waited);
      await settle();
    }
    assert.deepEqual(waits, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
  });

  test('stalled for SINK_STALL_LIMIT_MS, a lossless sink drops new output, counted, and lets its frontend go on; what it held comes first on recovery', async (t) => {
    mockTimers(t);
    const disk = new Disk();
    const { sink, owner } = sinkOn(disk);
    disk.full = true;
    sink.write(Buffer.from('held '));
    await settle();
    assert.equal(sink.write(Buffer.from('also held ')), false);
    for (let waited = 0; waited < SINK_STALL_LIMIT_MS; waited += SINK_RETRY_FIRST_MS) {
      t.mock.timers.tick(SINK_RETRY_FIRST_MS);
      await settle(2);
    }
    assert.equal(sink.state, 'dropping');
    assert.deepEqual(owner.states, ['stalled', 'dropping']);
    assert.equal(owner.drains, 1, 'the frontend told to wait may write again');
    assert.equal(sink.write(Buffer.from('gone')), true);
    assert.deepEqual(sink.info, { state: 'dropping', error: 'No space left on device', pending: 15, lost: 4 });

    disk.full = false;
    t.mock.timers.tick(SINK_RETRY_MAX_MS);
    await settle();
    assert.equal(sink.state, 'ok');
    sink.write(Buffer.from('after'));
    await settle();
    assert.equal(disk.text, 'held also held after');
    assert.equal(sink.lost, 4);
  });

  test('a sink that is not lossless drops at once, and one that cannot reopen keeps dropping what it held and what comes', async (t) => {
    mockTimers(t);
    const disk = new Disk();
    const { sink, owner } = sinkOn(disk, { lossless: false, reopen: false });
    disk.full = true;
    sink.write(Buffer.from('12345'));
    await settle();
    assert.equal(sink.state, 'dropping');
    assert.deepEqual(owner.states, ['dropping']);
    assert.equal(sink.lost, 5);
    assert.equal(sink.write(Buffer.from('678')), true);
    assert.equal(sink.lost, 8);
    disk.full = false;
    t.mock.timers.tick(SINK_RETRY_MAX_MS * 4);
    await settle();
    assert.equal(disk.streams, 1, 'no retry without a way to reopen');
  });

  test('a frontend that writes on after being told to wait loses what exceeds OUTPUT_QUEUE_LIMIT, counted, with no error', async () => {
    const disk = new Disk();
    const { sink } = sinkOn(disk);
    assert.equal(sink.write(Buffer.alloc(64)), false);
    assert.equal(sink.write(Buffer.alloc(OUTPUT_QUEUE_LIMIT)), false);
    assert.deepEqual(sink.info, { state: 'ok', pending: 64, lost: OUTPUT_QUEUE_LIMIT });
    await settle();
    await sink.close();
  });

  test('close gives a failed sink one more try for what it holds, and counts what still cannot be written', async () => {
    const disk = new Disk();
    const { sink } = sinkOn(disk);
    disk.full = true;
    sink.write(Buffer.from('kept'));
    await settle();
    assert.equal(sink.state, 'stalled');
    disk.full = false;
    await sink.close();
    assert.equal(disk.text, 'kept');
    assert.equal(sink.lost, 0);

    const full = new Disk();
    const failing = sinkOn(full).sink;
    full.full = true;
    failing.write(Buffer.from('lost'));
    await settle();
    await failing.close();
    assert.equal(failing.lost, 4);
    assert.equal(full.text, '');
  });
});
