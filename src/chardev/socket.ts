import { isLiveUnixSocket, liveSocketText } from '../base/live-socket.js';
import * as fs from 'node:fs';
import * as net from 'node:net';
import type { ChardevSocket, QCryptoTLSCredsEndpoint } from '../generated/qapi-types.gen.js';
import { ObjectError } from '../objects/object-error.js';
import type { TlsCreds } from '../objects/tls-creds.js';
import { acceptTls, connectTls, type TlsOutcome } from '../objects/tls-session.js';
import type { ChardevBackendDefinition } from './backend-definition.js';
import { Chardev, type ChardevContext } from './chardev.js';
import { ChardevError, describeSystemError } from './chardev-error.js';
import type { ReadLease } from './read-buffer.js';
import {
  bindError,
  connectFailure,
  connectFamily,
  connectionName,
  inetPort,
  listenOn,
  type SocketChardevAddress,
  socketAddressName,
  supportedAddress,
  unixPath,
} from './socket-address.js';
import { PacedOutput } from './paced-output.js';
import { fdStreamConnection, type SocketConnection, StreamConnection } from './socket-connection.js';
import { takeSocketFd, streamSocketKind } from './socket-fd.js';
import { STALL_TIMEOUT_MAX } from './stall-watch.js';
import { parseSocket, SOCKET_OPTIONS, validateSocket } from './socket-options.js';
import type { WebSocketAcceptor } from './socket-websocket.js';

/**
 * Clients a single-client server holds, unserved, while another is
 * connected. QEMU leaves them in the kernel's backlog (of 1); Node accepts
 * every connection, so chardevd parks them, unread, up to this many, and
 * closes any beyond.
 */
export const MAX_WAITING_CLIENTS = 16;

/**
 * A stream socket, server or client (chardev/char-socket.c): unix or TCP,
 * telnet and tn3270 negotiation, WebSocket servers, reconnecting clients.
 * Open while a peer is connected. As in QEMU a server serves one client
 * at a time and later ones wait; chardevd's `clients=N` serves N at once,
 * output going to all and input coming from any. With `stall-timeout`
 * every client paces the frontend until it takes nothing for that long
 * (PacedOutput). With `tls-creds` every
 * TCP peer goes through a TLS handshake first (bounded by
 * TLS_HANDSHAKE_TIMEOUT_MS), and a server asks `tls-authz` about it.
 */
export class SocketChardev extends Chardev {
  readonly kind = 'socket';
  readonly #isServer: boolean;
  readonly #telnet: boolean;
  readonly #tn3270: boolean;
  readonly #websocket: boolean;
  readonly #nodelay: boolean;
  readonly #wait: boolean;
  readonly #reconnectMs: number;
  readonly #maxClients: number;
  readonly #stallTimeoutMs: number | undefined;
  readonly #address: SocketChardevAddress;
  /** The TLS credentials (`tls-creds`), taken when created, as QEMU takes a reference. */
  readonly #tls: TlsCreds | undefined;
  /** The id of the authorization object a TLS server asks about each client, looked up at each handshake. */
  readonly #tlsAuthz: string | undefined;
  /** The address as bound (real port for port 0), for filenames. */
  #bound: SocketChardevAddress;
  #server: net.Server | undefined;
  #acceptor: WebSocketAcceptor | undefined;
  readonly #connections = new Set<SocketConnection>();
  /** With stall-timeout: each client's paced output. */
  readonly #paced = new Map<SocketConnection, PacedOutput>();
  /** With stall-timeout: write() returned false and the frontend waits for drain(). */
  #frontendWaiting = false;
  /** What clients that have gone had dropped (droppedOutput). */
  #droppedByGone = 0;
  /** Accepted sockets still in the WebSocket handshake; each takes a client's place, as QEMU stops accepting meanwhile. */
  readonly #handshaking = new Set<net.Socket>();
  readonly #waiting: net.Socket[] = [];
  /** A connect in flight, destroyed by close(). */
  #connecting: net.Socket | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #connectFailureReported = false;
  #firstClient: (() => void) | undefined;

  constructor(
    id: string,
    options: ChardevSocket,
    private readonly context: ChardevContext,
  ) {
    super(id);
    this.#isServer = options.server ?? true;
    this.#telnet = options.telnet ?? false;
    this.#tn3270 = options.tn3270 ?? false;
    this.#websocket = options.websocket ?? false;
    this.#nodelay = options.nodelay ?? false;
    this.#wait = options.wait ?? false;
    const credsId = options['tls-creds'];
    this.#tls = credsId === undefined ? undefined : tlsCredsFor(context, credsId, this.#isServer ? 'server' : 'client');
    this.#tlsAuthz = options['tls-authz'];
    validateSocket(options, this.#isServer);
    this.#reconnectMs = options['reconnect-ms'] ?? (options.reconnect ?? 0) * 1000;
    this.#maxClients = options.clients ?? 1;
    this.#stallTimeoutMs = options['stall-timeout'];
    if (this.#maxClients < 1) throw new ChardevError("'clients' must be at least 1");
    if (this.#maxClients > 1 && !this.#isServer) throw new ChardevError("'clients' option is incompatible with socket in client connect mode");
    const stall = this.#stallTimeoutMs;
    if (stall !== undefined && (stall < 1 || stall > STALL_TIMEOUT_MAX)) throw new ChardevError(`'stall-timeout' must be between 1 and ${STALL_TIMEOUT_MAX}`);
    this.#address = this.#bound = supportedAddress(options.addr);
  }

  get filename(): string {
    const connection = this.#connections.values().next().value;
    if (connection !== undefined) return connectionName(this.#bound, this.#protocol(), this.#isServer, connection.socket);
    return `disconnected:${socketAddressName(this.#bound, this.#protocol(), this.#isServer)}`;
  }

  /** The TLS credentials of its peers' sessions (`tls-creds`), if any. */
  get tlsCreds(): TlsCreds | undefined {
    return this.#tls;
  }

  /** The peers served now. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Accepted peers still in the TLS or WebSocket handshake; each holds a place, as a served peer does. */
  get handshakeCount(): number {
    return this.#handshaking.size;
  }

  /** Accepted peers waiting, unread, for a place. */
  get waitingCount(): number {
    return this.#waiting.length;
  }

  #protocol(): string {
    if (this.#telnet) return 'telnet';
    return this.#websocket ? 'websocket' : 'tcp';
  }

  async open(): Promise<void> {
    if (this.#isServer) {
      await this.#listen();
      if (this.#wait) {
        this.context.log(`QEMU waiting for connection on: ${this.filename}`);
        await new Promise<void>((resolve) => {
          this.#firstClient = resolve;
        });
      }
    } else if (this.#address.type === 'fd') {
      this.#adopt(this.#passedSocket(this.#address.str));
    } else if (this.#reconnectMs > 0) {
      this.#connectInBackground();
    } else {
      this.#adopt(await this.#connect());
    }
  }

  async #listen(): Promise<void> {
    if (this.#websocket) this.#acceptor = new (await import('./socket-websocket.js')).WebSocketAcceptor();
    const server = net.createServer({ pauseOnConnect: true }, (socket) => this.#accepted(socket));
    this.#server = server;
    // After listen, a failing accept (EMFILE) is reported here; the listener keeps going.
    server.on('error', (error) => {
      if (server.listening) this.context.log(`chardev '${this.id}': accept failed: ${describeSystemError(error)}`);
    });
    const address = this.#address;
    if (address.type === 'fd') {
      await this.#listenOnPassed(server, address.str);
      return;
    }
    if (address.type === 'unix') {
      const listenPath = unixPath(address.unix);
      if (address.unix.abstract !== true) {
        if (await isLiveUnixSocket(address.unix.path)) throw new ChardevError(`Failed to bind socket to ${address.unix.path}: ${liveSocketText(address.unix.path)}`);
        try {
          fs.unlinkSync(address.unix.path);
        } catch (error: unknown) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
            throw new ChardevError(`Failed to unlink socket ${address.unix.path}: ${describeSystemError(error)}`);
          }
        }
      }
      await listenOn(server, { path: listenPath }, this.#maxClients).catch((error: unknown) => {
        throw new ChardevError(`Failed to bind socket to ${address.unix.path}: ${describeSystemError(bindError(error, address.unix))}`);
      });
      return;
    }
    const { host, port } = address.inet;
    const first = inetPort(address.inet, true);
    const last = address.inet.to ?? first;
    let lastError: unknown;
    for (let p = first; p <= Math.max(first, last); p++) {
      try {
        await listenOn(server, { host: host === '' ? undefined : host, port: p, ipv6Only: address.inet.ipv4 === false }, this.#maxClients);
        const bound = server.address() as net.AddressInfo;
        this.#bound = { type: 'inet', inet: { ...address.inet, host: bound.address, port: String(bound.port) } };
        return;
      } catch (error: unknown) {
        lastError = error;
        if ((error as NodeJS.ErrnoException).code === 'ENOTFOUND' || (error as NodeJS.ErrnoException).code === 'EAI_AGAIN') {
          throw new ChardevError(`address resolution failed for ${host}:${port}: Name or service not known`);
        }
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') {
          throw new ChardevError(`Failed to bind socket: ${describeSystemError(error)}`);
        }
      }
    }
    throw new ChardevError(`Failed to find an available port: ${describeSystemError(lastError)}`);
  }

  /**
   * A server on a passed descriptor (socket_listen): listen() on it, which
   * makes a bound socket listen or changes a listening one's backlog, and
   * fails for one already connected. Served as the address it is bound to.
   */
  async #listenOnPassed(server: net.Server, str: string): Promise<void> {
    const fd = takeSocketFd(str, this.context.monitor);
    const kind = streamSocketKind(fd);
    if (kind === undefined) {
      // A datagram socket: what listen() says of it.
      fs.closeSync(fd);
      throw new ChardevError('Failed to listen on fd socket: Operation not supported');
    }
    // Node owns the descriptor from here, and closes it if listen() fails.
    await listenOn(server, { fd }, this.#maxClients).catch((error: unknown) => {
      throw new ChardevError(`Failed to listen on fd socket: ${describeSystemError(error)}`);
    });
    if (kind.kind === 'unix') {
      this.#bound = { type: 'unix', unix: kind.abstract ? { path: kind.path, abstract: true, tight: true } : { path: kind.path } };
    } else {
      const bound = server.address() as net.AddressInfo;
      this.#bound = { type: 'inet', inet: { host: bound.address, port: String(bound.port) } };
    }
  }

  /** A client on a passed descriptor: the connected socket it is, served at once. */
  #passedSocket(str: string): net.Socket {
    const fd = takeSocketFd(str, this.context.monitor);
    if (streamSocketKind(fd) === undefined) {
      fs.closeSync(fd);
      throw new ChardevError(`File descriptor '${str}' is not a stream socket (unix or TCP)`);
    }
    // Paused until the chardev reads it (pauseOnCreate, as readIntoBuffer uses it).
    return new net.Socket({ fd, readable: true, writable: true, pauseOnCreate: true } as net.SocketConstructorOpts);
  }

  #accepted(socket: net.Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    if (this.#connections.size + this.#handshaking.size >= this.#maxClients) {
      if (this.#waiting.length >= MAX_WAITING_CLIENTS) {
        socket.destroy();
        return;
      }
      this.#waiting.push(socket);
      socket.on('error', () => socket.destroy());
      socket.once('close', () => {
        const index = this.#waiting.indexOf(socket);
        if (index >= 0) this.#waiting.splice(index, 1);
      });
      return;
    }
    this.#adopt(socket);
  }

  /** Serves a connected socket: handshakes first (TLS, then WebSocket), then data; opened when the first peer is ready. */
  #adopt(socket: net.Socket): void {
    socket.on('error', () => socket.destroy());
    if (this.#address.type === 'inet') {
      socket.setNoDelay(this.#nodelay);
      if (this.#address.inet['keep-alive'] === true) socket.setKeepAlive(true);
    }
    if (this.#tls !== undefined) this.#secure(socket, this.#tls);
    else this.#serve(socket);
  }

  /**
   * The TLS handshake, holding the peer's place meanwhile. A refused peer
   * (QEMU's check texts) is logged and closed, and the next one waiting
   * is served; a refused server makes a reconnecting client try again.
   */
  #secure(raw: net.Socket, creds: TlsCreds): void {
    this.#handshaking.add(raw);
    const peer = `${raw.remoteAddress ?? ''}:${raw.remotePort ?? ''}`;
    const done = (outcome: TlsOutcome): void => {
      this.#handshaking.delete(raw);
      if (this.closed) {
        if ('socket' in outcome) outcome.socket.destroy();
        return;
      }
      if ('socket' in outcome) {
        this.#connectFailureReported = false;
        this.#serve(outcome.socket);
        return;
      }
      // A reconnecting client says so once until it gets through, as for a failed connect.
      if (this.#isServer || !this.#connectFailureReported) this.context.log(`chardev '${this.id}': TLS handshake with ${peer} failed: ${outcome.refused}`);
      if (this.#isServer) this.#serveNext();
      else {
        this.#connectFailureReported = true;
        if (this.#reconnectMs > 0) this.#scheduleReconnect();
      }
    };
    if (this.#isServer) {
      const objects = this.context.objects;
      const lookupAuthz = (id: string): ReturnType<NonNullable<typeof objects>['authz']> => objects?.authz(id) ?? `Cannot find QAuthZ object ID ${id}`;
      acceptTls(raw, { creds, authz: this.#tlsAuthz, lookupAuthz }, done);
    } else {
      // QEMU's client checks the server's certificate against the host it connects to (tcp_chr_tls_init).
      connectTls(raw, creds, this.#address.type === 'inet' ? this.#address.inet.host : '', done);
    }
    raw.resume();
  }

  #serve(socket: net.Socket): void {
    const handlers = {
      data: (chunk: Buffer, lease?: ReadLease) => this.receive(chunk, lease),
      descriptors: (fds: readonly number[]) => this.receiveDescriptors(fds),
      tooManyDescriptors: () => this.context.log(`chardev '${this.id}': a client passed more than 16 descriptors with one message: closed them all`),
      break: () => this.sendBreak(),
      // With stall-timeout the client's paced output decides when the frontend may write again.
      drain: () => (this.#stallTimeoutMs === undefined ? this.drained() : this.#paced.get(connection)?.drain()),
      closed: () => this.#lost(connection),
    };
    let connection: SocketConnection;
    if (this.#acceptor !== undefined) {
      this.#handshaking.add(socket);
      const failed = (): void => {
        // The peer left or was refused before the upgrade: its place goes to the next one waiting.
        if (this.#handshaking.delete(socket)) this.#serveNext();
      };
      socket.once('close', failed);
      this.#acceptor.accept(socket, handlers, (ready) => {
        socket.off('close', failed);
        this.#handshaking.delete(socket);
        connection = ready;
        this.#ready(connection);
      });
      socket.resume();
      return;
    }
    const passing = this.#passesDescriptors(socket) ? fdStreamConnection(socket, handlers) : undefined;
    connection = passing ?? new StreamConnection(socket, this.#isServer ? { telnet: this.#telnet, tn3270: this.#tn3270 } : undefined, handlers);
    this.#ready(connection);
  }

  /**
   * Whether `socket` is read with recvmsg(), for descriptors passed on it:
   * a unix connection without telnet, for a frontend that takes them (a
   * QMP monitor), which Node has not read yet: one a server accepted, or
   * a passed descriptor. A client's own connect is read by Node from the
   * start, so it takes none.
   */
  #passesDescriptors(socket: net.Socket): boolean {
    if (!this.frontendTakesDescriptors || this.#telnet || this.#tn3270 || socket.remoteAddress !== undefined) return false;
    return this.#isServer || this.#address.type === 'fd';
  }

  #ready(connection: SocketConnection): void {
    if (this.closed) {
      connection.close();
      return;
    }
    this.#connections.add(connection);
    if (this.#stallTimeoutMs !== undefined) this.#paced.set(connection, new PacedOutput(connection, this.#stallTimeoutMs, () => this.#clientProgressed()));
    if (!this.inputPaused) connection.resume();
    this.setOpen(true);
    this.#firstClient?.();
    this.#firstClient = undefined;
  }

  #lost(connection: SocketConnection): void {
    if (!this.#connections.delete(connection)) return;
    this.#droppedByGone += connection.dropped;
    const paced = this.#paced.get(connection);
    if (paced !== undefined) {
      this.#paced.delete(connection);
      this.#droppedByGone += paced.dropped;
      paced.dispose();
      // A client that held the frontend back is gone.
      this.#clientProgressed();
    }
    if (this.#connections.size === 0) this.setOpen(false);
    if (this.closed) return;
    if (this.#isServer) this.#serveNext();
    else if (this.#reconnectMs > 0) this.#scheduleReconnect();
  }

  /** Serves the longest-waiting client, if a place is free. */
  #serveNext(): void {
    if (this.closed || this.#connections.size + this.#handshaking.size >= this.#maxClients) return;
    const next = this.#waiting.shift();
    if (next !== undefined) this.#adopt(next);
  }

  #connect(): Promise<net.Socket> {
    const address = this.#address;
    return new Promise((resolve, reject) => {
      if (address.type === 'fd') throw new Error('a passed descriptor is not connected again');
      const socket =
        address.type === 'unix'
          ? net.connect({ path: unixPath(address.unix) })
          : net.connect({ host: address.inet.host, port: inetPort(address.inet, false), family: connectFamily(address.inet) });
      this.#connecting = socket;
      const failed = (error: Error): void => {
        if (this.#connecting === socket) this.#connecting = undefined;
        socket.destroy();
        reject(connectFailure(address, error));
      };
      socket.once('error', failed);
      // close() gave up on it: no error follows a plain destroy.
      socket.once('close', () => reject(new ChardevError('Failed to connect: the chardev was closed')));
      socket.once('connect', () => {
        if (this.#connecting === socket) this.#connecting = undefined;
        socket.off('error', failed);
        // Until the chardev adopts it (or drops it, closed meanwhile).
        socket.on('error', () => socket.destroy());
        socket.pause();
        resolve(socket);
      });
    });
  }

  /** A reconnecting client: connects in the background and retries, reporting a failure once until a success. */
  #connectInBackground(): void {
    this.#connect().then(
      (socket) => {
        if (this.closed) {
          socket.destroy();
          return;
        }
        // With TLS, getting through means the handshake too (#secure).
        if (this.#tls === undefined) this.#connectFailureReported = false;
        this.#adopt(socket);
      },
      (error: unknown) => {
        if (this.closed) return;
        if (!this.#connectFailureReported) {
          this.#connectFailureReported = true;
          this.context.log(`Unable to connect character device ${this.id}: ${(error as Error).message}`);
        }
        this.#scheduleReconnect();
      },
    );
  }

  #scheduleReconnect(): void {
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = setTimeout(() => this.#connectInBackground(), this.#reconnectMs);
  }

  /**
   * Every client gets every byte. The frontend waits only when no client
   * can take more: with one client (QEMU's only mode) that client paces
   * it, as in QEMU; with clients=N the fastest reader does, and a client
   * that stops reading loses what comes beyond its own bounded queue
   * (OUTPUT_QUEUE_LIMIT), counted in `droppedOutput`, so it never stalls
   * the source or the other clients. With stall-timeout every client
   * that is behind paces it, unless cut loose.
   */
  protected writeToBackend(data: Buffer, lease?: ReadLease): boolean {
    // QEMU discards output while nobody is connected (write gives EIO).
    if (this.#connections.size === 0) return true;
    if (this.#stallTimeoutMs !== undefined) {
      let more = true;
      for (const paced of this.#paced.values()) {
        paced.write(data, lease);
        if (paced.pacing) more = false;
      }
      if (!more) this.#frontendWaiting = true;
      return more;
    }
    let someoneTakesMore = false;
    for (const connection of this.#connections) if (connection.write(data, lease)) someoneTakesMore = true;
    return someoneTakesMore;
  }

  /** Each connection copies or keeps lent data as it needs (StreamOutput.write). */
  protected override writeLentToBackend(data: Buffer, lease: ReadLease): boolean {
    return this.writeToBackend(data, lease);
  }

  /** A client moved bytes, was cut loose or left: if no client holds the frontend back any more, it may write again. */
  #clientProgressed(): void {
    if (!this.#frontendWaiting) return;
    for (const paced of this.#paced.values()) if (paced.pacing) return;
    this.#frontendWaiting = false;
    this.drained();
  }

  /** Output lost because a client did not read, over every client so far. */
  get droppedOutput(): number {
    let dropped = this.#droppedByGone;
    for (const connection of this.#connections) dropped += connection.dropped;
    for (const paced of this.#paced.values()) dropped += paced.dropped;
    return dropped;
  }

  protected override pauseInput(): void {
    for (const connection of this.#connections) connection.pause();
  }

  protected override resumeInput(): void {
    for (const connection of this.#connections) connection.resume();
  }

  /** Graceful stop: the listening socket closes, the clients served go on until close(), whose server.close() still completes. */
  override stopAccepting(): void {
    if (this.#server?.listening === true) this.#server.close();
  }

  protected async closeBackend(): Promise<void> {
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    this.#firstClient?.();
    this.#connecting?.destroy();
    this.#connecting = undefined;
    for (const socket of this.#waiting.splice(0)) socket.destroy();
    for (const socket of this.#handshaking) socket.destroy();
    this.#handshaking.clear();
    for (const connection of this.#connections) connection.close();
    for (const paced of this.#paced.values()) paced.dispose();
    this.#acceptor?.close();
    const server = this.#server;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
    // As QEMU's socket_listen_cleanup, also for a passed listening socket: the path it was bound to goes.
    const bound = this.#bound;
    if (bound.type === 'unix' && this.#isServer && bound.unix.abstract !== true && bound.unix.path !== '') {
      fs.rmSync(bound.unix.path, { force: true });
    }
  }
}

/** qmp_chardev_open_socket's lookup of `tls-creds`, with its texts. */
function tlsCredsFor(context: ChardevContext, id: string, endpoint: QCryptoTLSCredsEndpoint): TlsCreds {
  if (context.objects === undefined) throw new ChardevError(`No TLS credentials with id '${id}'`);
  try {
    return context.objects.tlsCreds(id, endpoint);
  } catch (error: unknown) {
    if (error instanceof ObjectError) throw new ChardevError(error.message, { cause: error });
    throw error;
  }
}

/** `-chardev socket,path=P` or `host=H,port=N` or `fd=F`, server or client (chardev/char-socket.c). */
export const socketBackend: ChardevBackendDefinition<'socket'> = {
  kinds: ['socket'],
  options: SOCKET_OPTIONS,
  optionDefaults: { tight: 'on' },
  parse: (kind, opts) => ({ type: kind, data: parseSocket(opts) }),
  create: (id, backend, context) => new SocketChardev(id, backend.data, context),
};
