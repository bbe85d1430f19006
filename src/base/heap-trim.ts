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

/** Quiet after the last garbage collection before the heap is trimmed. */
const IDLE_MS = 200;

/**
 * Trims the C allocator's heap once the process has gone quiet after
 * garbage collections, as QEMU's RCU thread calls malloc_trim() each time
 * it runs out of work (util/rcu.c, call_rcu_thread, CONFIG_MALLOC_TRIM).
 * Buffers (a read, a decoded ringbuf-write) are malloc'd and freed only
 * when the collector finds them dead, many at once; glibc keeps the pages
 * they leave free inside its heap, so a daemon that handled a burst of
 * large requests would stay that much larger for good. A trim takes a few
 * milliseconds and runs at most once per quiet spell, never per read.
 */
export class HeapTrimmer implements Disposable {
  // node:perf_hooks is loaded here, not when the daemon's modules load.
  readonly #observer = new (process.getBuiltinModule('node:perf_hooks').PerformanceObserver)(() => this.#collected());
  #timer: NodeJS.Timeout | undefined;

  constructor() {
    this.#observer.observe({ entryTypes: ['gc'] });
  }

  dispose(): void {
    this.#observer.disconnect();
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** A collection ran: trim once none has run for IDLE_MS. */
  #collected(): void {
    if (this.#timer !== undefined) {
      this.#timer.refresh();
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      trimHeap();
    }, IDLE_MS).unref();
  }
}
