import type { Socket } from 'node:net';
import { sendTextWithFds } from './fd-send.js';

/** A request waiting to be written; one with descriptors goes in a sendmsg of its own. */
export interface OutgoingRequest {
  readonly id: number;
  readonly command: string;
  readonly text: string;
  readonly fds: readonly number[];
}

/**
 * The requests of one connection not written yet, written in order:
 * those of one tick together on the next tick (one system call, not one
 * per command), and one with descriptors alone, once every request before
 * it is answered. The kernel hands descriptors over with whatever bytes
 * one read returns up to the message they came in; with nothing unread
 * before it, they arrive with the request they belong to, which the
 * server gives them to.
 */
export class RequestOutbox {
  readonly #queue: OutgoingRequest[] = [];
  #sending = false;
  #closed = false;
  /** Requests queued or written and not answered yet. */
  readonly #unanswered = new Set<number>();
  /** A request with descriptors waiting for those before it. */
  #waiter: { readonly before: number; readonly resolve: () => void } | undefined;

  constructor(
    private readonly socket: Socket,
    /** A request with descriptors could not be sent: its call fails with `error`. */
    private readonly failed: (id: number, error: Error) => void,
  ) {}

  push(request: OutgoingRequest): void {
    this.#unanswered.add(request.id);
    if (this.#queue.length === 0 && !this.#sending) process.nextTick(() => void this.#flush());
    this.#queue.push(request);
  }

  /** Request `id` was answered (or its call gave up on it). */
  answered(id: number): void {
    this.#unanswered.delete(id);
    const waiter = this.#waiter;
    if (waiter !== undefined && !this.#waitsFor(waiter.before)) {
      this.#waiter = undefined;
      waiter.resolve();
    }
  }

  /** The connection is gone: nothing more is written. */
  close(): void {
    this.#closed = true;
    this.#queue.length = 0;
    this.#waiter?.resolve();
    this.#waiter = undefined;
  }

  #waitsFor(before: number): boolean {
    for (const id of this.#unanswered) if (id < before) return true;
    return false;
  }

  async #flush(): Promise<void> {
    if (this.#sending) return;
    this.#sending = true;
    try {
      while (!this.#closed && this.#queue.length > 0) {
        const next = this.#queue[0]!;
        if (next.fds.length === 0) {
          const plain = this.#queue.findIndex((request) => request.fds.length > 0);
          const batch = this.#queue.splice(0, plain < 0 ? this.#queue.length : plain);
          this.socket.write(batch.map((request) => request.text).join(''));
          continue;
        }
        if (this.#waitsFor(next.id)) await new Promise<void>((resolve) => (this.#waiter = { before: next.id, resolve }));
        if (this.#closed) return;
        this.#queue.shift();
        try {
          await sendTextWithFds(this.socket, next.text, next.fds);
        } catch (error: unknown) {
          this.failed(next.id, new Error(`${next.command}: descriptors not sent: ${(error as Error).message}`, { cause: error }));
        }
      }
    } finally {
      this.#sending = false;
    }
  }
}
