import { closeFds } from '../base/fd-passing.js';
import type { AddfdInfo, FdsetInfo } from '../generated/qapi-types.gen.js';

interface SetFd {
  readonly fd: number;
  readonly opaque: string | undefined;
  removed: boolean;
}

interface FdSet {
  readonly id: number;
  /** Oldest first. */
  readonly fds: SetFd[];
  /** Duplicates handed out through /dev/fdset/N and not yet closed (QEMU's dup_fds). */
  users: number;
}

/**
 * The descriptor sets of add-fd, shared by every connection, with QEMU
 * 7.2's rules (monitor/misc.c, monitor_fdset_cleanup): a removed
 * descriptor is closed at once; when no monitor is connected, every
 * descriptor of a set nobody opened is closed; a set without descriptors
 * and users is gone.
 */
export class FdSets {
  /** By ascending id, as QEMU keeps them. */
  readonly #sets: FdSet[] = [];

  /**
   * Adds `fd` to the set `id`, made if missing, or to a new set with the
   * lowest unused id; undefined (and `fd` untouched) when `id` is negative.
   */
  add(fd: number, id: number | undefined, opaque: string | undefined): AddfdInfo | undefined {
    let set = id === undefined ? undefined : this.#sets.find((s) => s.id === id);
    if (set === undefined) {
      if (id !== undefined && id < 0) return undefined;
      let newId = id;
      if (newId === undefined) {
        newId = 0;
        for (const s of this.#sets) {
          if (s.id !== newId) break;
          newId++;
        }
      }
      set = { id: newId, fds: [], users: 0 };
      const at = this.#sets.findIndex((s) => s.id > set!.id);
      this.#sets.splice(at < 0 ? this.#sets.length : at, 0, set);
    }
    set.fds.push({ fd, opaque, removed: false });
    return { 'fdset-id': set.id, fd };
  }

  /** Removes one descriptor of set `id`, or all of them; false when the set or the descriptor is not there. */
  remove(id: number, fd: number | undefined, monitorsConnected: number): boolean {
    const set = this.#sets.find((s) => s.id === id);
    if (set === undefined) return false;
    if (fd === undefined) {
      for (const entry of set.fds) entry.removed = true;
    } else {
      const entry = set.fds.find((e) => e.fd === fd);
      if (entry === undefined) return false;
      entry.removed = true;
    }
    this.#cleanup(set, monitorsConnected);
    return true;
  }

  /** query-fdsets: the highest id first, each set's descriptors oldest first (QEMU prepends while walking both lists). */
  list(): FdsetInfo[] {
    return [...this.#sets].reverse().map((set) => ({
      'fdset-id': set.id,
      fds: set.fds.map(({ fd, opaque }) => (opaque === undefined ? { fd } : { fd, opaque })),
    }));
  }

  /** A monitor connection ended (monitor_fdsets_cleanup); `monitorsConnected` are those left. */
  monitorGone(monitorsConnected: number): void {
    for (const set of [...this.#sets]) this.#cleanup(set, monitorsConnected);
  }

  /** How many descriptors the sets hold. */
  get count(): number {
    return this.#sets.reduce((n, set) => n + set.fds.length, 0);
  }

  #cleanup(set: FdSet, monitorsConnected: number): void {
    const closing = set.fds.filter((e) => e.removed || (set.users === 0 && monitorsConnected === 0));
    closeFds(closing.map((e) => e.fd));
    set.fds.splice(0, set.fds.length, ...set.fds.filter((e) => !closing.includes(e)));
    if (set.fds.length === 0 && set.users === 0) this.#sets.splice(this.#sets.indexOf(set), 1);
  }
}
