/** chardevd as a library: the QMP client and server, and the generated protocol types. */
export { QmpClient, EventSubscription } from './qmp/client.js';
export type { QmpAddress, QmpClientOptions, QmpEventMessage, EventSubscriptionOptions } from './qmp/client.js';
export {
  QmpClientError,
  ConnectError,
  StateError,
  ExecInterruptedError,
  ExecuteError,
  ProtocolError,
  GreetingError,
  NegotiationError,
  BadReplyError,
} from './qmp/client-errors.js';
export { QmpError, GenericError, CommandNotFoundError, DeviceNotFoundError, DeviceNotActiveError } from './qmp/errors.js';
export { Daemon } from './daemon/daemon.js';
export type { DaemonOptions } from './daemon/daemon.js';
export type { StartupChardev, StartupChardevOption, StartupChardevObject } from './daemon/config-chardev.js';
export type { StartupDevice, DeviceRequest } from './device/device-option.js';
export type { QmpCommands } from './generated/qapi-commands.gen.js';
export type { QmpEvents } from './generated/qapi-events.gen.js';
export type * from './generated/qapi-types.gen.js';
export type { CallOptions } from './qapi-runtime/index.js';
