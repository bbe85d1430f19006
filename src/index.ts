/** chardevd as a library: the daemon, the QMP client (also alone as `chardevd/client`) and the generated protocol types. */
export * from './client/index.js';
export { ChardevdError } from './base/error.js';
export { QmpError, GenericError, CommandNotFoundError, DeviceNotFoundError, DeviceNotActiveError } from './qmp/errors.js';
export { Daemon } from './daemon/daemon.js';
export type { DaemonOptions } from './daemon/daemon.js';
export type { StartupChardev, StartupChardevOption, StartupChardevObject } from './daemon/config-chardev.js';
export type { StartupDevice, DeviceRequest } from './device/device-option.js';
export type { EventSink } from './qapi-runtime/index.js';
