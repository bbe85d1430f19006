import { rmSync } from 'node:fs';
import * as net from 'node:net';
import type { Chardev, ChardevEvent, ChardevFrontend } from '../chardev/chardev.js';
import type { DemuxChannel, DemuxChannelHandler, DemuxCloseInfo } from '../demux/channel.js';
import { codeName, DemuxCode, isServiceName } from '../demux/codes.js';
import type { DemuxTarget } from '../demux/payloads.js';
import { DemuxSession } from '../demux/session.js';
import type { QmpEvents } from '../generated/qapi-events.gen.js';
import type { DemuxService } from '../generated/qapi-types.gen.js';
import type { EventSink } from '../qapi-runtime/index.js';
import { connectForChannel, type DemuxAddress, listenDemuxAddress, parseDemuxAddress } from './demux-address.js';
import { bridgeStream } from './demux-bridge.js';
import { ChardevChannelEnd } from './demux-chardev-end.js';
import { DeviceError } from './device-error.js';
import { HybridVsockDoor } from './hybrid-vsock.js';
import { nativeCrc32 } from './native-crc32.js';

/** The most the device takes from its chardev per delivery: it always reads, since each channel's credit bounds what it holds. */
const INPUT_CHUNK = 64 << 10;

/** What a demux device needs of the daemon. */
export interface DemuxDeviceContext {
  readonly events?: EventSink<QmpEvents> | undefined;
  readonly findChardev: (id: string) => Chardev | undefined;
}

/** A registered service and its running parts. */
interface ServiceEntry {
  readonly spec: DemuxService;
  readonly connect?: DemuxAddress;
  server?: net.Server;
  listenPath?: string;
  opened: number;
  refused: number;
  channels: number;
}

/** The device's properties besides its chardev. */
export interface DemuxDeviceOptions {
  /** The hybrid vsock socket's path. */
  readonly vsock: string | undefined;
  /** Channels at once (HELLO's max_channels); the protocol's default when not given. */
  readonly maxChannels: number | undefined;
}

/**
 * The demux device: chardevd's demux protocol (docs/demux-protocol.md)
 * over one chardev, as the primary side. Channels the peer opens go to
 * the service of their name or port (a connection to a unix or TCP
 * address, or a chardev); connections to a service's listener, and to
 * the hybrid vsock socket, open channels toward the peer. The session
 * starts each time the chardev connects and ends when it disconnects.
 */
export class DemuxDevice implements ChardevFrontend {
  readonly frontendOpen = true;
  readonly vsock: string | undefined;
  readonly maxChannels: number | undefined;
  readonly session: DemuxSession;
  readonly #services = new Map<string, ServiceEntry>();
  readonly #door: HybridVsockDoor | undefined;
  /** Channels and the service they belong to, for counters and events. */
  readonly #owners = new Map<DemuxChannel, ServiceEntry | undefined>();

  constructor(
    readonly id: string | undefined,
    readonly path: string,
    readonly chardev: Chardev,
    { vsock, maxChannels }: DemuxDeviceOptions,
    private readonly context: DemuxDeviceContext,
  ) {
    this.vsock = vsock;
    this.maxChannels = maxChannels;
    this.session = new DemuxSession({
      role: 'primary',
      ...(maxChannels !== undefined ? { maxChannels } : {}),
      crc32: nativeCrc32,
      write: (bytes) => this.chardev.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)),
      incoming: (channel) => this.#incoming(channel),
      refused: (channel, target, code, reason) => this.#emitRefused(channel, target, 'peer', code, reason),
    });
    this.#door = vsock === undefined ? undefined : new HybridVsockDoor(vsock, (port, handler) => this.#openToPeer({ port }, handler, undefined));
  }

  /** Settles once start() did: the registry sets it when it adds the device. */
  started: Promise<void> = Promise.resolve();

  /** Takes the chardev at once, then opens the hybrid vsock socket. */
  async start(): Promise<void> {
    this.chardev.attach(this);
    await this.#door?.listen();
  }

  get label(): string {
    return this.id ?? this.path;
  }

  services(): { spec: DemuxService; opened: number; refused: number; channels: number }[] {
    return [...this.#services.values()].map(({ spec, opened, refused, channels }) => ({ spec, opened, refused, channels }));
  }

  // ChardevFrontend

  receiveCapacity(): number {
    return INPUT_CHUNK;
  }

  receive(data: Buffer): void {
    this.session.receive(data);
  }

  event(event: ChardevEvent): void {
    if (event === 'opened') this.session.start();
    else if (event === 'closed') this.session.transportLost('the chardev disconnected');
  }

  drain(): void {
    this.session.drained();
  }

  /** demux-service-add. */
  async addService(spec: DemuxService): Promise<void> {
    if (!isServiceName(spec.name)) throw new DeviceError(`Invalid service name '${spec.name}': 1 to 64 printable ASCII characters, no space`);
    if (this.#services.has(spec.name)) throw new DeviceError(`Demux device '${this.label}' already has a service '${spec.name}'`);
    if (spec.port !== undefined && [...this.#services.values()].some((entry) => entry.spec.port === spec.port)) {
      throw new DeviceError(`Demux device '${this.label}' already has a service with port ${spec.port}`);
    }
    const targets = [spec.connect, spec.listen, spec.chardev].filter((target) => target !== undefined);
    if (targets.length !== 1) throw new DeviceError(`Service '${spec.name}' needs exactly one of connect, listen and chardev`);
    const entry: ServiceEntry = { spec, opened: 0, refused: 0, channels: 0 };
    if (spec.connect !== undefined) Object.assign(entry, { connect: parseDemuxAddress(spec.connect, 'connect') });
    if (spec.chardev !== undefined) {
      const chardev = this.context.findChardev(spec.chardev);
      if (chardev === undefined) throw new DeviceError(`Chardev '${spec.chardev}' not found`);
      if (!chardev.acceptsFrontend) throw new DeviceError(`Device '${spec.chardev}' is in use`);
    }
    if (spec.listen !== undefined) await this.#listen(entry, parseDemuxAddress(spec.listen, 'listen'));
    this.#services.set(spec.name, entry);
  }

  /** demux-service-remove: the listener closes; open channels go on. */
  removeService(name: string): void {
    const entry = this.#services.get(name);
    if (entry === undefined) throw new DeviceError(`Demux device '${this.label}' has no service '${name}'`);
    this.#services.delete(name);
    this.#stopListening(entry);
  }

  /** Lets go of everything: channels are closed (CLOSE frames, then their connections), listeners and the vsock socket closed. */
  detach(): void {
    this.session.closeAll(DemuxCode.SHUTTING_DOWN, 'the demux device is removed');
    this.session.transportLost('the demux device is removed');
    this.chardev.detach(this);
    for (const entry of this.#services.values()) this.#stopListening(entry);
    this.#door?.close();
  }

  async #listen(entry: ServiceEntry, address: DemuxAddress): Promise<void> {
    const server = net.createServer({ allowHalfOpen: true }, (socket) => {
      socket.on('error', () => {});
      const target: DemuxTarget = entry.spec.port !== undefined ? { port: entry.spec.port } : { name: entry.spec.name };
      const bridge = bridgeStream(socket);
      let channel: DemuxChannel;
      try {
        channel = this.#openToPeer(target, bridge, entry);
      } catch {
        socket.destroy();
        return;
      }
      bridge.attach(channel);
    });
    server.on('error', () => {});
    await listenDemuxAddress(server, address).catch((error: unknown) => {
      throw new DeviceError(`Service '${entry.spec.name}' cannot listen on ${entry.spec.listen}: ${error instanceof Error ? error.message : String(error)}`);
    });
    entry.server = server;
    if (address.type === 'unix') entry.listenPath = address.path;
  }

  #stopListening(entry: ServiceEntry): void {
    entry.server?.close();
    if (entry.listenPath !== undefined) rmSync(entry.listenPath, { force: true });
  }

  /** A channel toward the peer, counted and told as events. */
  #openToPeer(target: DemuxTarget, handler: DemuxChannelHandler, entry: ServiceEntry | undefined): DemuxChannel {
    const channel = this.session.open(target, {
      ...handler,
      accepted: () => {
        handler.accepted?.();
        if (entry !== undefined) entry.opened++;
        this.#emitOpened(channel, 'host');
      },
      closed: (info) => {
        handler.closed?.(info);
        this.#closed(channel, info, 'host');
      },
    });
    this.#owners.set(channel, entry);
    if (entry !== undefined) entry.channels++;
    return channel;
  }

  #incoming(channel: DemuxChannel): void {
    const { target } = channel;
    const entry = 'name' in target ? this.#services.get(target.name) : [...this.#services.values()].find((service) => service.spec.port === target.port);
    const refuse = (code: number, reason: string): void => {
      if (entry !== undefined) entry.refused++;
      channel.refuse(code, reason);
      this.#emitRefused(channel.id, target, 'peer', code, reason);
    };
    if (entry === undefined) {
      // Firecracker's guest-initiated connections: port P goes to the unix socket "<uds_path>_<P>".
      if ('port' in target && this.vsock !== undefined) {
        this.#connectTo(channel, { type: 'unix', path: `${this.vsock}_${target.port}` }, undefined, refuse);
        return;
      }
      refuse(DemuxCode.UNKNOWN_SERVICE, 'name' in target ? `no service '${target.name}'` : `no service on port ${target.port}`);
      return;
    }
    if (entry.connect !== undefined) {
      this.#connectTo(channel, entry.connect, entry, refuse);
      return;
    }
    if (entry.spec.chardev !== undefined) {
      const chardev = this.context.findChardev(entry.spec.chardev);
      if (chardev === undefined || !chardev.acceptsFrontend) {
        refuse(DemuxCode.REFUSED, `chardev '${entry.spec.chardev}' is ${chardev === undefined ? 'gone' : 'in use'}`);
        return;
      }
      const end = new ChardevChannelEnd(chardev, (info) => this.#closed(channel, info, 'peer'));
      this.#accepted(channel, end, entry);
      end.attach(channel);
      return;
    }
    refuse(DemuxCode.REFUSED, `service '${entry.spec.name}' only opens channels toward the peer`);
  }

  /** Accepts `channel` once its connection to `address` is up; refuses it when the connection fails. */
  #connectTo(channel: DemuxChannel, address: DemuxAddress, entry: ServiceEntry | undefined, refuse: (code: number, reason: string) => void): void {
    connectForChannel(
      address,
      // The session may have ended while connecting.
      () => channel.state === 'opening',
      (socket) => {
        const bridge = bridgeStream(socket, (info) => this.#closed(channel, info, 'peer'));
        this.#accepted(channel, bridge, entry);
        bridge.attach(channel);
      },
      (error) => refuse(DemuxCode.TARGET_FAILED, `cannot connect to ${address.type === 'unix' ? address.path : `${address.host}:${address.port}`}: ${error.message}`),
    );
  }

  #accepted(channel: DemuxChannel, handler: DemuxChannelHandler, entry: ServiceEntry | undefined): void {
    channel.accept(handler);
    this.#owners.set(channel, entry);
    if (entry !== undefined) {
      entry.opened++;
      entry.channels++;
    }
    this.#emitOpened(channel, 'peer');
  }

  #closed(channel: DemuxChannel, info: DemuxCloseInfo, initiator: 'host' | 'peer'): void {
    const entry = this.#owners.get(channel);
    this.#owners.delete(channel);
    if (entry !== undefined) entry.channels--;
    if (info.refused) {
      if (entry !== undefined) entry.refused++;
      this.#emitRefused(channel.id, channel.target, initiator, info.code, info.reason);
      return;
    }
    this.context.events?.emit('DEMUX_CHANNEL_CLOSED', {
      device: this.label,
      channel: channel.id,
      ...targetMembers(channel.target),
      code: codeName(info.code),
      reason: info.reason,
      'bytes-in': channel.bytesIn,
      'bytes-out': channel.bytesOut,
    });
  }

  #emitOpened(channel: DemuxChannel, initiator: 'host' | 'peer'): void {
    this.context.events?.emit('DEMUX_CHANNEL_OPENED', { device: this.label, channel: channel.id, ...targetMembers(channel.target), initiator });
  }

  #emitRefused(channel: number, target: DemuxTarget | undefined, initiator: 'host' | 'peer', code: number, reason: string): void {
    this.context.events?.emit('DEMUX_CHANNEL_REFUSED', {
      device: this.label,
      channel,
      ...(target === undefined ? {} : targetMembers(target)),
      initiator,
      code: codeName(code),
      reason,
    });
  }
}

/** A target as event and query members: `service` or `port`. */
export function targetMembers(target: DemuxTarget): { service: string } | { port: number } {
  return 'name' in target ? { service: target.name } : { port: target.port };
}
