import type { QmpCommandHandlers } from '../generated/qapi-commands.gen.js';
import { qmpHandlers } from '../commands/handlers.js';
import { qmpCommandSpecs } from '../generated/qapi-commands.gen.js';
import { sendShutdownEvent } from '../generated/qapi-events.gen.js';
import { qapiTypeTable } from '../generated/qapi-type-table.gen.js';
import type { ChardevdConfig, ShutdownCause, VersionInfo } from '../generated/qapi-types.gen.js';
import { ChardevError } from '../chardev/chardev-error.js';
import { type StartupDevice, StartupDeviceError } from '../device/device-option.js';
import { DeviceError } from '../device/device-error.js';
import { addDevice } from '../device/registry.js';
import { drainLinks, STOP_DRAIN_TIMEOUT_MS } from '../device/drain.js';
import { InputValidator } from '../qapi-runtime/index.js';
import type { DaemonControl, HumanMonitor, QmpContext } from '../commands/context.js';
import { QmpDispatcher } from '../qmp/dispatch.js';
import type { ChardevMonitor } from '../monitor/hmp/chardev-monitor.js';
import type { QmpChardevMonitor } from '../monitor/qmp-chardev-monitor.js';
import { toQmpError } from '../commands/qmp-error-table.js';
import { OFFERED_CAPABILITIES } from '../commands/control.js';
import { SocketChardev } from '../chardev/socket.js';
import { ObjectError } from '../objects/object-error.js';
import { ObjectRegistry } from '../objects/object-registry.js';
import type { TlsCreds } from '../objects/tls-creds.js';
import { acceptTls } from '../objects/tls-session.js';
import { FdSets } from '../commands/fd-sets.js';
import { WebTokens } from '../commands/web-tokens.js';
import { CommandTally } from '../qmp/command-tally.js';
import { HeapTrimmer } from '../base/heap-trim.js';
import type { WebConfig } from '../web/web-option.js';
import type { WebServer } from '../web/web-server.js';
import type { Socket } from 'node:net';
import type { JsonValue } from '../qobject/json-value.js';
import { QmpServer } from '../qmp/server.js';
import { ListenerError, type QmpListenAddress, type SecureAccept } from '../qmp/socket-listeners.js';
import { creationErrorMessage, resolveStartupChardev, type StartupChardev, StartupChardevError } from './config-chardev.js';
import { configFileText } from './config-text.js';
import type { StartupDemuxService, StartupObject } from './config.js';
import { ConfigWriter } from './config-writer.js';
import type { MonitorConfig } from './monitor-option.js';
import type { ListenerTls, QmpOption } from './qmp-option.js';
import { type ListenerSource, runningConfig } from './running-config.js';
import { tcpServerAddress, unprotectedTcpWarning, webTcpWarning } from './tcp-warning.js';
import { TrackedChardevRegistry, TrackedDeviceRegistry } from './tracked-registries.js';
import type { DaemonMonitors } from './monitors.js';
import { chardevdVersion } from './version.js';

/** How long after start() the heap trimmer starts. */
const HEAP_TRIMMER_DELAY_MS = 1000;

export interface DaemonOptions {
  /** Objects (TLS credentials, authorization) to create first, in this order. */
  readonly objects?: readonly StartupObject[];
  /** QMP listeners; `text`, the `-qmp` value as given, is what query-config lists for it. */
  readonly qmp: readonly (ListenerSource & { readonly pretty: boolean })[];
  /** Chardevs to create at startup, in this order, before the listeners open. */
  readonly chardevs?: readonly StartupChardev[];
  /** Devices to create once the chardevs exist, in this order. */
  readonly devices?: readonly StartupDevice[];
  /** Demux services to add once the devices exist, in this order. */
  readonly demuxServices?: readonly StartupDemuxService[];
  /** Monitors (-monitor, -mon): human monitor listeners of their own, or human or QMP monitors on startup chardevs. */
  readonly monitors?: readonly MonitorConfig[];
  /** The byte that starts a mux escape command (`-echr`); Ctrl-A when not given. */
  readonly muxEscapeChar?: number | undefined;
  /** Where the daemon's own messages go (stderr in the CLI). */
  readonly log: (message: string) => void;
  /** A config file kept equal to the running configuration once started (`--config-save`). */
  readonly configSave?: string | undefined;
  /** The web console and /metrics (`-web`, the config file's `web`); none when not given. */
  readonly web?: WebConfig | undefined;
}

/**
 * The composition root: builds the dispatcher from the generated tables,
 * creates the startup chardevs and devices, starts the QMP listeners and
 * owns shutdown.
 */
export class Daemon implements DaemonControl {
  readonly version: VersionInfo = chardevdVersion();
  readonly chardevs: TrackedChardevRegistry;
  readonly devices: TrackedDeviceRegistry;
  readonly objects = new ObjectRegistry();
  readonly fdSets = new FdSets(() => this.server.sessions.size);
  readonly webTokens: WebTokens;
  /** QMP and human monitor commands answered, by name and outcome (/metrics). */
  readonly qmpCommands = new CommandTally();
  readonly hmpCommands = new CommandTally();
  /** Where the web console listens (the real port for port 0); undefined without one. */
  webListening: QmpListenAddress | undefined;
  #web: WebServer | undefined;
  readonly server: QmpServer<QmpContext>;
  /** What human-monitor-command runs its lines on; monitor connections share its interpreter. */
  readonly humanMonitor: HumanMonitor = {
    run: async (commandLine, context) => (await this.#loadMonitors()).humanMonitor.run(commandLine, context),
  };
  /** Bound addresses of the QMP listeners, in the order given (real ports for port 0). */
  readonly listening: QmpListenAddress[] = [];
  /** Bound addresses of the human monitor listeners, in the order given. */
  readonly hmpListening: QmpListenAddress[] = [];
  /** Listener connections still in their TLS handshake, closed at shutdown (a listener's close would wait for them). */
  readonly #handshaking = new Set<Socket>();
  /** Monitors on chardevs (-mon), detached at shutdown. */
  readonly #chardevMonitors: (ChardevMonitor | QmpChardevMonitor<QmpContext>)[] = [];
  readonly #validator: InputValidator;
  /** The handler table, hub member changes tracked for --config-save; the human monitor calls it too. */
  readonly #handlers: QmpCommandHandlers<QmpContext>;
  readonly #dispatcher: QmpDispatcher<QmpContext>;
  /** The human monitor and the monitors on chardevs, loaded by the first that is needed (monitors.ts). */
  #monitorsLoading: Promise<DaemonMonitors> | undefined;
  #monitors: DaemonMonitors | undefined;
  /** Settles once everything is closed after shutdown(). */
  readonly stopped: Promise<void>;
  #stop!: () => void;
  #shuttingDown = false;
  /** Writes --config-save's file; undefined without one. */
  readonly #configWriter: ConfigWriter | undefined;
  /** Gives the C allocator's free memory back once the daemon goes quiet; from HEAP_TRIMMER_DELAY_MS after start() to shutdown. */
  #heapTrimmer: HeapTrimmer | undefined;
  /** Starts #heapTrimmer; cleared at shutdown. */
  #heapTrimmerStart: NodeJS.Timeout | undefined;

  constructor(private readonly options: DaemonOptions) {
    this.webTokens = new WebTokens(options.web?.token);
    this.#configWriter =
      options.configSave === undefined ? undefined : new ConfigWriter({ path: options.configSave, text: () => configFileText(this.config()), log: options.log });
    const changed = (): void => this.#configWriter?.changed();
    // Chardevs' events (a hub's drops) go to the QMP server, created below.
    this.chardevs = new TrackedChardevRegistry(
      {
        log: options.log,
        events: { emit: (name, data) => this.server.emit(name, data) },
        muxEscapeChar: options.muxEscapeChar,
        objects: this.objects,
        fdsets: this.fdSets,
      },
      changed,
    );
    this.devices = new TrackedDeviceRegistry(this.chardevs, changed);
    const trackedHandlers = trackingHubMembers(changed);
    const validator = new InputValidator(qapiTypeTable);
    this.#validator = validator;
    this.#handlers = trackedHandlers;
    const dispatcher = new QmpDispatcher<QmpContext>({
      specs: qmpCommandSpecs,
      handlers: trackedHandlers,
      validator,
      toQmpError,
      reportInternalError: (command, error) => options.log(`internal error in ${command}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`),
      observer: this.qmpCommands,
    });
    this.server = new QmpServer<QmpContext>({
      dispatcher,
      greeting: { QMP: { version: this.version as unknown as JsonValue, capabilities: [...OFFERED_CAPABILITIES] } },
      contextFor: (session) => ({ session, monitorFds: session.fds, server: this.server, dispatcher, daemon: this }),
      log: options.log,
      sessionClosed: (remaining) => this.fdSets.monitorGone(remaining),
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
      this.#createObjects();
      // Muxes tell their frontends `opened` once all of them are attached, as QEMU's do after its command line.
      this.chardevs.suspendMuxOpen();
      await this.#createChardevs();
      this.#attachChardevMonitors();
      await this.#createDevices();
      this.chardevs.resumeMuxOpen();
      await this.#openListeners();
      await this.#openHmpListeners();
      await this.#openWeb();
    } catch (error: unknown) {
      // Nothing half-started stays behind: sockets closed, their files removed; nor is it saved.
      await Promise.all([this.#closeAll(), this.#configWriter?.stop()]);
      throw error;
    }
    if (this.#shuttingDown) return;
    this.#configWriter?.start();
    // A second after serving: nothing is worth trimming before, and loading
    // perf_hooks to watch collections (and node:v8 to size the heap) cost
    // the first client 4 to 6 ms of start-up to its greeting
    // (bench/startup.ts).
    this.#heapTrimmerStart = setTimeout(() => {
      this.#heapTrimmer = new HeapTrimmer();
    }, HEAP_TRIMMER_DELAY_MS).unref();
  }

  /** The running configuration, as a config file holds it (query-config). */
  config(): ChardevdConfig {
    return runningConfig({
      chardevs: this.chardevs,
      devices: this.devices,
      objects: this.objects,
      qmp: this.options.qmp,
      monitors: this.options.monitors ?? [],
      web: this.options.web,
    });
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
      const tcp = tcpServerAddress(chardev.filename);
      const tls = chardev instanceof SocketChardev ? chardev.tlsCreds : undefined;
      if (tcp !== undefined && tls?.authenticatesPeers !== true) {
        const what = `${target.mode === 'control' ? 'QMP monitor' : 'monitor'} on chardev '${chardev.id}' (${tcp.address})`;
        this.options.log(unprotectedTcpWarning(what, tcp.host, target.mode === 'control' ? 'QMP' : 'monitor'));
      }
    }
  }

  async #openHmpListeners(): Promise<void> {
    for (const { target } of this.options.monitors ?? []) {
      if (target.type !== 'listener') continue;
      if (this.#shuttingDown) return;
      const hmpServer = this.#monitors!.hmpServer;
      const address = this.#secured(target.option, '-monitor', target.text, 'monitor');
      const bound = await hmpServer.listen(address).catch(namingOption('-monitor', target.text, target.option.address));
      if (this.#shuttingDown) {
        await hmpServer.close();
        return;
      }
      this.hmpListening.push(bound);
      const where = describeAddress(bound);
      this.options.log(`monitor listening on ${where}`);
      if (bound.type === 'inet' && !authenticates(this.#listenerCreds(target.option.tls))) {
        this.options.log(unprotectedTcpWarning(`monitor listener ${where}`, bound.host, 'monitor'));
      }
      if (target.option.wait) {
        this.options.log(`waiting for connection on: ${where},server=on`);
        await hmpServer.nextSession();
      }
    }
  }

  /** The web console, loaded only when asked for: a daemon without one does not load its HTTP server, WebSockets and metrics. */
  async #openWeb(): Promise<void> {
    const config = this.options.web;
    if (config === undefined || this.#shuttingDown) return;
    const { WebServer } = await import('../web/web-server.js');
    const web = new WebServer(config, {
      chardevs: this.chardevs,
      devices: this.devices,
      tokens: this.webTokens,
      qmpCommands: this.qmpCommands,
      hmpCommands: this.hmpCommands,
      qmpConnections: () => ({ open: this.server.sessions.size, total: this.server.accepted }),
      hmpConnections: () => ({ open: this.#monitors?.hmpServer.sessions.size ?? 0, total: this.#monitors?.hmpServer.accepted ?? 0 }),
      log: this.options.log,
    });
    const bound = await web.listen().catch(namingOption('-web', config.text, config.listen));
    this.#web = web;
    if (this.#shuttingDown) {
      await web.close();
      return;
    }
    this.webListening = bound;
    const where = bound.type === 'unix' ? `unix:${bound.path}` : `http://${bound.host.includes(':') ? `[${bound.host}]` : bound.host}:${bound.port}/`;
    this.options.log(`web console on ${where}`);
    if (bound.type === 'inet') {
      const warning = webTcpWarning(bound.host);
      if (warning !== undefined) this.options.log(warning);
    }
  }

  /**
   * Closes everything. A graceful stop (`drain`) first stops accepting
   * (the QMP and monitor listeners and their connections go, socket
   * chardevs take no new client), lets the links read what their sources
   * had sent and lossless sinks write it (at most STOP_DRAIN_TIMEOUT_MS),
   * and only then removes the links; closing each chardev then flushes
   * what it holds (at most CLOSE_FLUSH_TIMEOUT_MS, all at once).
   */
  async #closeAll(drain = false): Promise<void> {
    clearTimeout(this.#heapTrimmerStart);
    this.#heapTrimmer?.dispose();
    for (const monitor of this.#chardevMonitors.splice(0)) monitor.detach();
    for (const socket of this.#handshaking) socket.destroy();
    // Web viewers leave their hubs now, before the hubs close.
    const listeners = Promise.allSettled([this.server.close(), this.#monitors?.hmpServer.close(), this.#web?.close()]);
    if (drain) {
      const chardevs = this.chardevs.list();
      for (const chardev of chardevs) chardev.stopAccepting();
      if (!(await drainLinks(this.devices.links(), chardevs))) {
        this.options.log(`stopping after ${STOP_DRAIN_TIMEOUT_MS} ms with data still moving: a source still sends, or a sink cannot write`);
      }
    }
    this.devices.removeAll();
    await Promise.allSettled([listeners, this.chardevs.closeAll()]);
  }

  #loadMonitors(): Promise<DaemonMonitors> {
    this.#monitorsLoading ??= import('./monitors.js').then(({ DaemonMonitors }) => {
      this.#monitors = new DaemonMonitors({
        daemon: this,
        devices: this.devices,
        handlers: this.#handlers,
        validator: this.#validator,
        dispatcher: this.#dispatcher,
        server: this.server,
        log: this.options.log,
        hmpCommands: this.hmpCommands,
      });
      return this.#monitors;
    });
    return this.#monitorsLoading;
  }

  async #openListeners(): Promise<void> {
    for (const { option, pretty, text } of this.options.qmp) {
      if (this.#shuttingDown) return;
      const address = this.#secured(option, '-qmp', text, 'QMP');
      const bound = await this.server.listen(address, { pretty }).catch(namingOption('-qmp', text, option.address));
      // shutdown() came while it opened: close it too (that removes its socket file).
      if (this.#shuttingDown) {
        await this.server.close();
        return;
      }
      this.listening.push(bound);
      const where = describeAddress(bound);
      this.options.log(`QMP listening on ${where}`);
      if (bound.type === 'inet' && !authenticates(this.#listenerCreds(option.tls))) this.options.log(unprotectedTcpWarning(`QMP listener ${where}`, bound.host, 'QMP'));
      if (option.wait) {
        this.options.log(`waiting for connection on: ${where},server=on`);
        await this.server.nextSession();
      }
    }
  }

  /** -object and a config file's objects, before the chardevs that use them, as QEMU creates its early objects. */
  #createObjects(): void {
    for (const { origin, options } of this.options.objects ?? []) {
      try {
        this.objects.add(options);
      } catch (error: unknown) {
        if (error instanceof ObjectError) throw new StartupChardevError(origin === undefined ? error.message : `${origin}: ${error.message}`);
        throw error;
      }
    }
  }

  /** The server credentials a listener's tls-creds names, in the words a socket chardev would use; undefined without TLS. */
  #listenerCreds(tls: ListenerTls | undefined): TlsCreds | undefined {
    return tls === undefined ? undefined : this.objects.tlsCreds(tls.creds, 'server');
  }

  /**
   * A listener's address with its TLS handshake (tls-creds, tls-authz as
   * a socket chardev takes them): each client is checked as a TLS socket
   * chardev checks it, and one refused is logged and closed.
   */
  #secured(option: QmpOption, name: string, text: string | undefined, what: string): QmpListenAddress {
    const { address, tls } = option;
    if (tls === undefined || address.type !== 'inet') return address;
    let creds: TlsCreds;
    try {
      creds = this.#listenerCreds(tls)!;
    } catch (error: unknown) {
      if (error instanceof ObjectError) throw new ListenerError(`${name} ${text ?? describeAddress(address)}: ${error.message}`, { cause: error });
      throw error;
    }
    const policy = { creds, authz: tls.authz, lookupAuthz: (id: string) => this.objects.authz(id) };
    const secure: SecureAccept = (raw, serve) => {
      const peer = `${raw.remoteAddress ?? ''}:${raw.remotePort ?? ''}`;
      // The port bound (port 0 asks for any), as the listening message names it.
      const where = `tcp:${raw.localAddress?.includes(':') === true ? `[${raw.localAddress}]` : (raw.localAddress ?? '')}:${raw.localPort ?? ''}`;
      this.#handshaking.add(raw);
      acceptTls(raw, policy, (outcome) => {
        this.#handshaking.delete(raw);
        if ('socket' in outcome) serve(outcome.socket);
        else if (!this.#shuttingDown) this.options.log(`${what} listener ${where}: TLS handshake with ${peer} failed: ${outcome.refused}`);
      });
    };
    return { ...address, secure };
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
  async #createDevices(): Promise<void> {
    if (this.#shuttingDown) return;
    for (const device of this.options.devices ?? []) {
      try {
        await addDevice(this.devices, device);
      } catch (error: unknown) {
        if (error instanceof DeviceError) throw new StartupDeviceError(`${device.origin}: ${error.message}`);
        throw error;
      }
    }
    for (const { service, origin } of this.options.demuxServices ?? []) {
      try {
        await this.devices.demux(service.device).addService(service);
      } catch (error: unknown) {
        if (error instanceof DeviceError) throw new StartupDeviceError(`${origin}: ${error.message}`);
        throw error;
      }
    }
  }

  shutdown(reason: ShutdownCause): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    sendShutdownEvent(this.server, { guest: false, reason });
    // The configuration as it is now, before closing takes it apart.
    const saved = this.#configWriter?.stop();
    // Let the command that asked for it send its reply first (QEMU replies to quit, then closes).
    setImmediate(() => {
      void Promise.all([this.#closeAll(true), saved]).then(() => this.#stop());
    });
  }
}

/**
 * The handlers, with hub-add-member, hub-remove-member, object-add and object-del telling
 * `changed` once they succeeded; the registries tell it of every other
 * change to the configuration.
 */
function trackingHubMembers(changed: () => void): QmpCommandHandlers<QmpContext> {
  const then = <T>(result: T | Promise<T>): T | Promise<T> => {
    if (result instanceof Promise) {
      return result.then((value) => {
        changed();
        return value;
      });
    }
    changed();
    return result;
  };
  return {
    ...qmpHandlers,
    'hub-add-member': (args, context) => then(qmpHandlers['hub-add-member'](args, context)),
    'hub-remove-member': (args, context) => then(qmpHandlers['hub-remove-member'](args, context)),
    'object-add': (args, context) => then(qmpHandlers['object-add'](args, context)),
    'object-del': (args, context) => then(qmpHandlers['object-del'](args, context)),
    'demux-service-add': (args, context) => then(qmpHandlers['demux-service-add'](args, context)),
    'demux-service-remove': (args, context) => then(qmpHandlers['demux-service-remove'](args, context)),
  };
}

/** Whether TLS credentials let in only peers that prove who they are (a CA's certificate, a pre-shared key). */
function authenticates(creds: TlsCreds | undefined): boolean {
  return creds?.authenticatesPeers === true;
}

export function describeAddress(address: QmpListenAddress): string {
  if (address.type === 'unix') return `unix:${address.path}`;
  return `tcp:${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
}

/** Prefixes a listener's failure with the option it came from (`-qmp TEXT: ...`), as QEMU words its errors. */
function namingOption(option: string, text: string | undefined, address: QmpListenAddress): (error: unknown) => never {
  return (error: unknown) => {
    if (!(error instanceof ListenerError)) throw error;
    throw new ListenerError(`${option} ${text ?? describeAddress(address)}: ${error.message}`, { cause: error });
  };
}
