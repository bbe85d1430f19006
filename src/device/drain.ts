import type { Chardev } from '../chardev/chardev.js';
import type { LinkDevice } from './link.js';

/**
 * The most a graceful stop (SIGTERM, SIGINT, quit) waits for the links to
 * read what their sources had sent and for lossless sinks to write it.
 * A source that goes on sending, or a sink that cannot write, does not
 * hold the stop up longer.
 */
export const STOP_DRAIN_TIMEOUT_MS = 2000;

/** How long nothing may move for the links to count as drained. */
export const DRAIN_QUIET_MS = 20;

/**
 * Waits until the links have moved everything their sources had sent:
 * no byte arrived for DRAIN_QUIET_MS while no link held input back and
 * no lossless sink had output left to write (a source is read whenever
 * its link has room, so a quiet link means an empty kernel buffer).
 * Resolves false when `timeoutMs` passed first.
 */
export async function drainLinks(links: readonly LinkDevice[], chardevs: readonly Chardev[], timeoutMs = STOP_DRAIN_TIMEOUT_MS): Promise<boolean> {
  const { setImmediate: nextPoll, setTimeout: sleep } = process.getBuiltinModule('node:timers/promises');
  const deadline = Date.now() + timeoutMs;
  let last: number | undefined;
  for (;;) {
    const received = links.reduce((sum, link) => sum + link.received, 0);
    const still = received === last || links.length === 0;
    if (still && !links.some((link) => link.busy) && chardevs.every((chardev) => chardev.outputBacklog === 0)) return true;
    if (Date.now() >= deadline) return false;
    last = received;
    await sleep(DRAIN_QUIET_MS);
    // A timer runs before the event loop polls for I/O: let it poll, so that bytes that came meanwhile are read before the next look.
    await nextPoll();
  }
}
