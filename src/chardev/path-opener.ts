import * as fs from 'node:fs';
import { ChardevError, describeSystemError } from './chardev-error.js';

/** The fd sets of add-fd, as a chardev opening /dev/fdset/N sees them. */
export interface FdsetSource {
  /** A duplicate of a descriptor of set `id` whose access mode matches `flags`; throws an errno error (`code`). */
  duplicate(id: number, flags: number): number;
  /** A duplicate of set `id` was closed. */
  released(id: number): void;
}

const FDSET_PREFIX = '/dev/fdset/';

/**
 * Opens a chardev's paths as QEMU's qemu_open does (util/osdep.c): a path
 * `/dev/fdset/N` is no file but a duplicate of a descriptor of fd set N
 * (add-fd) whose access mode matches the open's flags; any other path is
 * opened. The opener remembers the duplicates it handed out, and
 * `release()`, once the chardev closed them, tells the fd sets.
 */
export class PathOpener {
  /** The set of each duplicate handed out. */
  readonly #held: number[] = [];

  constructor(private readonly fdsets: FdsetSource | undefined) {}

  /** The descriptor for `path`; throws the errno error of open() or of the fd set. */
  open(path: string, flags: number, mode = 0o666): number {
    if (!path.startsWith(FDSET_PREFIX)) return fs.openSync(path, flags, mode);
    const id = parseFdsetId(path.slice(FDSET_PREFIX.length));
    if (id === undefined) throw Object.assign(new Error(`Could not parse fdset ${path}`), { code: 'EINVAL' });
    // No fd sets at all (a chardev made outside a daemon): as QEMU's search of an empty list.
    if (this.fdsets === undefined) throw Object.assign(new Error(`no fd set ${id}`), { code: 'ENOENT' });
    const fd = this.fdsets.duplicate(id, flags);
    this.#held.push(id);
    return fd;
  }

  /** Opens `path` or throws QEMU's text for a file that cannot be opened (error_setg_file_open). */
  openOrThrow(path: string, flags: number): number {
    try {
      return this.open(path, flags);
    } catch (error: unknown) {
      throw new ChardevError(`Could not open '${path}': ${describeSystemError(error)}`);
    }
  }

  /** Whether `path` names an fd set rather than a file. */
  static isFdset(path: string): boolean {
    return path.startsWith(FDSET_PREFIX);
  }

  /** The duplicates handed out are closed: the fd sets may clean up. */
  release(): void {
    for (const id of this.#held.splice(0)) this.fdsets?.released(id);
  }
}

/**
 * QEMU's qemu_parse_fd: strtol in base 10 (white space and a sign may
 * lead, nothing may follow), not negative, at most INT_MAX.
 */
function parseFdsetId(text: string): number | undefined {
  if (!/^[ \t\n\v\f\r]*[+-]?[0-9]+$/.test(text)) return undefined;
  const value = BigInt(text.trim());
  return value < 0n || value > 0x7fffffffn ? undefined : Number(value);
}
