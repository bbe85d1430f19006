import type { ChardevBackend, ChardevBackendKind } from '../generated/qapi-types.gen.js';
import { ID_ERROR, ID_HINT, isWellFormedId } from '../options/qemu-opts.js';
import { backendOfKind, CHARDEV_BACKENDS } from './backends.js';
import { ChardevOpts } from './chardev-opts.js';
import { ChardevHelpRequest, ChardevOptionError } from './option-error.js';
import { nextToken, scanId, shortFormWarning } from './option-syntax.js';
import { OPTION_DEFAULTS, OPTION_TYPES, validateOption } from './option-table.js';

/**
 * The `-chardev` option syntax of QEMU 7.2, read into the same QAPI
 * ChardevBackend that QMP chardev-add takes, so that creating the chardev
 * afterwards gives QEMU's answers for both paths.
 *
 * QEMU handles `-chardev TEXT` in two steps, and the errors come in that
 * order:
 *  1. while reading the command line (util/qemu-option.c opts_parse): the
 *     id is checked, then every option in turn against the option list
 *     `qemu_chardev_opts` (unknown names, booleans, numbers, sizes);
 *  2. when the chardevs are created (chardev/char.c qemu_chr_new_from_opts):
 *     help, the missing id, the missing or unknown backend, then the
 *     backend's own `parse` function, which builds the QAPI object.
 * What the backend's `open` refuses (a ringbuf size that is not a power of
 * two, a socket `wait` on a client, ...) is not checked here: the object is
 * returned exactly as QEMU's parse builds it, and the chardev layer refuses
 * it with QEMU's text, as it does for chardev-add.
 */

export interface ParsedChardevOption {
  readonly id: string;
  readonly backend: ChardevBackend;
  /**
   * `mux=on`: QEMU creates the backend with id `ID-base` and a mux chardev
   * `ID` on top of it (qemu_chr_new_from_opts).
   */
  readonly mux: boolean;
  /**
   * Deprecation warnings QEMU prints for the text, in its order and words,
   * each starting with "warning: " as QEMU prints it after the location
   * prefix; a second line ("Please use ...") follows a newline.
   */
  readonly warnings: string[];
}

export interface ParseChardevOptionSettings {
  /**
   * QEMU prints an alias's deprecation warning once per process
   * (chardev_alias_table's deprecation_warning_printed). Pass the same set
   * to every call to get that; the aliases already warned about are kept in it.
   */
  readonly warnedAliases?: Set<string>;
}

/**
 * The backend names Debian's QEMU 7.2 finds a `chardev-NAME` class for,
 * modules included (braille, spicevmc, spiceport and dbus are loadable
 * modules there), in the backends' order.
 */
const DRIVERS: readonly ChardevBackendKind[] = CHARDEV_BACKENDS.flatMap((backend) => backend.drivers ?? backend.kinds);

/** Deprecated backend names (chardev/char.c chardev_alias_table, Linux build) and the backend each stands for. */
const ALIASES: ReadonlyMap<string, ChardevBackendKind> = new Map(
  CHARDEV_BACKENDS.flatMap((backend) => (backend.aliases ?? []).map((alias) => [alias, backend.kinds[0]] as const)),
);

/** Abstract chardev classes: QEMU names them but cannot create them (char_get_class). */
const ABSTRACT_DRIVERS: ReadonlySet<string> = new Set(['fd', 'spice']);

const ID_ERROR_WITH_HINT = `${ID_ERROR}\n${ID_HINT}`;

/** QEMU's help listing for `-chardev help`, given the backend names to list. */
export function chardevBackendHelp(kinds: readonly string[]): string {
  return `Available chardev backend types: ${kinds.map((kind) => `\n  ${kind}`).join('')}`;
}

/**
 * QEMU's listing for `-chardev BACKEND,help` (qemu_opts_print_help): every
 * option with its type, sorted by the printed line; chardevd's extensions
 * are listed too, since chardevd accepts them.
 */
export function chardevOptionsHelp(): string {
  const typeText = { str: 'str', bool: 'bool (on/off)', num: 'num', size: 'size' } as const;
  const lines = [...OPTION_TYPES].map(([name, type]) => `  ${name}=<${typeText[type]}>`);
  lines.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return ['chardev options:', ...lines].join('\n');
}

/** Parses one `-chardev` value; throws ChardevOptionError with QEMU's text where QEMU refuses it. */
export function parseChardevOption(text: string, settings: ParseChardevOptionSettings = {}): ParsedChardevOption {
  const warnings: string[] = [];
  const fail = (message: string): ChardevOptionError => new ChardevOptionError(message, [...warnings]);

  // Step 1: the command line (opts_parse). The id is looked up first, with
  // the plain tokenizer (no implied backend name, so `ringbuf,,id=a` has id
  // "a" although the backend then swallows ",id=a"); the first `id` wins.
  const id = scanId(text);
  if (id !== undefined && !isWellFormedId(id)) throw fail(ID_ERROR_WITH_HINT);

  const opts = new ChardevOpts(OPTION_DEFAULTS, warnings);
  let implied: string | undefined = 'backend';
  for (let pos = 0; pos < text.length; ) {
    const token = nextToken(text, pos, implied);
    pos = token.next;
    implied = undefined;
    if (token.shortForm !== undefined) warnings.push(shortFormWarning(token.name, token.value, token.shortForm));
    if (token.help) throw new ChardevHelpRequest('options', chardevOptionsHelp(), [...warnings]);
    // opts_do_parse skips id options: the id is the QemuOpts' own.
    if (token.name === 'id') continue;
    opts.add(validateOption(token.name, token.value, warnings, fail));
  }

  // Step 2: creation (qemu_chr_new_from_opts, qemu_chr_parse_opts).
  let name = opts.get('backend');
  const alias = name === undefined ? undefined : ALIASES.get(name);
  if (name !== undefined && alias !== undefined) {
    if (settings.warnedAliases?.has(name) !== true) {
      warnings.push(`warning: The alias '${name}' is deprecated, use '${alias}' instead`);
      settings.warnedAliases?.add(name);
    }
    name = alias;
  }
  if (name === 'help' || name === '?') throw new ChardevHelpRequest('backends', chardevBackendHelp(DRIVERS), [...warnings]);
  if (id === undefined) throw fail('chardev: no id specified');
  if (name === undefined) throw fail(`chardev: "${id}" missing backend`);
  if (ABSTRACT_DRIVERS.has(name)) {
    // Debian's 7.2 build prints "non-abstract"; the 7.2.0 tarball's text lacks the "non-".
    throw fail("Parameter 'driver' expects a non-abstract device type");
  }
  const kind = DRIVERS.find((driver) => driver === name);
  const backend = kind === undefined ? undefined : backendOfKind(kind);
  if (kind === undefined || backend === undefined) throw fail(`'${name}' is not a valid char driver name`);

  return { id, backend: backend.parse(kind, opts), mux: opts.getBool('mux', false), warnings };
}
