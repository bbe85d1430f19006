import type { ChardevRegistry } from '../chardev/registry.js';
import type { DeviceRegistry } from '../device/registry.js';
import type { HmpInterpreter } from '../monitor/hmp/interpreter.js';
import type { QmpCommandHandlers } from '../generated/qapi-commands.gen.js';
import type { ShutdownCause, VersionInfo } from '../generated/qapi-types.gen.js';
import type { QmpDispatcher } from '../qmp/dispatch.js';
import type { QmpServer } from '../qmp/server.js';
import type { QmpSession } from '../qmp/session.js';

/** What the daemon offers command handlers. */
export interface DaemonControl {
  readonly version: VersionInfo;
  readonly chardevs: ChardevRegistry;
  readonly devices: DeviceRegistry;
  /** The human monitor's command interpreter, shared by monitor connections and human-monitor-command. */
  readonly hmp: HmpInterpreter;
  /** Sends SHUTDOWN now, then stops the daemon once the current reply is out. */
  shutdown(reason: ShutdownCause): void;
}

/** What every command handler receives besides its arguments. */
export interface QmpContext {
  /** The connection the command came from. */
  readonly session: QmpSession<QmpContext>;
  readonly server: QmpServer<QmpContext>;
  readonly dispatcher: QmpDispatcher<QmpContext>;
  readonly daemon: DaemonControl;
}

/** Handlers of the commands a module implements; the daemon joins them into the full table. */
export type HandlersOf<K extends keyof QmpCommandHandlers<QmpContext>> = Pick<QmpCommandHandlers<QmpContext>, K>;
