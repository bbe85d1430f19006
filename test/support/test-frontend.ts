import type { Chardev, ChardevEvent, ChardevFrontend } from '../../src/chardev/chardev.js';
import { ByteCollector } from './peer-process.js';

const WAIT_MS = 5_000;

/**
 * A frontend for tests (QEMU's test-char.c uses one the same way): records
 * input and events, takes as much input as `capacity` allows, and lets a
 * test wait, with a bound, until something arrives.
 */
export class TestFrontend implements ChardevFrontend {
  readonly events: ChardevEvent[] = [];
  readonly #input = new ByteCollector();
  /** Room left for input; receiving uses it up, as a real frontend's buffer fills. */
  capacity = Number.MAX_SAFE_INTEGER;
  frontendOpen = true;
  drains = 0;
  #wake: (() => void) | undefined;

  receiveCapacity(): number {
    return this.capacity;
  }

  receive(data: Buffer): void {
    if (data.length > this.capacity) throw new Error(`got ${data.length} bytes with room for ${this.capacity}`);
    this.capacity -= data.length;
    this.#input.push(Buffer.from(data));
    this.#wake?.();
  }

  event(event: ChardevEvent): void {
    this.events.push(event);
    this.#wake?.();
  }

  drain(): void {
    this.drains++;
    this.#wake?.();
  }

  /** Set by a test to make the frontend accept (true) or refuse (false) chardev-change. */
  changeBackend: ((chardev: Chardev) => boolean) | undefined;

  /** The input so far. */
  get input(): Buffer {
    return this.#input.bytes;
  }

  /** The input so far as Latin-1 text. */
  get text(): string {
    return this.input.toString('latin1');
  }

  /** Waits until `done()` holds; fails after a bound with `what` in the message. */
  async until(done: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; input ${JSON.stringify(this.text.slice(-80))}, events ${this.events.join(',')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 50));
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}
