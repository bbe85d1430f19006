/**
 * `chardevd/client`: the typed QMP client alone, for chardevd and for any
 * QEMU. It loads no daemon code and no WebSocket library.
 */
export { QmpClient } from './qmp-client.js';
export type {
  AcceptOptions,
  ConnectionLost,
  ConnectionRestored,
  ExecuteOptions,
  QmpClientOptions,
  QmpClientState,
  QmpEventOf,
  ReconnectPolicy,
} from './options.js';
export { EventSubscription } from './event-subscription.js';
export type { EventSubscriptionOptions, QmpEventMessage } from './event-subscription.js';
export { QmpListener } from './listener.js';
export { parseQmpAddress } from './address.js';
export type { QmpAddress } from './address.js';
export type { QmpSignal } from './signal.js';
export type { Disposable } from '../base/lifecycle.js';
export { ChardevdError } from '../base/error.js';
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
} from './errors.js';
export type { QmpCommands } from '../generated/qapi-commands.gen.js';
export type { QmpEvents } from '../generated/qapi-events.gen.js';
export type * from '../generated/qapi-types.gen.js';
export type { CallOptions } from '../qapi-runtime/command-spec.js';
