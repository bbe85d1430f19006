import { SUPPORTED_KINDS } from '../chardev/create.js';
import { chardevBackendHelp, ChardevHelpRequest, ChardevOptionError, parseChardevOption } from '../chardev/options.js';
import type { ChardevBackend } from '../generated/qapi-types.gen.js';
import { appendOptions } from '../options/qemu-opts.js';

/**
 * A chardev the daemon creates at startup, before its QMP listeners open
 * (QEMU creates every -chardev before its monitors), and where it was
 * asked for, which prefixes every message about it.
 */
export type StartupChardev = StartupChardevOption | StartupChardevObject;

/** A `-chardev` string, from the command line or a config file. */
export interface StartupChardevOption {
  readonly form: 'option';
  /** What messages start with: `-chardev TEXT`, or `FILE:LINE: chardevs[N] (id 'ID')`. */
  readonly origin: string;
  readonly text: string;
  /** The id checkChardevOption found, if any. */
  readonly id: string | undefined;
  /** How many of the text's warnings checkChardevOption already returned (they are not printed twice). */
  readonly checkedWarnings: number;
}

/** chardev-add's arguments, already validated (a config file's object item). */
export interface StartupChardevObject {
  readonly form: 'object';
  readonly origin: string;
  readonly id: string;
  readonly backend: ChardevBackend;
}

/** What the command-line half of a `-chardev` check found. */
export interface CheckedChardevOption {
  /** The id, or undefined when the text has none (QEMU reports that only when creating the chardev). */
  readonly id: string | undefined;
  /** `mux=on`: the backend becomes `ID-base` under a mux `ID`. */
  readonly mux: boolean;
  /** The warnings QEMU prints while reading the command line, in its words. */
  readonly warnings: readonly string[];
}

export const NO_ID_MESSAGE = 'chardev: no id specified';

/**
 * The part of `-chardev TEXT` that QEMU checks while reading its command
 * line (util/qemu-option.c opts_parse): the id's syntax and every option's
 * name and value. Throws ChardevOptionError for those, and
 * ChardevHelpRequest for `BACKEND,help` (which QEMU answers at that point,
 * exiting 1). What is left (help for the backend list, the missing id or
 * backend, the backend's own options) QEMU checks only when it creates the
 * chardev, after creating the ones before it; resolveStartupChardev does
 * that part, so a bad option and a failing creation come in QEMU's order.
 *
 * parseChardevOption does both steps in one call. To stop after the first,
 * the text is parsed with `backend=null` appended: the last backend option
 * wins, so every option of the text is read first, exactly as QEMU reads
 * it, and then the null backend, which has no options of its own, can only
 * add the missing id. (`logbackups=0` is appended too, since a null backend
 * still reads that common option's range.)
 */
export function checkChardevOption(text: string): CheckedChardevOption {
  try {
    const probe = parseChardevOption(appendOptions(text, 'backend=null,logbackups=0'));
    return { id: probe.id, mux: probe.mux, warnings: probe.warnings };
  } catch (error: unknown) {
    if (error instanceof ChardevHelpRequest) throw error;
    if (error instanceof ChardevOptionError && error.message === NO_ID_MESSAGE) return { id: undefined, mux: false, warnings: error.warnings };
    throw error;
  }
}

/**
 * The chardev-add arguments of a startup chardev: for a `-chardev` string,
 * the part QEMU does when creating it (chardev/char.c
 * qemu_chr_new_from_opts). Its warnings (a deprecated backend alias) go to
 * `warn`, prefixed with the origin. `-chardev help` throws
 * ChardevHelpRequest listing the backends chardevd creates; everything
 * else QEMU refuses throws StartupChardevError.
 */
export function resolveStartupChardev(
  item: StartupChardev,
  warnedAliases: Set<string>,
  warn: (message: string) => void,
): { readonly id: string; readonly backend: ChardevBackend; readonly mux: boolean } {
  if (item.form === 'object') return { id: item.id, backend: item.backend, mux: false };
  try {
    const parsed = parseChardevOption(item.text, { warnedAliases });
    for (const warning of parsed.warnings.slice(item.checkedWarnings)) warn(`${item.origin}: ${warning}`);
    return { id: parsed.id, backend: parsed.backend, mux: parsed.mux };
  } catch (error: unknown) {
    if (!(error instanceof ChardevOptionError)) throw error;
    for (const warning of error.warnings.slice(item.checkedWarnings)) warn(`${item.origin}: ${warning}`);
    if (error instanceof ChardevHelpRequest) {
      if (error.topic === 'backends') throw new ChardevHelpRequest('backends', chardevBackendHelp(SUPPORTED_KINDS), []);
      throw new ChardevHelpRequest(error.topic, error.message, []);
    }
    throw new StartupChardevError(`${item.origin}: ${error.message}`);
  }
}

/**
 * The message of a failed creation as the item's origin words it: QMP's
 * "Failed to add chardev 'ID': " prefix stays for an object item (it is
 * chardev-add's shape) and goes for a `-chardev` string, for which QEMU
 * prints the backend's message alone.
 */
export function creationErrorMessage(item: StartupChardev, id: string, message: string): string {
  const prefix = `Failed to add chardev '${id}': `;
  const text = item.form === 'option' && message.startsWith(prefix) ? message.slice(prefix.length) : message;
  return `${item.origin}: ${text}`;
}

/** A startup chardev that cannot be created; the message is what the user sees after "chardevd: ". */
export class StartupChardevError extends Error {
  override readonly name = 'StartupChardevError';
}
