import type { Disposable } from '../base/lifecycle.js';

/** Subscribes a listener to an ongoing happening; dispose() unsubscribes (node-pty's IEvent). */
export type QmpSignal<T> = (listener: (value: T) => void) => Disposable;

/** The firing side of a QmpSignal. A throwing listener does not keep the others from hearing. */
export class SignalSource<T> {
  readonly #listeners = new Set<(value: T) => void>();

  readonly signal: QmpSignal<T> = (listener) => {
    this.#listeners.add(listener);
    return { dispose: () => this.#listeners.delete(listener) };
  };

  fire(value: T): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(value);
      } catch (error: unknown) {
        // A listener's bug must not break the client's bookkeeping; surface it like an unhandled error.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
