import type { JsonObject } from '../qobject/json-value.js';

/** An event as the server sent it. */
export interface QmpEventMessage {
  readonly event: string;
  readonly data?: JsonObject;
  readonly timestamp: { readonly seconds: number; readonly microseconds: number };
}

export interface EventSubscriptionOptions {
  /** Only these events (all when absent). */
  readonly names?: readonly string[];
  /** Events kept for a reader that lags; when full, the oldest is dropped and counted. Default 1024. */
  readonly limit?: number;
  /** Told once per overflow episode (the queue became full while it had been draining). */
  readonly onOverflow?: (dropped: number) => void;
}

export const DEFAULT_EVENT_QUEUE_LIMIT = 1024;

/**
 * A subscriber's view of the event stream: `for await` over it, or
 * `next()`. Its queue is bounded so that a reader who stops reading costs
 * bounded memory and never delays replies or other subscribers (the go-qemu
 * and govmm deadlocks came from one shared blocking channel): when full,
 * the oldest event is dropped and counted in `dropped`, and `onOverflow`
 * is told. Connection gaps (a reconnect) are counted in `gaps`: events the
 * server sent while no connection was up are lost.
 */
export class EventSubscription<E = QmpEventMessage> implements AsyncIterable<E> {
  #queue: E[] = [];
  #head = 0;
  #waiter: ((result: IteratorResult<E>) => void) | undefined;
  #ended = false;
  #overflowing = false;
  readonly #names: ReadonlySet<string> | undefined;
  readonly #limit: number;
  readonly #onOverflow: ((dropped: number) => void) | undefined;
  /** Events discarded because the queue was full. */
  dropped = 0;
  /** Connection losses while subscribed, each a window of missed events. */
  gaps = 0;

  constructor(
    options: EventSubscriptionOptions,
    private readonly onClose: (subscription: EventSubscription<E>) => void,
  ) {
    this.#names = options.names !== undefined ? new Set(options.names) : undefined;
    this.#limit = Math.max(1, options.limit ?? DEFAULT_EVENT_QUEUE_LIMIT);
    this.#onOverflow = options.onOverflow;
  }

  /** Events waiting to be read. */
  get queued(): number {
    return this.#queue.length - this.#head;
  }

  /** Whether the subscription still delivers. */
  get closed(): boolean {
    return this.#ended;
  }

  /** @internal Called by the client for every event. */
  push(message: QmpEventMessage): void {
    if (this.#ended || (this.#names !== undefined && !this.#names.has(message.event))) return;
    // The name filter is what makes the narrower type true.
    const event = message as unknown as E;
    if (this.#waiter !== undefined) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter({ value: event, done: false });
      return;
    }
    if (this.queued >= this.#limit) {
      this.#head++;
      this.dropped++;
      if (!this.#overflowing) {
        this.#overflowing = true;
        this.#onOverflow?.(this.dropped);
      }
    }
    this.#queue.push(event);
    // Compact now and then instead of shift()ing every event.
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  /** @internal Called by the client when the connection broke and it reconnects. */
  gap(): void {
    if (!this.#ended) this.gaps++;
  }

  /** Ends the iteration (also when the client closes for good). */
  close(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.onClose(this);
    if (this.#waiter !== undefined) this.#waiter({ value: undefined, done: true });
    this.#waiter = undefined;
  }

  /** The next event, or undefined when the subscription ended. */
  async next(): Promise<E | undefined> {
    const result = await this.#next();
    return result.done ? undefined : result.value;
  }

  #next(): Promise<IteratorResult<E>> {
    if (this.queued > 0) {
      const event = this.#queue[this.#head]!;
      this.#head++;
      if (this.queued === 0) {
        this.#queue = [];
        this.#head = 0;
        this.#overflowing = false;
      }
      return Promise.resolve({ value: event, done: false });
    }
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<E> {
    return {
      next: () => this.#next(),
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
