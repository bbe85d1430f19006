import { ChardevdError } from '../base/error.js';
import type { QapiErrorClass } from '../generated/qapi-types.gen.js';

/**
 * A command failure as QMP reports it: `{"error": {"class", "desc"}}`. One
 * subclass per wire class; which one a call site raises follows QEMU (most
 * chardev errors are GenericError even where "DeviceNotFound" would fit,
 * because QEMU's are). Domain errors become one of these in a single table
 * the daemon hands the dispatcher (commands/qmp-error-table.ts).
 */
export abstract class QmpError extends ChardevdError {
  abstract readonly errorClass: QapiErrorClass;

  /** The `desc` member, verbatim. */
  get desc(): string {
    return this.message;
  }
}

export class GenericError extends QmpError {
  override readonly name = 'GenericError';
  readonly code = 'QMP_GENERIC_ERROR';
  readonly errorClass = 'GenericError';
}

export class CommandNotFoundError extends QmpError {
  override readonly name = 'CommandNotFoundError';
  readonly code = 'QMP_COMMAND_NOT_FOUND';
  readonly errorClass = 'CommandNotFound';
}

export class DeviceNotFoundError extends QmpError {
  override readonly name = 'DeviceNotFoundError';
  readonly code = 'QMP_DEVICE_NOT_FOUND';
  readonly errorClass = 'DeviceNotFound';
}

export class DeviceNotActiveError extends QmpError {
  override readonly name = 'DeviceNotActiveError';
  readonly code = 'QMP_DEVICE_NOT_ACTIVE';
  readonly errorClass = 'DeviceNotActive';
}
