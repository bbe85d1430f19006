import type { ChardevRegistry } from '../chardev/registry.js';
import type { DeviceRegistry } from '../device/registry.js';
import type { ObjectRegistry } from '../objects/object-registry.js';
import type { QmpCommandHandlers } from '../generated/qapi-commands.gen.js';
import type { ChardevdConfig, ShutdownCause, VersionInfo } from '../generated/qapi-types.gen.js';
import type { QmpDispatcher } from '../qmp/dispatch.js';
import type { QmpServer } from '../qmp/server.js';
import type { QmpSession } from '../qmp/session.js';
import type { SessionFds } from '../qmp/session-fds.js';
import type { FdSets } from './fd-sets.js';
import type { WebTokens } from './web-tokens.js';

/** The human monitor as human-monitor-command uses it (qmp_human_monitor_command). */
export interface HumanMonitor {
  /**
   * Runs one command line on a monitor without a line editor, the QMP
   * commands it calls running with `context`; resolves with everything it
   * printed, every "\n" sent as "\r\n".
   */
  run(commandLine: string, context: QmpContext): Promise<string>;
}

/** What the daemon offers command handlers. */
export interface DaemonControl {
  readonly version: VersionInfo;
  readonly chardevs: ChardevRegistry;
  readonly devices: DeviceRegistry;
  /** The objects of -object and object-add: TLS credentials, authorization. */
  readonly objects: ObjectRegistry;
  /** The descriptor sets of add-fd, shared by every connection. */
  readonly fdSets: FdSets;
  /** The tokens that let web viewers write (web-token-add adds one). */
  readonly webTokens: WebTokens;
  /** The human monitor, whose interpreter monitor connections share. */
  readonly humanMonitor: HumanMonitor;
  /** Sends SHUTDOWN now, then stops the daemon once the current reply is out. */
  shutdown(reason: ShutdownCause): void;
  /** The running configuration, as a config file holds it. */
  config(): ChardevdConfig;
}

/** What every command handler receives besides its arguments. */
export interface QmpContext {
  /** The QMP connection the command came from; undefined when a human monitor connection runs it (it has none). */
  readonly session: QmpSession<QmpContext> | undefined;
  /**
   * The descriptors of the monitor connection running the command: a QMP
   * session's, a human monitor connection's; undefined for
   * human-monitor-command, whose monitor has none (QEMU's temporary one).
   */
  readonly monitorFds: SessionFds | undefined;
  readonly server: QmpServer<QmpContext>;
  readonly dispatcher: QmpDispatcher<QmpContext>;
  readonly daemon: DaemonControl;
}

/** Handlers of the commands a module implements; the daemon joins them into the full table. */
export type HandlersOf<K extends keyof QmpCommandHandlers<QmpContext>> = Pick<QmpCommandHandlers<QmpContext>, K>;
