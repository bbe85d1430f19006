/** chardevd as a library: the QMP client and server, and the generated protocol types. */
export { QmpClient, EventSubscription } from './qmp/client.js';
export type {
  AcceptOptions,
  ConnectionLost,
  ConnectionRestored,
  ExecuteOptions,
  QmpAddress,
  QmpClientOptions,
  QmpClientState,
  QmpEventMessage,
  QmpEventOf,
  EventSubscriptionOptions,
  ReconnectPolicy,
} from './qmp/client.js';
export { QmpListener } from './qmp/client-listener.js';
export { parseQmpAddress } from './qmp/client-address.js';
export type { QmpSignal } from './qmp/client-signal.js';
export type { Disposable } from './lifecycle.js';
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
export type { CallOptions, EventSink } from './qapi-runtime/index.js';
