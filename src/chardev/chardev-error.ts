import { ChardevdError } from '../base/error.js';

/**
 * A chardev operation that failed; the message is the text QEMU gives for
 * the same failure, so the QMP layer can send it unchanged (as GenericError,
 * the class QEMU uses for every chardev error).
 */
export class ChardevError extends ChardevdError {
  override readonly name = 'ChardevError';
  readonly code = 'CHARDEV_FAILED';
}

export { describeSystemError } from '../base/system-error.js';
