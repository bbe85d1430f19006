import { ChardevdError } from '../base/error.js';

/** An object (TLS credentials, authorization) that cannot be made, found or used; the message is QEMU's text. */
export class ObjectError extends ChardevdError {
  override readonly name: string = 'ObjectError';
  readonly code: string = 'OBJECT_FAILED';
}

/** A qom-list or qom-get path that names nothing (QEMU answers with class DeviceNotFound). */
export class ObjectPathNotFoundError extends ObjectError {
  override readonly name = 'ObjectPathNotFoundError';
  override readonly code = 'OBJECT_PATH_NOT_FOUND';

  constructor(path: string) {
    super(`Device '${path}' not found`);
  }
}
