import type { QapiErrorClass } from '../generated/qapi-types.gen.js';

/**
 * A command failure as QMP reports it: `{"error": {"class", "desc"}}`. One
 * subclass per wire class; which one a call site raises follows QEMU (most
 * chardev errors are GenericError even where "DeviceNotFound" would fit,
 * because QEMU's are).
 */
export abstract class QmpError extends Error {
  abstract readonly errorClass: QapiErrorClass;

  /** The `desc` member, verbatim. */
  get desc(): string {
    return this.message;
  }
}

export class GenericError extends QmpError {
  override readonly name = 'GenericError';
  readonly errorClass = 'GenericError';
}

export class CommandNotFoundError extends QmpError {
  override readonly name = 'CommandNotFoundError';
  readonly errorClass = 'CommandNotFound';
}

export class DeviceNotFoundError extends QmpError {
  override readonly name = 'DeviceNotFoundError';
  readonly errorClass = 'DeviceNotFound';
}

export class DeviceNotActiveError extends QmpError {
  override readonly name = 'DeviceNotActiveError';
  readonly errorClass = 'DeviceNotActive';
}
