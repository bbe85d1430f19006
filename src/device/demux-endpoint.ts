import { rmSync } from 'node:fs';
import * as net from 'node:net';
import type { Duplex, Readable, Writable } from 'node:stream';
import type { DemuxChannel, DemuxCloseInfo } from '../demux/channel.js';
import { DemuxCode, type DemuxRole } from '../demux/codes.js';
import type { DemuxTarget } from '../demux/payloads.js';
import { DemuxSession, type DemuxSessionError } from '../demux/session.js';
import { connectForChannel, type DemuxAddress, listenDemuxAddress } from './demux-address.js';
import { bridgeStream } from './demux-bridge.js';
import { nativeCrc32 } from './native-crc32.js';

export interface DemuxEndpointOptions {
  /** `secondary` (the default) at the guest end, facing chardevd's demux device. */
  readonly role?: DemuxRole;
  /** Services of this end by name, or `port:N` for a port: channels the peer opens to one connect to its address. */
  readonly services?: ReadonlyMap<string, DemuxAddress>;
  readonly maxChannels?: number;
  readonly window?: number;
  /** What happened, for a log (refusals, errors, the handshake). */
  readonly log?: (message: string) => void;
}

/**
 * The demux protocol over any pair of Node streams (a virtio-serial port,
 * a tty in raw mode, a socket, stdio): the other end of chardevd's demux
 * device, for a guest that has nothing but Node. Channels the peer opens
 * go to this end's services; `forward()` opens channels toward the peer
 * for each connection to a local listener, `connect()` for one stream.
 */
export class DemuxEndpoint {
  readonly session: DemuxSession;
  readonly #services: ReadonlyMap<string, DemuxAddress>;
  readonly #servers: { server: net.Server; path: string | undefined }[] = [];
  readonly #log: (message: string) => void;
  readonly ready: Promise<void>;
  /** Settles when the transport's input ends. */
  readonly ended: Promise<void>;

  constructor(input: Readable, output: Writable, options: DemuxEndpointOptions = {}) {
    this.#services = options.services ?? new Map();
    this.#log = options.log ?? (() => {});
    let ready!: () => void;
    this.ready = new Promise((resolve) => (ready = resolve));
    this.session = new DemuxSession({
      role: options.role ?? 'secondary',
      ...(options.maxChannels !== undefined ? { maxChannels: options.maxChannels } : {}),
      ...(options.window !== undefined ? { window: options.window } : {}),
      crc32: nativeCrc32,
      write: (bytes) => output.write(bytes),
      incoming: (channel) => this.#incoming(channel),
      ready: () => {
        this.#log('demux session ready');
        ready();
      },
      refused: (channel, target, code, reason) => this.#log(`refused channel ${channel}${target === undefined ? '' : ` to ${describe(target)}`}: ${reason} (${code})`),
      error: (error: DemuxSessionError) => this.#log(`${error.fromPeer ? 'peer reports' : 'error'} on channel ${error.channel}: ${error.reason} (${error.code})`),
    });
    output.on('drain', () => this.session.drained());
    output.on('error', (error: Error) => this.#log(`transport write failed: ${error.message}`));
    input.on('data', (chunk: Buffer) => this.session.receive(chunk));
    this.ended = new Promise<void>((resolve) => {
      input.once('end', resolve);
      input.once('close', resolve);
      input.once('error', (error: Error) => {
        this.#log(`transport read failed: ${error.message}`);
        resolve();
      });
    }).then(() => this.session.transportLost());
    this.session.start();
  }

  /**
   * A channel to `target` on the peer joined to `stream`; resolves once
   * accepted, rejects with the refusal. `closed` hears how it ended.
   */
  connect(target: DemuxTarget, stream: Duplex, closed?: (info: DemuxCloseInfo) => void): Promise<DemuxChannel> {
    return new Promise((resolve, reject) => {
      const bridge = bridgeStream(stream, (info: DemuxCloseInfo) => {
        if (info.refused) reject(new Error(`${describe(target)} refused: ${info.reason}`));
        closed?.(info);
      });
      const channel: DemuxChannel = this.session.open(target, { ...bridge, accepted: () => resolve(channel) });
      bridge.attach(channel);
    });
  }

  /** Each connection to `address` (a unix path or TCP port here) opens a channel to `target` on the peer. */
  async forward(address: DemuxAddress, target: DemuxTarget): Promise<void> {
    const server = net.createServer({ allowHalfOpen: true }, (socket) => {
      socket.on('error', () => {});
      this.connect(target, socket).catch((error: unknown) => {
        this.#log(error instanceof Error ? error.message : String(error));
        socket.destroy();
      });
    });
    await listenDemuxAddress(server, address);
    this.#servers.push({ server, path: address.type === 'unix' ? address.path : undefined });
  }

  /** Closes the listeners and every channel; the transport stays open. */
  close(): void {
    for (const { server, path } of this.#servers.splice(0)) {
      server.close();
      if (path !== undefined) rmSync(path, { force: true });
    }
    this.session.closeAll(DemuxCode.SHUTTING_DOWN, 'the endpoint closes');
  }

  #incoming(channel: DemuxChannel): void {
    const { target } = channel;
    const address = this.#services.get('name' in target ? target.name : `port:${target.port}`);
    if (address === undefined) {
      this.#log(`refused channel ${channel.id} to ${describe(target)}: no such service`);
      channel.refuse(DemuxCode.UNKNOWN_SERVICE, `no service ${describe(target)}`);
      return;
    }
    connectForChannel(
      address,
      () => channel.state === 'opening',
      (socket) => {
        const bridge = bridgeStream(socket);
        channel.accept(bridge);
        bridge.attach(channel);
      },
      (error) => channel.refuse(DemuxCode.TARGET_FAILED, `cannot connect: ${error.message}`),
    );
  }
}

function describe(target: DemuxTarget): string {
  return 'name' in target ? `'${target.name}'` : `port ${target.port}`;
}
