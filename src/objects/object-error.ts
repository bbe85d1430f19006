import { ChardevdError } from '../base/error.js';

/** An object (TLS credentials, authorization) that cannot be made, found or used; the message is QEMU's text. */
export class ObjectError extends ChardevdError {
  override readonly name = 'ObjectError';
  readonly code = 'OBJECT_FAILED';
}
