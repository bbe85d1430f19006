import { ChardevHelpRequest, ChardevOptionError } from './option-error.js';
import { parseChardevOption } from './options.js';
import { appendOptions } from '../options/qemu-opts.js';

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
