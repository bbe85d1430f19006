import type { Chardev } from '../chardev/chardev.js';
import type { DaemonControl, HumanMonitor, QmpContext } from '../commands/context.js';
import type { DeviceRegistry } from '../device/registry.js';
import { ChardevMonitor } from '../monitor/hmp/chardev-monitor.js';
import { HumanMonitorCommand } from '../monitor/hmp/human-monitor-command.js';
import { HmpInterpreter } from '../monitor/hmp/interpreter.js';
import { type HmpQmpHandlers, QmpCaller } from '../monitor/hmp/qmp-caller.js';
import { HmpServer } from '../monitor/hmp/server.js';
import { QmpChardevMonitor } from '../monitor/qmp-chardev-monitor.js';
import type { InputValidator } from '../qapi-runtime/index.js';
import type { CommandObserver } from '../qmp/command-tally.js';
import type { QmpDispatcher } from '../qmp/dispatch.js';
import type { QmpServer } from '../qmp/server.js';

/** What the monitors need of the daemon that runs them. */
export interface MonitorsHost {
  readonly daemon: DaemonControl;
  readonly devices: DeviceRegistry;
  readonly handlers: HmpQmpHandlers;
  readonly validator: InputValidator;
  readonly dispatcher: QmpDispatcher<QmpContext>;
  readonly server: QmpServer<QmpContext>;
  readonly log: (message: string) => void;
  /** Told of every human monitor command run (the daemon's metrics). */
  readonly hmpCommands: CommandObserver;
}

/**
 * The monitors a daemon runs besides its QMP listeners: the human monitor
 * (human-monitor-command, `-monitor` listeners and their connections) and
 * monitors on chardevs (`-mon`). The daemon imports this module when the
 * first of them is needed, so that one serving QMP alone does not load
 * the human monitor's interpreter, line editor and console.
 */
export class DaemonMonitors {
  /** What human-monitor-command runs its lines on; monitor connections share its interpreter. */
  readonly humanMonitor: HumanMonitor;
  /** Human monitor listeners and their connections. */
  readonly hmpServer: HmpServer;

  constructor(private readonly host: MonitorsHost) {
    const { daemon, dispatcher, server } = host;
    // The human monitor calls the same handlers in-process, its arguments checked as QMP's.
    const interpreter = new HmpInterpreter(undefined, host.hmpCommands);
    const qmpCaller = new QmpCaller(host.handlers, host.validator, (command, error) => dispatcher.errorFor(command, error));
    this.humanMonitor = new HumanMonitorCommand(interpreter, qmpCaller);
    // Monitor connections run QMP commands with a context of their own: no QMP session, their own descriptors.
    const hmpContext = { session: undefined, server, dispatcher, daemon };
    this.hmpServer = new HmpServer(
      {
        interpreter,
        chardevs: daemon.chardevs,
        versionText: `chardevd ${daemon.version.qemu.major}.${daemon.version.qemu.minor}.${daemon.version.qemu.micro}`,
        qmpFor: (fds) => qmpCaller.callerFor({ ...hmpContext, monitorFds: fds }),
        holderOf: (chardev) => {
          const link = host.devices.links().find((device) => device.chardev === chardev || device.peer === chardev);
          if (link !== undefined) return `the link device '${link.id ?? link.path}'`;
          const demux = host.devices.demuxes().find((device) => device.chardev === chardev);
          return demux === undefined ? undefined : `the demux device '${demux.label}'`;
        },
      },
      host.log,
    );
  }

  /** A monitor for `chardev` (`-mon chardev=ID,mode=...`), not yet attached. */
  chardevMonitor(chardev: Chardev, mode: 'control' | 'readline', pretty: boolean): ChardevMonitor | QmpChardevMonitor<QmpContext> {
    return mode === 'control' ? new QmpChardevMonitor(chardev, this.host.server, pretty) : new ChardevMonitor(chardev, this.hmpServer.host);
  }
}
