import type { ChardevBackend } from '../generated/qapi-types.gen.js';
import type { Chardev, ChardevContext, MonitorDescriptors } from './chardev.js';
import { ChardevError } from './chardev-error.js';
import { createChardev } from './create.js';
import { MuxChardev } from './mux.js';

/**
 * Every chardev by id (QEMU's /chardevs container) and the operations
 * behind chardev-add, chardev-change and chardev-remove, with QEMU's
 * order of checks and texts (chardev/char.c qmp_chardev_*).
 *
 * Opening a backend can take time (a server with wait=on holds until a
 * client comes), and other connections keep running meanwhile, so an id
 * is reserved before its backend opens: a second add of the same id gets
 * the duplicate error even while the first is still opening.
 */
export class ChardevRegistry {
  readonly #chardevs = new Map<string, Chardev>();
  readonly #pending = new Set<string>();
  #muxesOpened = true;
  readonly context: ChardevContext;

  constructor(context: ChardevContext) {
    this.context = { ...context, find: (id) => this.#chardevs.get(id) };
  }

  get(id: string): Chardev | undefined {
    return this.#chardevs.get(id);
  }

  /** Every chardev, in creation order. */
  list(): Chardev[] {
    return [...this.#chardevs.values()];
  }

  /**
   * chardev-add: creates, opens and registers a chardev. `monitor` is the
   * monitor connection whose command it is (its getfd names are what a
   * socket's fd address means); undefined on the command line.
   */
  async add(id: string, backend: ChardevBackend, monitor?: MonitorDescriptors): Promise<Chardev> {
    if (this.#chardevs.has(id) || this.#pending.has(id)) throw new ChardevError(`Chardev with id '${id}' already exists`);
    this.#pending.add(id);
    try {
      const chardev = await this.#create(id, backend, monitor).catch((error: unknown) => {
        throw prefixed(`Failed to add chardev '${id}': `, error);
      });
      this.#chardevs.set(id, chardev);
      return chardev;
    } finally {
      this.#pending.delete(id);
    }
  }

  #create(id: string, backend: ChardevBackend, monitor: MonitorDescriptors | undefined): Promise<Chardev> {
    return createChardev(id, backend, { ...this.context, muxesOpened: this.#muxesOpened, monitor });
  }

  /**
   * `-chardev ...,mux=on` and HMP `chardev-add ...,mux=on`: the backend
   * as `ID-base` and a mux `ID` on top of it (chardev/char.c
   * qemu_chr_new_from_opts); when the mux fails the base goes again.
   * Errors carry QEMU's text without QMP's "Failed to add chardev" prefix,
   * as those entry points print them, and a taken id is worded as
   * QEMU's object tree words it.
   */
  async addMuxed(id: string, backend: ChardevBackend, monitor?: MonitorDescriptors): Promise<MuxChardev> {
    const baseId = `${id}-base`;
    for (const taken of [baseId, id]) {
      if (this.#chardevs.has(taken) || this.#pending.has(taken)) {
        throw new ChardevError(`attempt to add duplicate property '${taken}' to object (type 'container')`);
      }
    }
    this.#pending.add(baseId);
    this.#pending.add(id);
    try {
      const base = await this.#create(baseId, backend, monitor);
      this.#chardevs.set(baseId, base);
      let mux: Chardev;
      try {
        mux = await this.#create(id, { type: 'mux', data: { chardev: baseId } }, monitor);
      } catch (error: unknown) {
        this.#chardevs.delete(baseId);
        await base.close();
        throw error;
      }
      this.#chardevs.set(id, mux);
      return mux as MuxChardev;
    } finally {
      this.#pending.delete(baseId);
      this.#pending.delete(id);
    }
  }

  /**
   * Holds back the `opened` event of muxes created from now on, until
   * resumeMuxOpen(): QEMU does this while it processes its command line,
   * so that only the frontend that ends up with the focus prints a
   * banner or prompt (suspend_mux_open).
   */
  suspendMuxOpen(): void {
    this.#muxesOpened = false;
  }

  /** Sends the held `opened` to every frontend of every mux created meanwhile (resume_mux_open). */
  resumeMuxOpen(): void {
    this.#muxesOpened = true;
    for (const chardev of this.#chardevs.values()) if (chardev instanceof MuxChardev) chardev.openMux();
  }

  /**
   * chardev-change: gives the chardev a new backend. A frontend stays
   * attached, moved to the new chardev; if it refuses the move the old
   * backend stays. Without a frontend QEMU removes the old chardev first
   * and then adds the new one, so the id can be reused by the new
   * backend (a server on the same port); chardevd does the same.
   */
  async change(id: string, backend: ChardevBackend, monitor?: MonitorDescriptors): Promise<Chardev> {
    const old = this.#chardevs.get(id);
    if (old === undefined || this.#pending.has(id)) throw new ChardevError(`Chardev '${id}' does not exist`);
    if (old.hotswapRefusal !== undefined) throw new ChardevError(old.hotswapRefusal);
    const frontend = old.frontend;
    if (frontend === undefined) {
      this.#chardevs.delete(id);
      await old.close();
      return this.add(id, backend, monitor);
    }
    if (frontend.changeBackend === undefined) throw new ChardevError('Chardev user does not support chardev hotswap');
    this.#pending.add(id);
    try {
      const replacement = await this.#create(id, backend, monitor);
      const closedSent = old.isOpen && !replacement.isOpen;
      if (closedSent) frontend.event('closed');
      old.detach(frontend);
      replacement.attach(frontend);
      if (!frontend.changeBackend(replacement)) {
        replacement.detach(frontend);
        old.attach(frontend);
        await replacement.close();
        throw new ChardevError(`Chardev '${id}' change failed`);
      }
      this.#chardevs.set(id, replacement);
      await old.close();
      return replacement;
    } finally {
      this.#pending.delete(id);
    }
  }

  /** chardev-remove. */
  async remove(id: string): Promise<void> {
    const chardev = this.#find(id);
    if (chardev.busy) throw new ChardevError(`Chardev '${id}' is busy`);
    this.#chardevs.delete(id);
    await chardev.close();
  }

  /** chardev-send-break. */
  sendBreak(id: string): void {
    this.#find(id).sendBreak();
  }

  #find(id: string): Chardev {
    const chardev = this.#chardevs.get(id);
    if (chardev === undefined) throw new ChardevError(`Chardev '${id}' not found`);
    return chardev;
  }

  /** Closes every chardev (daemon shutdown), frontends first detached. */
  async closeAll(): Promise<void> {
    const all = [...this.#chardevs.values()];
    this.#chardevs.clear();
    for (const chardev of all) {
      const frontend = chardev.frontend;
      if (frontend !== undefined) chardev.detach(frontend);
    }
    // Hubs first (closesFirst), so that they let go of their members before those close.
    all.sort((a, b) => Number(b.closesFirst) - Number(a.closesFirst));
    await Promise.allSettled(all.map((chardev) => chardev.close()));
  }
}

function prefixed(prefix: string, error: unknown): unknown {
  return error instanceof ChardevError ? new ChardevError(prefix + error.message) : error;
}
