import assert from 'node:assert/strict';
import { type PerformanceEntry, PerformanceObserver, performance } from 'node:perf_hooks';
import { suite, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { getHeapStatistics } from 'node:v8';
import { HeapTrimmer, reduceHeap, trimHeap } from '../../../src/base/heap-trim.js';
import { nativeAddonUnavailable } from '../../../src/base/native-addon.js';

/** Objects retained in the burst: about 8 MiB of V8's heap. */
const BURST_OBJECTS = 100_000;
const BURST_BATCHES = 20;
/** Well before V8's own memory reducer would give the heap back (8 seconds after it went quiet). */
const WAIT_MS = 5_000;
/** How long a quiet process is watched for collections: several of the trimmer's quiet spells. */
const QUIET_WATCH_MS = 1_500;

/** Collections seen from now on, as a PerformanceObserver reports them. */
function watchCollections(): { readonly entries: PerformanceEntry[]; stop(): void } {
  const entries: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => entries.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  return { entries, stop: () => observer.disconnect() };
}

async function until(what: string, done: () => boolean): Promise<void> {
  const deadline = performance.now() + WAIT_MS;
  while (!done()) {
    if (performance.now() > deadline) assert.fail(`${what} within ${WAIT_MS} ms`);
    await delay(20);
  }
}

suite('trimming the C allocator’s heap', () => {
  test('trimHeap() runs and says whether memory went back', () => {
    assert.equal(typeof trimHeap(), 'boolean');
  });

  test('a HeapTrimmer can be made and disposed of, twice over', () => {
    const trimmer = new HeapTrimmer();
    trimmer.dispose();
    trimmer.dispose();
  });
});

suite('reducing V8’s heap', { skip: nativeAddonUnavailable }, () => {
  test('reduceHeap() runs collections before it returns, and returns nothing', async () => {
    const collections = watchCollections();
    try {
      const start = performance.now();
      assert.equal(reduceHeap(), undefined);
      const end = performance.now();
      const during = (entry: PerformanceEntry) => entry.startTime >= start && entry.startTime <= end;
      await until('the collections were reported', () => collections.entries.some(during));
    } finally {
      collections.stop();
    }
  });

  test('a HeapTrimmer gives back the heap a burst grew once the process is quiet, then runs no more collections', async () => {
    const trimmer = new HeapTrimmer();
    const collections = watchCollections();
    try {
      const before = getHeapStatistics().total_heap_size;
      // Over several turns of the event loop, as requests come: the trimmer sees the first collections while the burst goes on.
      let burst: { index: number; name: string }[] | undefined = [];
      for (let batch = 0; batch < BURST_BATCHES; batch += 1) {
        for (let index = 0; index < BURST_OBJECTS / BURST_BATCHES; index += 1) burst.push({ index, name: `object ${batch} ${index}` });
        await new Promise(setImmediate);
      }
      const grown = getHeapStatistics().total_heap_size;
      const burstBytes = grown - before;
      assert.ok(burstBytes > 1024 * 1024, `the burst grew the heap by ${burstBytes} bytes`);
      assert.equal(burst.length, BURST_OBJECTS);
      burst = undefined;

      await until('the committed heap came down by half the burst', () => getHeapStatistics().total_heap_size <= grown - burstBytes / 2);

      // The reduction's collections all started before it returned, before the heap was seen down: none follows.
      const quietFrom = performance.now();
      await delay(QUIET_WATCH_MS);
      const later = collections.entries.filter((entry) => entry.startTime > quietFrom);
      assert.equal(later.length, 0, `${later.length} collections after the heap came down`);
    } finally {
      collections.stop();
      trimmer.dispose();
    }
  });
});
