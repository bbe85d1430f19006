import type { ChardevBackendDefinition } from './backend-definition.js';
import { Chardev } from './chardev.js';
import { parseCommon } from './chardev-opts.js';

/**
 * Discards output and has no input (chardev/char-null.c). Like QEMU's it
 * never reports itself open.
 */
export class NullChardev extends Chardev {
  readonly kind = 'null';
  /** It discards by design: nothing it is given is lost. */
  override readonly losslessSink = true;

  get filename(): string {
    return 'null';
  }

  async open(): Promise<void> {}

  protected writeToBackend(): boolean {
    return true;
  }

  protected async closeBackend(): Promise<void> {}
}

/** `-chardev null` (chardev/char-null.c): no options of its own. */
export const nullBackend: ChardevBackendDefinition<'null'> = {
  kinds: ['null'],
  parse: (kind, opts) => ({ type: kind, data: parseCommon(opts) }),
  create: (id) => new NullChardev(id),
};
