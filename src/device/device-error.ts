import { ChardevdError } from '../base/error.js';

/** A device_add or -device mistake; the message is QEMU's text where QEMU has one. */
export class DeviceError extends ChardevdError {
  override readonly name: string = 'DeviceError';
  readonly code: string = 'DEVICE_FAILED';
}

/** device_del of an id or path no device has (QEMU answers with class DeviceNotFound). */
export class DeviceNotFoundError extends DeviceError {
  override readonly name = 'DeviceNotFoundError';
  override readonly code = 'DEVICE_NOT_FOUND';
}
