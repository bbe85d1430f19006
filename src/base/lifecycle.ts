/** Something that holds a resource and releases it once. */
export interface Disposable {
  dispose(): void;
}

/**
 * Owns disposables and releases them together, newest first (xterm.js's
 * DisposableStore): what a connection or a chardev creates is registered
 * here so that closing the owner cannot forget any of it.
 */
export class DisposableStore implements Disposable {
  readonly #items: Disposable[] = [];
  #disposed = false;

  /** Registers `item`; if the store is already disposed, releases it at once. */
  add<T extends Disposable>(item: T): T {
    if (this.#disposed) item.dispose();
    else this.#items.push(item);
    return item;
  }

  /** Releases `item` now and forgets it. */
  delete(item: Disposable): void {
    const index = this.#items.indexOf(item);
    if (index >= 0) this.#items.splice(index, 1);
    item.dispose();
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    const errors: unknown[] = [];
    for (const item of this.#items.splice(0).reverse()) {
      try {
        item.dispose();
      } catch (error: unknown) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'some resources failed to release');
  }
}
