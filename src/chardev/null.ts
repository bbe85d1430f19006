import { Chardev } from './chardev.js';

/**
 * Discards output and has no input (chardev/char-null.c). Like QEMU's it
 * never reports itself open.
 */
export class NullChardev extends Chardev {
  readonly kind = 'null';

  get filename(): string {
    return 'null';
  }

  async open(): Promise<void> {}

  protected writeToBackend(): boolean {
    return true;
  }

  protected async closeBackend(): Promise<void> {}
}
