import { ChardevdError } from '../base/error.js';
import { DeviceNotFoundError, GenericError, type QmpError } from '../qmp/errors.js';

type QmpErrorType = new (desc: string, options?: ErrorOptions) => QmpError;

/**
 * The wire class QEMU 7.2 answers each domain failure a command handler
 * can raise with, by code; the desc is the error's message, unchanged.
 * Errors of option strings, the command line and the human monitor never
 * reach a QMP handler, so they have no entry: one that did would be a bug.
 */
const QMP_ERROR_TYPES: ReadonlyMap<string, QmpErrorType> = new Map<string, QmpErrorType>([
  // Every chardev failure is error_setg() in QEMU (chardev/char*.c, the ringbuf commands).
  ['CHARDEV_FAILED', GenericError],
  // device_add's failures are error_setg() (qdev_device_add(), the property setters).
  ['DEVICE_FAILED', GenericError],
  // device_del's unknown id or path: find_device_state() raises ERROR_CLASS_DEVICE_NOT_FOUND.
  ['DEVICE_NOT_FOUND', DeviceNotFoundError],
  // web-token-add's expiry out of range (chardevd's own command).
  ['WEB_TOKEN_INVALID', GenericError],
  // object-add's and object-del's failures are error_setg() (qom/object.c, crypto/tlscreds*.c).
  ['OBJECT_FAILED', GenericError],
  // qom-list's and qom-get's unknown path: qmp_qom_list() and qmp_qom_get() raise ERROR_CLASS_DEVICE_NOT_FOUND.
  ['OBJECT_PATH_NOT_FOUND', DeviceNotFoundError],
]);

/** The QMP error for a domain error a handler threw; undefined for anything else, which the dispatcher reports as a bug. */
export function toQmpError(error: unknown): QmpError | undefined {
  if (!(error instanceof ChardevdError)) return undefined;
  const type = QMP_ERROR_TYPES.get(error.code);
  return type === undefined ? undefined : new type(error.message, { cause: error });
}
