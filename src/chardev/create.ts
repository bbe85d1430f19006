import type { ChardevBackend, ChardevBackendKind, ChardevCommon } from '../generated/qapi-types.gen.js';
import { backendOfKind, CHARDEV_BACKENDS } from './backends.js';
import type { Chardev, ChardevContext } from './chardev.js';
import { ChardevError } from './chardev-error.js';
import { ChardevLog, DEFAULT_LOG_BACKUPS } from './chardev-log.js';

/** The kinds query-chardev-backends lists: what chardevd can create, less the backends not listed. */
export const SUPPORTED_KINDS: readonly ChardevBackendKind[] = CHARDEV_BACKENDS.flatMap((backend) =>
  'create' in backend && backend.listed !== false ? backend.kinds : [],
);

/**
 * Builds and opens the chardev a backend description asks for, with its
 * log file first as QEMU opens it (chardev/char.c qemu_char_open). Errors
 * carry QEMU's text without the "Failed to add chardev" prefix, which is
 * the caller's to add. A kind chardevd does not create is refused with
 * the reason, instead of QEMU's bare "not a valid char driver name".
 */
export async function createChardev(id: string, backend: ChardevBackend, context: ChardevContext): Promise<Chardev> {
  const definition = backendOfKind(backend.type);
  if (definition === undefined) throw new ChardevError(`'${backend.type}' is not a valid char driver name`);
  if (!('create' in definition)) throw new ChardevError(`'${backend.type}' is not a valid char driver name: ${definition.unsupported}`);
  const common: ChardevCommon = backend.data;
  const log = common.logfile === undefined ? undefined : ChardevLog.open(logOptions(common.logfile, common), context.log);
  let chardev: Chardev;
  try {
    chardev = definition.create(id, backend, context);
    if (log !== undefined) chardev.setLog(log);
    await chardev.open();
  } catch (error: unknown) {
    log?.close();
    throw error;
  }
  return chardev;
}

function logOptions(path: string, common: ChardevCommon) {
  const maxSize = common.logsize ?? 0;
  return { path, append: common.logappend === true, maxSize, backups: common.logbackups ?? (maxSize > 0 ? DEFAULT_LOG_BACKUPS : 0) };
}
