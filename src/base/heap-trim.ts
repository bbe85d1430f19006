import type { PerformanceObserverEntryList } from 'node:perf_hooks';
import type { Disposable } from './lifecycle.js';
import { nativeAddon } from './native-addon.js';

/**
 * Gives the C allocator's free memory back to the system (glibc's
 * malloc_trim through the native addon); whether any went back. False
 * where the addon is not built or the C library is not glibc.
 */
export function trimHeap(): boolean {
  return nativeAddon?.trimHeap() ?? false;
}

/**
 * Runs V8's memory-reducing full collections now (through the native
 * addon): they compact V8's heap and give its free pages back, the young
 * generation's grown part included. Nothing where the addon is not built.
 */
export function reduceHeap(): void {
  nativeAddon?.reduceHeap();
}

/** Quiet after the last garbage collection before the heap is trimmed. */
const IDLE_MS = 200;

/** Growth of V8's committed old generation since the last reduction that is worth a memory-reducing collection. */
const REDUCE_GROWTH_BYTES = 1024 * 1024;

/**
 * Trims the C allocator's heap once the process has gone quiet after
 * garbage collections, as QEMU's RCU thread calls malloc_trim() each time
 * it runs out of work (util/rcu.c, call_rcu_thread, CONFIG_MALLOC_TRIM).
 * Buffers (a read, a decoded ringbuf-write) are malloc'd and freed only
 * when the collector finds them dead, many at once; glibc keeps the pages
 * they leave free inside its heap, so a daemon that handled a burst of
 * large requests would stay that much larger for good. A trim takes a few
 * milliseconds and runs at most once per quiet spell, never per read.
 *
 * V8's heap grows the same way in a burst and keeps what it grew: after
 * 1,000 ringbufs were filled its old generation was 2.8 MiB above the
 * start with under 1 MiB more live, and V8's own memory reducer gives that
 * back only about 8 seconds after the heap went quiet. So when the old
 * generation (committed) grew by REDUCE_GROWTH_BYTES since the last
 * reduction, the quiet spell runs V8's memory-reducing collections (about
 * 20 ms there) before the trim, and the daemon is back to its size when
 * the burst is over, as QEMU is once its RCU thread has trimmed. The young
 * generation does not count: a reduction gives it back to its smallest and
 * the next burst of traffic grows it again; counted, it made every pause
 * between relayed bursts a reduction (bench/link.ts: 0.1 ms more CPU per
 * MiB relayed and half as many page faults again). The collections the
 * reduction runs are its own: they start no other quiet spell.
 */
export class HeapTrimmer implements Disposable {
  // Node loads perf_hooks behind these globals here, not when the daemon's modules load.
  readonly #observer = new PerformanceObserver((list) => this.#collected(list));
  #timer: NodeJS.Timeout | undefined;
  /** V8's committed old generation after the last reduction, or when the trimmer was made. */
  #reducedSize = this.#oldGeneration();
  /** When the last reduction ran (performance.now()): the collections that started in between are its own. */
  #reductionStart = 0;
  #reductionEnd = -1;

  constructor() {
    this.#observer.observe({ entryTypes: ['gc'] });
  }

  dispose(): void {
    this.#observer.disconnect();
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * V8's committed old generation: its heap less the young generation.
   * node:v8 is loaded here, when the trimmer is made, once the daemon serves.
   */
  #oldGeneration(): number {
    let size = 0;
    for (const space of process.getBuiltinModule('node:v8').getHeapSpaceStatistics()) {
      if (!space.space_name.startsWith('new_')) size += space.space_size;
    }
    return size;
  }

  /** Collections ran: reduce and trim once none has run for IDLE_MS, unless the reduction ran them all. */
  #collected(list: PerformanceObserverEntryList): void {
    const own = (startTime: number) => startTime >= this.#reductionStart && startTime <= this.#reductionEnd;
    if (list.getEntries().every((entry) => own(entry.startTime))) return;
    if (this.#timer !== undefined) {
      this.#timer.refresh();
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#quiet();
    }, IDLE_MS).unref();
  }

  #quiet(): void {
    const size = this.#oldGeneration();
    if (size - this.#reducedSize >= REDUCE_GROWTH_BYTES) {
      this.#reductionStart = performance.now();
      reduceHeap();
      this.#reductionEnd = performance.now();
      this.#reducedSize = this.#oldGeneration();
    }
    trimHeap();
  }
}
