import type { Socket } from 'node:net';
import type { QmpEvents } from '../generated/qapi-events.gen.js';
import type { EventSink } from '../qapi-runtime/index.js';
import type { QmpDispatcher } from './dispatch.js';
import type { JsonObject, JsonValue } from '../qobject/json-value.js';
import { formatQmpJson } from '../qobject/json-writer.js';
import { type QmpListenAddress, SocketListeners } from './socket-listeners.js';
import { QMP_SESSION_DEFAULTS, QmpSession, type QmpSessionHost, type QmpSessionLimits } from './session.js';
import { type QmpTransport, socketTransport } from './transport.js';
import { fdSocketTransport } from './fd-socket-transport.js';
import { fdPassingUnavailable } from '../base/fd-passing.js';

/** How long close() lets clients read their last replies before cutting them off. */
const CLOSE_GRACE_MS = 1000;

export interface QmpListenOptions {
  /** Multi-line replies, as QEMU's `-qmp-pretty`. */
  readonly pretty?: boolean;
  /** A tighter bound than the server's outputPauseBytes, for a transport that drops what queues beyond its own. */
  readonly outputPauseBytes?: number;
}

export interface QmpServerOptions<Context> {
  readonly dispatcher: QmpDispatcher<Context>;
  /** The `{"QMP": ...}` greeting sent to each new connection. */
  readonly greeting: JsonObject;
  /** The context handlers of a session's commands receive. */
  readonly contextFor: (session: QmpSession<Context>) => Context;
  readonly log: (message: string) => void;
  readonly limits?: QmpSessionLimits;
  /** A session ended; `remaining` are still open (QEMU runs its fd set cleanup on every monitor's disconnect). */
  readonly sessionClosed?: (remaining: number) => void;
}

/**
 * QMP listeners and their connections. Unlike QEMU, where a monitor serves
 * one client at a time and the rest wait in the backlog, every listener
 * serves any number of connections at once, each with its own session.
 * Events go to every session that finished negotiation (monitor_qapi_event_emit).
 */
export class QmpServer<Context> implements EventSink<QmpEvents>, QmpSessionHost<Context> {
  readonly sessions = new Set<QmpSession<Context>>();
  readonly #listeners: SocketListeners = new SocketListeners('QMP', (message) => this.log(message));
  readonly #sessionWaiters: ((session: QmpSession<Context>) => void)[] = [];
  #accepted = 0;

  constructor(private readonly options: QmpServerOptions<Context>) {}

  /** Sessions served since start (a listener's connections and monitors on chardevs). */
  get accepted(): number {
    return this.#accepted;
  }

  get dispatcher(): QmpDispatcher<Context> {
    return this.options.dispatcher;
  }

  get greeting(): JsonObject {
    return this.options.greeting;
  }

  contextFor(session: QmpSession<Context>): Context {
    return this.options.contextFor(session);
  }

  log(message: string): void {
    this.options.log(message);
  }

  sessionClosed(session: QmpSession<Context>): void {
    if (this.sessions.delete(session)) this.options.sessionClosed?.(this.sessions.size);
  }

  /** Starts listening; resolves with the bound address (the real port when port 0 was asked). */
  async listen(address: QmpListenAddress, options: QmpListenOptions = {}): Promise<QmpListenAddress> {
    // A unix connection may pass descriptors: it is read with recvmsg(), so Node must not start reading it.
    const passFds = address.type === 'unix' && fdPassingUnavailable === undefined;
    if (address.type === 'unix' && !passFds) this.log(`QMP on ${address.path} takes no passed descriptors: ${fdPassingUnavailable}`);
    return this.#listeners.open(address, (socket) => (passFds ? this.#acceptPassingFds(socket, options) : this.accept(socket, options)), {
      pauseOnConnect: passFds,
    });
  }

  #acceptPassingFds(socket: Socket, options: QmpListenOptions): void {
    const transport = fdSocketTransport(socket, (message) => this.log(message));
    if (transport === undefined) {
      socket.resume();
      this.accept(socket, options);
      return;
    }
    this.serve(transport, options);
  }

  /** Serves an already connected socket as a QMP session. */
  accept(socket: Socket, options: QmpListenOptions = {}): QmpSession<Context> {
    socket.setNoDelay(true);
    return this.serve(socketTransport(socket), options);
  }

  /** Serves a QMP session on `transport` (a socket, or a chardev the monitor runs on); it gets events like any other. */
  serve(transport: QmpTransport, options: QmpListenOptions = {}): QmpSession<Context> {
    let limits = this.options.limits ?? QMP_SESSION_DEFAULTS;
    if (options.outputPauseBytes !== undefined) limits = { ...limits, outputPauseBytes: Math.min(limits.outputPauseBytes, options.outputPauseBytes) };
    const session = new QmpSession<Context>(this, transport, options.pretty ?? false, limits);
    this.sessions.add(session);
    this.#accepted++;
    for (const resolve of this.#sessionWaiters.splice(0)) resolve(session);
    return session;
  }

  /** Resolves with the next connection accepted. */
  nextSession(): Promise<QmpSession<Context>> {
    return new Promise((resolve) => this.#sessionWaiters.push(resolve));
  }

  /** Broadcasts an event to every negotiated session. */
  emit<K extends keyof QmpEvents & string>(name: K, data: QmpEvents[K]): void {
    const now = performance.timeOrigin + performance.now();
    const event: JsonObject = {
      event: name,
      timestamp: { seconds: Math.floor(now / 1000), microseconds: Math.floor((now % 1000) * 1000) },
    };
    // Events without members carry no `data` at all (QEMU omits it).
    if (data !== undefined) event['data'] = data as unknown as JsonValue;
    const formatted = new Map<boolean, string>();
    for (const session of this.sessions) {
      if (!session.negotiated) continue;
      let line = formatted.get(session.pretty);
      if (line === undefined) {
        line = formatQmpJson(event, session.pretty);
        formatted.set(session.pretty, line);
      }
      session.sendLine(line);
    }
  }

  /** Stops accepting, flushes what each session has to say, and ends every connection. */
  async close(): Promise<void> {
    const closing = this.#listeners.closeAll();
    const ended = [...this.sessions].map((session) => {
      session.end();
      return session.closed;
    });
    // A client that never closes its end must not hold the daemon up.
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref());
    await Promise.race([Promise.all(ended), timeout]);
    for (const session of this.sessions) session.close();
    await Promise.all(closing);
  }
}
