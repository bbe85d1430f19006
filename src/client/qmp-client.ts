import type { Socket } from 'node:net';
import { QmpCommandMethods } from '../generated/qapi-client.gen.js';
import type { QmpEvents } from '../generated/qapi-events.gen.js';
import type { CallOptions } from '../qapi-runtime/index.js';
import { isJsonObject, type JsonObject } from '../qobject/json-value.js';
import type { QmpAddress } from './address.js';
import { dialSocket, sleep, withTimeout } from './dial.js';
import { BadReplyError, ConnectError, ExecInterruptedError, ExecuteError, NegotiationError, ProtocolError, StateError } from './errors.js';
import { EventSubscription, type EventSubscriptionOptions, type QmpEventMessage } from './event-subscription.js';
import { ARRIVAL_BYTES, noGreetingError, offeredCapabilities, withArrival } from './greeting.js';
import { abortMessage, describeAddress, QmpListener } from './listener.js';
import {
  type AcceptOptions,
  type ConnectionLost,
  type ConnectionRestored,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_RECONNECT_INITIAL_MS,
  DEFAULT_RECONNECT_MAX_MS,
  type ExecuteOptions,
  type QmpClientOptions,
  type QmpClientState,
  type QmpEventOf,
} from './options.js';
import { fdSendRefusal } from './fd-send.js';
import { RequestOutbox } from './outbox.js';
import { ClientReplyReader } from './reply-reader.js';
import { serialiseRequest } from './request.js';
import { type QmpSignal, SignalSource } from './signal.js';

interface PendingCall {
  readonly command: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** One established transport: a socket and its parser. */
interface Connection {
  readonly socket: Socket;
  readonly reader: ClientReplyReader;
  /** Requests not written yet. */
  readonly outbox: RequestOutbox;
  greetingWaiter: { resolve(greeting: JsonObject): void; reject(error: Error): void } | undefined;
  lost: boolean;
}

/** Makes the next transport: connect to the server, or take the next connection the server made to us. */
type Dialer = (timeoutMs: number, signal?: AbortSignal) => Promise<Socket>;

/**
 * A QMP client for chardevd and for any QEMU (the design of python's
 * qemu.qmp): greeting and negotiation, any number of commands in flight
 * with replies routed by id, events delivered alongside to any number of
 * subscribers, each with its own bounded queue. Typed methods
 * (`client.queryVersion()`) come from the schema; `execute()` sends
 * anything. Connects (`connect`) or waits for a client-mode monitor to
 * connect to it (`accept`); an explicit reconnect policy says what happens
 * when the connection breaks, and `onDisconnect`/`onReconnect` say what
 * was lost.
 */
export class QmpClient extends QmpCommandMethods {
  /** The current connection's greeting, `{"QMP": {...}}`. */
  greeting: JsonObject | undefined;
  /** Capabilities enabled on the current connection. */
  capabilities: readonly string[] = [];
  readonly #pending = new Map<number, PendingCall>();
  readonly #subscriptions = new Set<EventSubscription>();
  readonly #dial: Dialer;
  readonly #where: string;
  readonly #options: QmpClientOptions;
  readonly #listener: QmpListener | undefined;
  #connection: Connection | undefined;
  #state: QmpClientState | 'connecting' = 'connecting';
  #nextId = 0;
  #closeRequested = false;
  #reconnectAbort: AbortController | undefined;
  readonly #lost = new SignalSource<ConnectionLost>();
  readonly #restored = new SignalSource<ConnectionRestored>();
  /** Told whenever the connection breaks, with the commands that were lost. */
  readonly onDisconnect: QmpSignal<ConnectionLost> = this.#lost.signal;
  /** Told whenever a reconnect succeeded, with the window of missed events. */
  readonly onReconnect: QmpSignal<ConnectionRestored> = this.#restored.signal;
  /** Settles when the client is closed for good, with the reason when the connection broke. */
  readonly disconnected: Promise<Error | undefined>;
  #resolveDisconnected!: (reason: Error | undefined) => void;

  private constructor(dial: Dialer, where: string, options: QmpClientOptions, listener: QmpListener | undefined) {
    super();
    this.#dial = dial;
    this.#where = where;
    this.#options = options;
    this.#listener = listener;
    this.disconnected = new Promise((resolve) => {
      this.#resolveDisconnected = resolve;
    });
  }

  /** Connects, reads the greeting and (by default) negotiates capabilities. */
  static async connect(address: QmpAddress, options: QmpClientOptions = {}): Promise<QmpClient> {
    const where = describeAddress(address);
    const client = new QmpClient((timeoutMs) => dialSocket(address, timeoutMs), where, options, undefined);
    await client.#start();
    return client;
  }

  /**
   * Listens on `address` (or takes connections from `listener`) for a QEMU
   * started with a client-mode monitor (`-qmp unix:PATH` without
   * `server=on`), then greets and negotiates as connect() does. A listener
   * created here belongs to the client and closes with it; with a reconnect
   * policy the client waits on it for the next connection when one breaks
   * (QEMU's `reconnect=SECONDS`).
   */
  static async accept(address: QmpAddress | QmpListener, options: AcceptOptions = {}): Promise<QmpClient> {
    const owned = !(address instanceof QmpListener);
    const listener = address instanceof QmpListener ? address : await QmpListener.listen(address);
    const where = describeAddress(listener.address);
    let first = true;
    const dial: Dialer = (_timeoutMs, signal) => {
      const waitFirst = first;
      first = false;
      // The first connection may take as long as starting QEMU takes; later ones too (its reconnect interval).
      const signals = [signal, options.signal].filter((s): s is AbortSignal => s !== undefined);
      if (waitFirst && options.acceptTimeoutMs !== undefined) signals.push(AbortSignal.timeout(options.acceptTimeoutMs));
      return listener.next(signals.length === 0 ? undefined : AbortSignal.any(signals));
    };
    const client = new QmpClient(dial, where, options, owned ? listener : undefined);
    try {
      await client.#start();
    } catch (error: unknown) {
      if (owned) listener.close();
      throw error;
    }
    return client;
  }

  /** Where the client connects, or listens in accept mode. */
  get address(): string {
    return this.#where;
  }

  get state(): QmpClientState {
    return this.#state === 'connecting' ? 'reconnecting' : this.#state;
  }

  /** Commands sent and not answered yet. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /**
   * Sends a command; resolves with its `return`, rejects with ExecuteError
   * for `error`, ExecInterruptedError when the connection breaks, the call
   * times out or is aborted first, StateError when no connection is up.
   */
  execute(command: string, args?: object, options?: ExecuteOptions): Promise<unknown> {
    if (this.#state !== 'running') return Promise.reject(new StateError(this.#stateMessage()));
    return this.#send(command, args, options);
  }

  protected override call(name: string, args: object | undefined, options: CallOptions | undefined): Promise<unknown> {
    return this.execute(name, args, options);
  }

  /**
   * Subscribes to events from now on: `for await (const e of client.events({ names: ['STOP'] }))`.
   * With a reconnect policy a subscription lives across reconnects (counting `gaps`);
   * it ends when the client closes for good or when you close() it.
   */
  events<K extends keyof QmpEvents & string>(options: EventSubscriptionOptions & { readonly names: readonly K[] }): EventSubscription<QmpEventOf<K>>;
  events(options?: EventSubscriptionOptions): EventSubscription;
  events(options: EventSubscriptionOptions = {}): EventSubscription | EventSubscription<QmpEventOf<keyof QmpEvents>> {
    const subscription: EventSubscription = new EventSubscription(options, (s) => this.#subscriptions.delete(s));
    if (this.#state === 'closed') subscription.close();
    else this.#subscriptions.add(subscription);
    return subscription;
  }

  /** Waits for the next event named `name` (any name when absent). */
  async waitEvent(name?: string, options: CallOptions = {}): Promise<QmpEventMessage> {
    const subscription = this.events(name === undefined ? {} : { names: [name] });
    const signals = [options.signal, options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs)].filter(
      (s): s is AbortSignal => s !== undefined,
    );
    const signal = signals.length === 0 ? undefined : AbortSignal.any(signals);
    const onAbort = (): void => subscription.close();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (signal?.aborted) throw new ExecInterruptedError(`waiting for ${name ?? 'an event'}: ${abortMessage(signal)}`);
      const event = await subscription.next();
      if (event === undefined) {
        throw new ExecInterruptedError(signal?.aborted ? `waiting for ${name ?? 'an event'}: ${abortMessage(signal)}` : 'Disconnected');
      }
      return event;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      subscription.close();
    }
  }

  /** Closes for good: calls in flight fail with ExecInterruptedError, subscriptions end, no reconnect. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#closeRequested = true;
    this.#reconnectAbort?.abort(new StateError('the client was closed'));
    const connection = this.#connection;
    if (connection !== undefined) this.#connectionLost(connection, undefined);
    this.#closeForGood(undefined);
  }

  async #start(): Promise<void> {
    const timeoutMs = this.#options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    try {
      await this.#establish(timeoutMs);
    } catch (error: unknown) {
      this.#closeRequested = true;
      this.#connection?.socket.destroy();
      this.#closeForGood(undefined);
      throw error;
    }
  }

  /** Dials, reads the greeting, negotiates; the state becomes 'running'. */
  async #establish(timeoutMs: number, signal?: AbortSignal): Promise<JsonObject> {
    const socket = await this.#dial(timeoutMs, signal);
    socket.setNoDelay(true);
    const connection = this.#attach(socket);
    try {
      const greeting = await withTimeout(
        new Promise<JsonObject>((resolve, reject) => {
          connection.greetingWaiter = { resolve, reject };
        }),
        timeoutMs,
        `no greeting from ${this.#where}`,
        signal,
      ).catch((error: unknown) => {
        throw error instanceof ConnectError ? withArrival(error, connection.reader.head) : error;
      });
      const offered = offeredCapabilities(greeting);
      let enabled: string[] = [];
      if (this.#options.negotiate ?? true) {
        enabled = offered.includes('oob') ? ['oob'] : [];
        await withTimeout(
          this.#send('qmp_capabilities', enabled.length > 0 ? { enable: enabled } : undefined, undefined),
          timeoutMs,
          'no reply to qmp_capabilities',
          signal,
        ).catch((error: unknown) => {
          if (error instanceof ConnectError) throw error;
          throw new NegotiationError(`Negotiation failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
        });
      }
      if (connection.lost) throw new ConnectError(`${this.#where} closed the connection during negotiation`);
      this.greeting = greeting;
      this.capabilities = enabled;
      this.#state = 'running';
      return greeting;
    } catch (error: unknown) {
      this.#dropConnection(connection);
      if (error instanceof ProtocolError || error instanceof ConnectError) throw error;
      throw new ConnectError(`connecting to ${this.#where}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }

  #attach(socket: Socket): Connection {
    const connection: Connection = {
      socket,
      reader: new ClientReplyReader(
        {
          onMessage: (message) => this.#received(connection, message),
          onError: (desc) => this.#connectionLost(connection, new ProtocolError(`unparsable data from the server: ${desc}`)),
        },
        this.#options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
        ARRIVAL_BYTES,
      ),
      outbox: new RequestOutbox(socket, (id, error) => this.#settle(id, undefined, new ExecInterruptedError(error.message, { cause: error.cause }))),
      greetingWaiter: undefined,
      lost: false,
    };
    this.#connection = connection;
    socket.on('data', (chunk: Buffer) => {
      if (!connection.lost) connection.reader.feed(chunk);
    });
    socket.on('error', (error) => this.#connectionLost(connection, new ExecInterruptedError(`connection lost: ${error.message}`, { cause: error })));
    socket.on('close', () => this.#connectionLost(connection, undefined));
    return connection;
  }

  #send(command: string, args: object | undefined, options: ExecuteOptions | undefined): Promise<unknown> {
    const connection = this.#connection;
    if (connection === undefined || connection.lost) return Promise.reject(new StateError(this.#stateMessage()));
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(new ExecInterruptedError(`${command}: ${abortMessage(signal)}`, { cause: signal.reason }));
    const fds = options?.fds ?? [];
    const refusal = fds.length > 0 ? fdSendRefusal(connection.socket) : undefined;
    if (refusal !== undefined) return Promise.reject(new StateError(`${command}: ${refusal}`));
    const id = this.#nextId++;
    const text = serialiseRequest(options?.oob === true ? 'exec-oob' : 'execute', command, args, id);
    const promise = new Promise<unknown>((resolve, reject) => {
      this.#pending.set(id, { command, resolve, reject, timer: undefined, signal, onAbort: undefined });
    });
    if (options?.timeoutMs !== undefined || signal !== undefined) this.#arm(id, command, options?.timeoutMs, signal);
    connection.outbox.push({ id, command, text, fds });
    return promise;
  }

  /** Timeout and abort of one call: it fails alone; a late reply is dropped. */
  #arm(id: number, command: string, timeoutMs: number | undefined, signal: AbortSignal | undefined): void {
    const pending = this.#pending.get(id)!;
    if (timeoutMs !== undefined) {
      pending.timer = setTimeout(() => this.#settle(id, undefined, new ExecInterruptedError(`${command}: no reply within ${timeoutMs} ms`)), timeoutMs);
    }
    if (signal !== undefined) {
      pending.onAbort = () => this.#settle(id, undefined, new ExecInterruptedError(`${command}: ${abortMessage(signal)}`, { cause: signal.reason }));
      signal.addEventListener('abort', pending.onAbort, { once: true });
    }
  }

  /** Resolves (error undefined) or rejects call `id`, and forgets it. */
  #settle(id: number, value: unknown, error: Error | undefined): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    if (pending.timer !== undefined) clearTimeout(pending.timer);
    if (pending.onAbort !== undefined) pending.signal?.removeEventListener('abort', pending.onAbort);
    if (error === undefined) pending.resolve(value);
    else pending.reject(error);
    this.#connection?.outbox.answered(id);
  }

  #received(connection: Connection, value: unknown): void {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.#connectionLost(connection, new BadReplyError(`QMP message is not an object: ${String(value)}`));
      return;
    }
    const message = value as JsonObject;
    if (connection.greetingWaiter !== undefined) {
      const waiter = connection.greetingWaiter;
      connection.greetingWaiter = undefined;
      waiter.resolve(message);
      return;
    }
    if (typeof message['event'] === 'string') {
      const event = message as unknown as QmpEventMessage;
      for (const subscription of this.#subscriptions) subscription.push(event);
      return;
    }
    const id = message['id'];
    const pending = typeof id === 'number' ? this.#pending.get(id) : undefined;
    if (pending === undefined) {
      // An id-less error is the server's answer to input it could not parse: our bug or a broken stream.
      if (id === undefined && 'error' in message)
        this.#connectionLost(connection, new BadReplyError(`server reported a protocol error: ${JSON.stringify(message['error'])}`));
      // Replies to calls that timed out or were aborted are dropped, as qemu.qmp does.
      return;
    }
    if ('return' in message) {
      this.#settle(id as number, message['return'], undefined);
      return;
    }
    const error = message['error'];
    if (isJsonObject(error) && typeof error['class'] === 'string' && typeof error['desc'] === 'string') {
      this.#settle(id as number, undefined, new ExecuteError(pending.command, error['class'], error['desc']));
      return;
    }
    this.#settle(id as number, undefined, new BadReplyError(`QMP reply is missing a 'error' or 'return' member: ${JSON.stringify(message)}`));
  }

  /** Forgets a connection that never got to 'running'. */
  #dropConnection(connection: Connection): void {
    // Not 'running' yet, so this only fails the pending qmp_capabilities (on a timeout it is still there).
    this.#connectionLost(connection, undefined);
  }

  #connectionLost(connection: Connection, reason: Error | undefined): void {
    if (connection.lost) return;
    connection.lost = true;
    connection.outbox.close();
    connection.socket.destroy();
    if (this.#connection === connection) this.#connection = undefined;
    const waiter = connection.greetingWaiter;
    connection.greetingWaiter = undefined;
    waiter?.reject(noGreetingError(this.#where, connection.reader.head));
    const interruptedError =
      reason === undefined
        ? new ExecInterruptedError('Disconnected')
        : reason instanceof ExecInterruptedError
          ? reason
          : new ExecInterruptedError(reason.message, { cause: reason });
    const interrupted: string[] = [];
    for (const [id, pending] of [...this.#pending]) {
      interrupted.push(pending.command);
      this.#settle(id, undefined, interruptedError);
    }
    const wasRunning = this.#state === 'running';
    if (!wasRunning) return; // a failed attempt: #establish reports it
    const reconnecting = this.#options.reconnect !== undefined && !this.#closeRequested;
    this.#lost.fire({ reason, interrupted, at: new Date(), reconnecting });
    if (reconnecting) {
      this.#state = 'reconnecting';
      for (const subscription of this.#subscriptions) subscription.gap();
      void this.#reconnect(new Date());
    } else {
      this.#closeForGood(reason);
    }
  }

  async #reconnect(since: Date): Promise<void> {
    const policy = this.#options.reconnect ?? {};
    const maxAttempts = policy.maxAttempts ?? Infinity;
    let delay = policy.initialDelayMs ?? DEFAULT_RECONNECT_INITIAL_MS;
    const maxDelay = policy.maxDelayMs ?? DEFAULT_RECONNECT_MAX_MS;
    const abort = new AbortController();
    this.#reconnectAbort = abort;
    const timeoutMs = this.#options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    let lastError: Error | undefined;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (this.#listener === undefined || attempt > 1) {
        const slept = await sleep(delay, abort.signal);
        delay = Math.min(delay * 2, maxDelay);
        if (!slept) break;
      }
      if (abort.signal.aborted) break;
      try {
        const greeting = await this.#establish(timeoutMs, abort.signal);
        this.#reconnectAbort = undefined;
        this.#restored.fire({ attempts: attempt, since, downtimeMs: Date.now() - since.getTime(), greeting });
        return;
      } catch (error: unknown) {
        lastError = error instanceof Error ? error : new Error(String(error));
        if (abort.signal.aborted) break;
      }
    }
    this.#reconnectAbort = undefined;
    this.#closeForGood(
      this.#closeRequested ? undefined : new ConnectError(`could not reconnect to ${this.#where}: ${lastError?.message ?? 'gave up'}`, { cause: lastError }),
    );
  }

  #closeForGood(reason: Error | undefined): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#listener?.close();
    for (const id of [...this.#pending.keys()]) this.#settle(id, undefined, new ExecInterruptedError('Disconnected'));
    for (const subscription of [...this.#subscriptions]) subscription.close();
    this.#resolveDisconnected(reason);
  }

  #stateMessage(): string {
    switch (this.#state) {
      case 'closed':
        return 'the connection is closed';
      case 'reconnecting':
        return `the connection to ${this.#where} was lost; reconnecting`;
      default:
        return `not connected to ${this.#where} yet`;
    }
  }
}
