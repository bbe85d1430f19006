import { closeFds, descriptorFlags, duplicateWithFlags } from '../base/fd-passing.js';
import type { FdsetSource } from '../chardev/path-opener.js';
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
export class FdSets implements FdsetSource {
  /** By ascending id, as QEMU keeps them. */
  readonly #sets: FdSet[] = [];

  constructor(
    /** How many monitors are connected now, for the cleanup after a duplicate is closed. */
    private readonly monitorsConnected: () => number,
  ) {}

  /**
   * Opening /dev/fdset/`id` with `flags` (monitor_fdset_dup_fd_add, QEMU
   * 7.2): a duplicate of the newest descriptor of the set whose access
   * mode matches, with the status flags of `flags`. Throws an errno error:
   * ENOENT without the set, EACCES when no access mode matches (what QEMU
   * 7.2 reports), or dup's own.
   */
  duplicate(id: number, flags: number): number {
    const set = this.#sets.find((s) => s.id === id);
    if (set === undefined) throw errnoError('ENOENT');
    // QEMU adds at the head of the list and searches from there: the newest first.
    const match = [...set.fds].reverse().find((entry) => (descriptorFlags(entry.fd) & ACCESS_MODE) === (flags & ACCESS_MODE));
    if (match === undefined) throw errnoError('EACCES');
    const fd = duplicateWithFlags(match.fd, flags);
    set.users++;
    return fd;
  }

  /** A duplicate of set `id` was closed (monitor_fdset_dup_fd_remove): the last one lets the set be cleaned. */
  released(id: number): void {
    const set = this.#sets.find((s) => s.id === id);
    if (set === undefined || set.users === 0) return;
    set.users--;
    if (set.users === 0) this.#cleanup(set, this.monitorsConnected());
  }

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

/** O_ACCMODE. */
const ACCESS_MODE = 3;

function errnoError(code: string): Error {
  return Object.assign(new Error(code), { code });
}
