import { ChardevdError } from '../base/error.js';
import { SUPPORTED_KINDS } from '../chardev/create.js';
import { ChardevHelpRequest, ChardevOptionError } from '../chardev/option-error.js';
import { chardevBackendHelp, parseChardevOption } from '../chardev/options.js';
import { NO_ADDRESS_HINT } from '../chardev/socket-options.js';
import type { ChardevBackend } from '../generated/qapi-types.gen.js';

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
 *
 * A `-chardev socket` with no address at all has an empty fd, which QEMU
 * reports as `Unable to parse FD number `; a hint line then names the
 * options that give an address.
 */
export function creationErrorMessage(item: StartupChardev, id: string, message: string): string {
  const prefix = `Failed to add chardev '${id}': `;
  const prefixed = message.startsWith(prefix);
  let text = prefixed ? message.slice(prefix.length) : message;
  const backend = item.form === 'object' ? item.backend : parseChardevOption(item.text).backend;
  if (
    item.form === 'option' &&
    backend.type === 'socket' &&
    backend.data.addr.type === 'fd' &&
    backend.data.addr.data.str === '' &&
    text.startsWith('Unable to parse FD number')
  ) {
    text += `\n${NO_ADDRESS_HINT}`;
  }
  return `${item.origin}: ${item.form === 'object' && prefixed ? prefix : ''}${text}`;
}

/** A startup chardev that cannot be created; the message is what the user sees after "chardevd: ". */
export class StartupChardevError extends ChardevdError {
  override readonly name = 'StartupChardevError';
  readonly code = 'CHARDEV_STARTUP_FAILED';
}
