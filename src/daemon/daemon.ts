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
import type { DaemonControl, QmpContext } from '../qmp/context.js';
import { QmpDispatcher } from '../qmp/dispatch.js';
import { charHandlers } from '../qmp/handlers/char.js';
import { controlHandlers, OFFERED_CAPABILITIES } from '../qmp/handlers/control.js';
import { qdevHandlers } from '../qmp/handlers/qdev.js';
import type { JsonValue } from '../qmp/json-value.js';
import { type QmpListenAddress, QmpServer } from '../qmp/server.js';
import { creationErrorMessage, resolveStartupChardev, type StartupChardev, StartupChardevError } from './config-chardev.js';
import type { QmpOption } from './qmp-option.js';
import { chardevdVersion } from './version.js';

export interface DaemonOptions {
  readonly qmp: readonly { readonly option: QmpOption; readonly pretty: boolean }[];
  /** Chardevs to create at startup, in this order, before the listeners open. */
  readonly chardevs?: readonly StartupChardev[];
  /** Devices to create once the chardevs exist, in this order. */
  readonly devices?: readonly StartupDevice[];
  /** Where the daemon's own messages go (stderr in the CLI). */
  readonly log: (message: string) => void;
}

/** Every command's handler; leaving one out is a compile error. */
const handlers: QmpCommandHandlers<QmpContext> = {
  ...controlHandlers,
  ...charHandlers,
  ...qdevHandlers,
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
  /** Bound addresses of the QMP listeners, in the order given (real ports for port 0). */
  readonly listening: QmpListenAddress[] = [];
  /** Settles once everything is closed after shutdown(). */
  readonly stopped: Promise<void>;
  #stop!: () => void;
  #shuttingDown = false;

  constructor(private readonly options: DaemonOptions) {
    this.chardevs = new ChardevRegistry({ log: options.log });
    this.devices = new DeviceRegistry(this.chardevs);
    const dispatcher = new QmpDispatcher<QmpContext>(qmpCommandSpecs, handlers, new InputValidator(qapiTypeTable), (command, error) =>
      options.log(`internal error in ${command}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`),
    );
    this.server = new QmpServer<QmpContext>({
      dispatcher,
      greeting: { QMP: { version: this.version as unknown as JsonValue, capabilities: [...OFFERED_CAPABILITIES] } },
      contextFor: (session) => ({ session, server: this.server, dispatcher, daemon: this }),
      log: options.log,
    });
    this.stopped = new Promise((resolve) => {
      this.#stop = resolve;
    });
  }

  /**
   * Creates the startup chardevs, then opens every listener, as QEMU
   * creates its chardevs before its monitors. A chardev that cannot be
   * created rejects with StartupChardevError (its origin, then QEMU's
   * text) after closing the ones created before it; `-chardev help`
   * rejects with ChardevHelpRequest, as QEMU prints that list when it
   * reaches it. A socket server without wait=off holds startup until its
   * first client, and so does a listener with wait=on.
   */
  async start(): Promise<void> {
    try {
      await this.#createChardevs();
      this.#createDevices();
      await this.#openListeners();
    } catch (error: unknown) {
      // Nothing half-started stays behind: sockets closed, their files removed.
      this.devices.removeAll();
      await Promise.allSettled([this.server.close(), this.chardevs.closeAll()]);
      throw error;
    }
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
      const { id, backend } = resolveStartupChardev(item, warnedAliases, this.options.log);
      try {
        await this.chardevs.add(id, backend);
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
      this.devices.removeAll();
      void Promise.allSettled([this.server.close(), this.chardevs.closeAll()]).then(() => this.#stop());
    });
  }
}

export function describeAddress(address: QmpListenAddress): string {
  if (address.type === 'unix') return `unix:${address.path}`;
  return `tcp:${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
}
