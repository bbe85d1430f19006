import type { ChardevBackend, ChardevBackendKind } from '../generated/qapi-types.gen.js';
import type { Chardev, ChardevContext } from './chardev.js';
import type { ChardevOptionType, ChardevOpts } from './chardev-opts.js';

type BackendByKind = { [B in ChardevBackend as B['type']]: B };

/** The QAPI ChardevBackend of the kinds K: `{ type, data }` with K's data type. */
export type ChardevBackendOf<K extends ChardevBackendKind> = BackendByKind[K];

/**
 * What one backend is, for the parts of chardevd that handle every kind
 * alike: `-chardev` parsing (options.ts), creation (create.ts) and the
 * listings. What a chardev of the kind does once created is its class's
 * business, including the facts other chardevs ask of it (Chardev's
 * `losslessSink`, `multiplexer`, `hotswapRefusal`, `closesFirst`).
 */
interface BackendBase<K extends ChardevBackendKind> {
  /** The QAPI kinds (ChardevBackendKind) it handles, its own name first; QEMU's `memory` is a ringbuf under another name. */
  readonly kinds: readonly [K, ...K[]];
  /**
   * The `-chardev` backend names it answers to, which `-chardev help`
   * lists: QEMU 7.2's chardev classes of its Linux build. All of `kinds`
   * when not given; none for a kind QEMU on Linux does not know.
   */
  readonly drivers?: readonly K[];
  /**
   * Deprecated `-chardev` names for it (chardev/char.c chardev_alias_table):
   * QEMU warns, then reads them as the first of `kinds`.
   */
  readonly aliases?: readonly string[];
  /**
   * The `-chardev` options it reads beyond the common ones, with their
   * types. QEMU checks every option against one list for all backends
   * (qemu_chardev_opts), so every backend accepts what any one declares
   * and ignores what it does not read; two backends that read the same
   * name must give it the same type.
   */
  readonly options?: Readonly<Record<string, ChardevOptionType>>;
  /** Values that options it declares have when absent (QemuOptDesc def_value_str). */
  readonly optionDefaults?: Readonly<Record<string, string>>;
  /** Options beyond `options` that it takes without listing them in `-chardev BACKEND,help`, by name pattern. */
  optionType?(name: string): ChardevOptionType | undefined;
  /**
   * The backend's `parse` function of QEMU 7.2 (qemu_chr_parse_common
   * alone for a backend without one): the `-chardev` options read into
   * the QAPI object chardev-add takes, refusing with QEMU's texts
   * (`opts.fail`) what QEMU's parse refuses. What QEMU's open refuses is
   * left to the chardev, as it is for chardev-add.
   */
  parse(kind: K, opts: ChardevOpts): ChardevBackendOf<K>;
}

/** A backend chardevd creates. */
export interface CreatableBackend<K extends ChardevBackendKind> extends BackendBase<K> {
  /**
   * The chardev for a QAPI backend description, not yet open; throws
   * ChardevError with QEMU's text for what QEMU refuses before opening.
   */
  create(id: string, backend: ChardevBackendOf<K>, context: ChardevContext): Chardev;
  /** Whether query-chardev-backends and the daemon's `-chardev help` name it; true when not given. */
  readonly listed?: boolean;
}

/** A kind QEMU has and chardevd does not create: it parses, so that every QEMU request does, and creating it fails with the reason. */
export interface UnsupportedBackend<K extends ChardevBackendKind> extends BackendBase<K> {
  /** Why, after QEMU's "'KIND' is not a valid char driver name: ". */
  readonly unsupported: string;
}

export type ChardevBackendDefinition<K extends ChardevBackendKind = ChardevBackendKind> = CreatableBackend<K> | UnsupportedBackend<K>;
