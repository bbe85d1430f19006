import type { QmpCommandHandlers } from '../generated/qapi-commands.gen.js';
import { qmpCommandSpecs } from '../generated/qapi-commands.gen.js';
import { sendShutdownEvent } from '../generated/qapi-events.gen.js';
import { qapiTypeTable } from '../generated/qapi-type-table.gen.js';
import type { ShutdownCause, VersionInfo } from '../generated/qapi-types.gen.js';
import { ChardevError } from '../chardev/chardev-error.js';
import { ChardevRegistry } from '../chardev/registry.js';
import { type StartupDevice, StartupDeviceError } from '../device/device-option.js';
import { DeviceError, DeviceRegistry } from '../device/registry.js';
import { InputValidator } from '../qapi-runtime/index.js';
import type { DaemonControl, HumanMonitor, QmpContext } from '../commands/context.js';
import { QmpDispatcher } from '../qmp/dispatch.js';
import type { ChardevMonitor } from '../monitor/hmp/chardev-monitor.js';
import type { QmpChardevMonitor } from '../monitor/qmp-chardev-monitor.js';
import { charHandlers } from '../commands/char.js';
import { toQmpError } from '../commands/qmp-error-table.js';
import { controlHandlers, OFFERED_CAPABILITIES } from '../commands/control.js';
import { qdevHandlers } from '../commands/qdev.js';
import { miscHandlers } from '../commands/misc.js';
import type { JsonValue } from '../qobject/json-value.js';
import { QmpServer } from '../qmp/server.js';
import type { QmpListenAddress } from '../qmp/socket-listeners.js';
import { creationErrorMessage, resolveStartupChardev, type StartupChardev, StartupChardevError } from './config-chardev.js';
import type { MonitorConfig } from './monitor-option.js';
import type { DaemonMonitors } from './monitors.js';
import type { QmpOption } from './qmp-option.js';
import { chardevdVersion } from './version.js';

export interface DaemonOptions {
  readonly qmp: readonly { readonly option: QmpOption; readonly pretty: boolean }[];
  /** Chardevs to create at startup, in this order, before the listeners open. */
  readonly chardevs?: readonly StartupChardev[];
  /** Devices to create once the chardevs exist, in this order. */
  readonly devices?: readonly StartupDevice[];
  /** Monitors (-monitor, -mon): human monitor listeners of their own, or human or QMP monitors on startup chardevs. */
  readonly monitors?: readonly MonitorConfig[];
  /** The byte that starts a mux escape command (`-echr`); Ctrl-A when not given. */
  readonly muxEscapeChar?: number | undefined;
  /** Where the daemon's own messages go (stderr in the CLI). */
  readonly log: (message: string) => void;
}

/** Every command's handler; leaving one out is a compile error. */
const handlers: QmpCommandHandlers<QmpContext> = {
  ...controlHandlers,
  ...charHandlers,
  ...qdevHandlers,
  ...miscHandlers,
};

/**
 * The composition root: builds the dispatcher from the generated tables,
 * creates the startup chardevs and devices, starts the QMP listeners and
 * owns shutdown.
 */
export class Daemon implements DaemonControl {
  readonly version: VersionInfo = chardevdVersion();
  readonly chardevs: ChardevRegistry;
  readonly devices: DeviceRegistry;
  readonly server: QmpServer<QmpContext>;
  /** What human-monitor-command runs its lines on; monitor connections share its interpreter. */
  readonly humanMonitor: HumanMonitor = {
    run: async (commandLine, context) => (await this.#loadMonitors()).humanMonitor.run(commandLine, context),
  };
  /** Bound addresses of the QMP listeners, in the order given (real ports for port 0). */
  readonly listening: QmpListenAddress[] = [];
  /** Bound addresses of the human monitor listeners, in the order given. */
  readonly hmpListening: QmpListenAddress[] = [];
  /** Monitors on chardevs (-mon), detached at shutdown. */
  readonly #chardevMonitors: (ChardevMonitor | QmpChardevMonitor<QmpContext>)[] = [];
  readonly #validator: InputValidator;
  readonly #dispatcher: QmpDispatcher<QmpContext>;
  /** The human monitor and the monitors on chardevs, loaded by the first that is needed (monitors.ts). */
  #monitorsLoading: Promise<DaemonMonitors> | undefined;
  #monitors: DaemonMonitors | undefined;
  /** Settles once everything is closed after shutdown(). */
  readonly stopped: Promise<void>;
  #stop!: () => void;
  #shuttingDown = false;

  constructor(private readonly options: DaemonOptions) {
    // Chardevs' events (a hub's drops) go to the QMP server, created below.
    this.chardevs = new ChardevRegistry({
      log: options.log,
      events: { emit: (name, data) => this.server.emit(name, data) },
      muxEscapeChar: options.muxEscapeChar,
    });
    this.devices = new DeviceRegistry(this.chardevs);
    const validator = new InputValidator(qapiTypeTable);
    this.#validator = validator;
    const dispatcher = new QmpDispatcher<QmpContext>({
      specs: qmpCommandSpecs,
      handlers,
      validator,
      toQmpError,
      reportInternalError: (command, error) => options.log(`internal error in ${command}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`),
    });
    this.server = new QmpServer<QmpContext>({
      dispatcher,
      greeting: { QMP: { version: this.version as unknown as JsonValue, capabilities: [...OFFERED_CAPABILITIES] } },
      contextFor: (session) => ({ session, server: this.server, dispatcher, daemon: this }),
      log: options.log,
    });
    this.#dispatcher = dispatcher;
    this.stopped = new Promise((resolve) => {
      this.#stop = resolve;
    });
  }

  /**
   * Creates the startup chardevs, attaches the monitors that run on
   * chardevs (-mon), creates the devices, then opens the QMP and monitor
   * listeners: QEMU creates its chardevs, then its monitors, then its
   * devices, and serves nothing before. A chardev that cannot be
   * created rejects with StartupChardevError (its origin, then QEMU's
   * text) after closing the ones created before it; `-chardev help`
   * rejects with ChardevHelpRequest, as QEMU prints that list when it
   * reaches it. A socket server without wait=off holds startup until its
   * first client, and so does a listener with wait=on.
   */
  async start(): Promise<void> {
    try {
      if ((this.options.monitors ?? []).length > 0) await this.#loadMonitors();
      // Muxes tell their frontends `opened` once all of them are attached, as QEMU's do after its command line.
      this.chardevs.suspendMuxOpen();
      await this.#createChardevs();
      this.#attachChardevMonitors();
      this.#createDevices();
      this.chardevs.resumeMuxOpen();
      await this.#openListeners();
      await this.#openHmpListeners();
    } catch (error: unknown) {
      // Nothing half-started stays behind: sockets closed, their files removed.
      await this.#closeAll();
      throw error;
    }
  }

  /** QEMU starts its monitors after its chardevs (mon_init_func), with these checks and texts (monitor_init). */
  #attachChardevMonitors(): void {
    for (const { origin, target } of this.options.monitors ?? []) {
      if (target.type !== 'chardev') continue;
      const chardev = this.chardevs.get(target.id);
      if (chardev === undefined) throw new StartupChardevError(`${origin}: chardev "${target.id}" not found`);
      const monitor = this.#monitors!.chardevMonitor(chardev, target.mode, target.pretty);
      try {
        monitor.attach();
      } catch (error: unknown) {
        if (error instanceof ChardevError) throw new StartupChardevError(`${origin}: ${error.message}`);
        throw error;
      }
      this.#chardevMonitors.push(monitor);
    }
  }

  async #openHmpListeners(): Promise<void> {
    for (const { target } of this.options.monitors ?? []) {
      if (target.type !== 'listener') continue;
      if (this.#shuttingDown) return;
      const hmpServer = this.#monitors!.hmpServer;
      const bound = await hmpServer.listen(target.option.address);
      if (this.#shuttingDown) {
        await hmpServer.close();
        return;
      }
      this.hmpListening.push(bound);
      const where = describeAddress(bound);
      this.options.log(`monitor listening on ${where}`);
      if (target.option.wait) {
        this.options.log(`waiting for connection on: ${where},server=on`);
        await hmpServer.nextSession();
      }
    }
  }

  async #closeAll(): Promise<void> {
    this.devices.removeAll();
    for (const monitor of this.#chardevMonitors.splice(0)) monitor.detach();
    await Promise.allSettled([this.server.close(), this.#monitors?.hmpServer.close(), this.chardevs.closeAll()]);
  }

  #loadMonitors(): Promise<DaemonMonitors> {
    this.#monitorsLoading ??= import('./monitors.js').then(({ DaemonMonitors }) => {
      this.#monitors = new DaemonMonitors({
        daemon: this,
        devices: this.devices,
        handlers,
        validator: this.#validator,
        dispatcher: this.#dispatcher,
        server: this.server,
        log: this.options.log,
      });
      return this.#monitors;
    });
    return this.#monitorsLoading;
  }

  async #openListeners(): Promise<void> {
    for (const { option, pretty } of this.options.qmp) {
      if (this.#shuttingDown) return;
      const bound = await this.server.listen(option.address, { pretty });
      // shutdown() came while it opened: close it too (that removes its socket file).
      if (this.#shuttingDown) {
        await this.server.close();
        return;
      }
      this.listening.push(bound);
      const where = describeAddress(bound);
      this.options.log(`QMP listening on ${where}`);
      if (option.wait) {
        this.options.log(`waiting for connection on: ${where},server=on`);
        await this.server.nextSession();
      }
    }
  }

  async #createChardevs(): Promise<void> {
    // QEMU warns about a deprecated backend alias once per process.
    const warnedAliases = new Set<string>();
    for (const item of this.options.chardevs ?? []) {
      if (this.#shuttingDown) return;
      const { id, backend, mux } = resolveStartupChardev(item, warnedAliases, this.options.log);
      try {
        if (mux) await this.chardevs.addMuxed(id, backend);
        else await this.chardevs.add(id, backend);
      } catch (error: unknown) {
        if (error instanceof ChardevError) throw new StartupChardevError(creationErrorMessage(item, id, error.message));
        throw error;
      }
      // shutdown() came while it opened (a socket waiting for its client): close what exists now.
      if (this.#shuttingDown) await this.chardevs.closeAll();
    }
  }

  /** QEMU creates -device after every -chardev; a failure names the device's origin. */
  #createDevices(): void {
    if (this.#shuttingDown) return;
    for (const device of this.options.devices ?? []) {
      try {
        this.devices.add(device);
      } catch (error: unknown) {
        if (error instanceof DeviceError) throw new StartupDeviceError(`${device.origin}: ${error.message}`);
        throw error;
      }
    }
  }

  shutdown(reason: ShutdownCause): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    sendShutdownEvent(this.server, { guest: false, reason });
    // Let the command that asked for it send its reply first (QEMU replies to quit, then closes).
    setImmediate(() => {
      void this.#closeAll().then(() => this.#stop());
    });
  }
}

export function describeAddress(address: QmpListenAddress): string {
  if (address.type === 'unix') return `unix:${address.path}`;
  return `tcp:${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
}
