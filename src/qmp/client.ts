import { connect as netConnect, type Socket } from 'node:net';
import { QmpCommandMethods } from '../generated/qapi-client.gen.js';
import type { CallOptions } from '../qapi-runtime/index.js';
import { BadReplyError, ConnectError, ExecInterruptedError, ExecuteError, GreetingError, NegotiationError, ProtocolError, StateError } from './client-errors.js';
import { JsonStreamParser } from './json-stream-parser.js';
import { isJsonObject, type JsonObject, type JsonValue } from './json-value.js';
import { formatQmpJson } from './json-writer.js';

/** A unix socket path, or a TCP host and port. */
export type QmpAddress = string | { readonly host: string; readonly port: number };

export interface QmpClientOptions {
  /** Send qmp_capabilities after the greeting (enabling `oob` when offered). Default true. */
  readonly negotiate?: boolean;
  /** Milliseconds to wait for the connection, greeting and negotiation. Default 10000. */
  readonly connectTimeoutMs?: number;
}

/** An event as the server sent it. */
export interface QmpEventMessage {
  readonly event: string;
  readonly data?: JsonObject;
  readonly timestamp: { readonly seconds: number; readonly microseconds: number };
}

export interface EventSubscriptionOptions {
  /** Only these events (all when absent). */
  readonly names?: readonly string[];
  /** Events kept for a reader that lags; older ones are dropped and counted. Default 1024. */
  readonly limit?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_EVENT_QUEUE_LIMIT = 1024;

interface PendingCall {
  readonly command: string;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/**
 * A subscriber's view of the event stream: `for await` over it. Its queue is
 * bounded so that a reader who stops reading costs bounded memory and never
 * delays replies; what it missed is counted in `dropped`.
 */
export class EventSubscription implements AsyncIterable<QmpEventMessage> {
  #queue: QmpEventMessage[] = [];
  #waiter: ((result: IteratorResult<QmpEventMessage>) => void) | undefined;
  #ended = false;
  /** Events discarded because the queue was full. */
  dropped = 0;

  constructor(
    private readonly names: ReadonlySet<string> | undefined,
    private readonly limit: number,
    private readonly onClose: (subscription: EventSubscription) => void,
  ) {}

  /** @internal Called by the client for every event. */
  push(event: QmpEventMessage): void {
    if (this.#ended || (this.names !== undefined && !this.names.has(event.event))) return;
    if (this.#waiter !== undefined) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter({ value: event, done: false });
      return;
    }
    if (this.#queue.length >= this.limit) {
      this.#queue.shift();
      this.dropped++;
    }
    this.#queue.push(event);
  }

  /** Ends the iteration (also when the client disconnects). */
  close(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.onClose(this);
    if (this.#waiter !== undefined) this.#waiter({ value: undefined, done: true });
    this.#waiter = undefined;
  }

  /** The next event, or undefined when the subscription ended. */
  async next(): Promise<QmpEventMessage | undefined> {
    const result = await this.#next();
    return result.done ? undefined : result.value;
  }

  #next(): Promise<IteratorResult<QmpEventMessage>> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve({ value: queued, done: false });
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<QmpEventMessage> {
    return {
      next: () => this.#next(),
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

/**
 * A QMP client for chardevd and for QEMU: greeting and negotiation, any
 * number of commands in flight with replies routed by id, events delivered
 * to subscribers alongside. Typed methods (`client.queryVersion()`) come
 * from the schema; `execute()` sends anything.
 */
export class QmpClient extends QmpCommandMethods {
  /** The server's greeting, `{"QMP": {...}}`. */
  greeting: JsonObject | undefined;
  readonly #pending = new Map<number, PendingCall>();
  readonly #subscriptions = new Set<EventSubscription>();
  #nextId = 0;
  #closed = false;
  #greetingWaiter: { resolve(greeting: JsonObject): void; reject(error: Error): void } | undefined;
  readonly #parser: JsonStreamParser;
  /** Settles when the connection is gone, with the reason when it broke. */
  readonly disconnected: Promise<Error | undefined>;
  #resolveDisconnected!: (reason: Error | undefined) => void;

  private constructor(private readonly socket: Socket) {
    super();
    this.disconnected = new Promise((resolve) => {
      this.#resolveDisconnected = resolve;
    });
    this.#parser = new JsonStreamParser({
      onValue: (value) => this.#received(value),
      onError: (desc) => this.#fail(new ProtocolError(`unparsable data from the server: ${desc}`)),
    });
    socket.on('data', (chunk: Buffer) => this.#parser.feed(chunk));
    socket.on('error', (error) => this.#fail(new ExecInterruptedError(`connection lost: ${error.message}`)));
    socket.on('close', () => this.#fail(undefined));
  }

  /** Connects, reads the greeting and (by default) negotiates capabilities. */
  static async connect(address: QmpAddress, options: QmpClientOptions = {}): Promise<QmpClient> {
    const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const where = typeof address === 'string' ? address : `${address.host}:${address.port}`;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = typeof address === 'string' ? netConnect(address) : netConnect(address.port, address.host);
      const timer = setTimeout(() => {
        s.destroy();
        reject(new ConnectError(`connecting to ${where}: timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (error) => {
        clearTimeout(timer);
        reject(new ConnectError(`connecting to ${where}: ${error.message}`, { cause: error }));
      });
    });
    socket.setNoDelay(true);
    const client = new QmpClient(socket);
    try {
      const greeting = await withTimeout(client.#waitGreeting(), timeoutMs, `no greeting from ${where}`);
      const qmp = greeting['QMP'];
      if (!isJsonObject(qmp) || !Array.isArray(qmp['capabilities']) || !isJsonObject(qmp['version'])) {
        throw new GreetingError(`Did not understand Greeting: ${JSON.stringify(greeting)}`);
      }
      client.greeting = greeting;
      if (options.negotiate ?? true) {
        const offered = qmp['capabilities'] as JsonValue[];
        const enable = offered.includes('oob') ? { enable: ['oob'] } : undefined;
        await withTimeout(client.execute('qmp_capabilities', enable), timeoutMs, 'no reply to qmp_capabilities').catch((error: unknown) => {
          throw new NegotiationError(`Negotiation failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
        });
      }
      return client;
    } catch (error: unknown) {
      client.close();
      if (error instanceof ProtocolError || error instanceof ConnectError) throw error;
      throw new ConnectError(`connecting to ${where}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }

  /** Sends a command; resolves with its `return`, rejects with ExecuteError for `error`. */
  execute(command: string, args?: object, options?: CallOptions): Promise<unknown> {
    if (this.#closed) return Promise.reject(new StateError('the connection is closed'));
    const id = this.#nextId++;
    const request: { execute: string; arguments?: object; id: number } = { execute: command, id };
    if (args !== undefined) request.arguments = args;
    return new Promise<unknown>((resolve, reject) => {
      const cleanups: (() => void)[] = [];
      const settle = (fn: () => void): void => {
        this.#pending.delete(id);
        for (const cleanup of cleanups) cleanup();
        fn();
      };
      this.#pending.set(id, { command, resolve: (v) => settle(() => resolve(v)), reject: (e) => settle(() => reject(e)) });
      if (options?.timeoutMs !== undefined) {
        const timer = setTimeout(() => settle(() => reject(new ExecInterruptedError(`${command}: no reply within ${options.timeoutMs} ms`))), options.timeoutMs);
        cleanups.push(() => clearTimeout(timer));
      }
      const signal = options?.signal;
      if (signal !== undefined) {
        const onAbort = (): void => settle(() => reject(signal.reason instanceof Error ? signal.reason : new ExecInterruptedError(`${command}: aborted`)));
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        cleanups.push(() => signal.removeEventListener('abort', onAbort));
      }
      // QEMU's own serialisation: 64-bit integers (bigint) survive, absent members are left out.
      this.socket.write(formatQmpJson(request as unknown as JsonObject));
    });
  }

  protected override call(name: string, args: object | undefined, options: CallOptions | undefined): Promise<unknown> {
    return this.execute(name, args, options);
  }

  /** Subscribes to events from now on. */
  events(options: EventSubscriptionOptions = {}): EventSubscription {
    const subscription = new EventSubscription(
      options.names !== undefined ? new Set(options.names) : undefined,
      options.limit ?? DEFAULT_EVENT_QUEUE_LIMIT,
      (s) => this.#subscriptions.delete(s),
    );
    if (this.#closed) subscription.close();
    else this.#subscriptions.add(subscription);
    return subscription;
  }

  /** Closes the connection; calls in flight fail with ExecInterruptedError. */
  close(): void {
    this.socket.destroy();
    this.#fail(undefined);
  }

  #waitGreeting(): Promise<JsonObject> {
    return new Promise((resolve, reject) => {
      this.#greetingWaiter = { resolve, reject };
    });
  }

  #received(value: JsonValue): void {
    if (!isJsonObject(value)) {
      this.#fail(new BadReplyError(`QMP message is not an object: ${String(value)}`));
      return;
    }
    const message = value;
    if (this.#greetingWaiter !== undefined) {
      const waiter = this.#greetingWaiter;
      this.#greetingWaiter = undefined;
      waiter.resolve(message);
      return;
    }
    if (typeof message['event'] === 'string') {
      for (const subscription of this.#subscriptions) subscription.push(message as unknown as QmpEventMessage);
      return;
    }
    const id = message['id'];
    const pending = typeof id === 'number' ? this.#pending.get(id) : undefined;
    if (pending === undefined) {
      // An id-less error is the server's answer to input it could not parse: our bug or a broken stream.
      if (id === undefined && 'error' in message) this.#fail(new BadReplyError(`server reported a protocol error: ${JSON.stringify(message['error'])}`));
      // Replies to calls that timed out or were aborted are dropped, as qemu.qmp does.
      return;
    }
    if ('return' in message) {
      pending.resolve(message['return']);
      return;
    }
    const error = message['error'];
    if (isJsonObject(error) && typeof error['class'] === 'string' && typeof error['desc'] === 'string') {
      pending.reject(new ExecuteError(pending.command, error['class'], error['desc']));
      return;
    }
    pending.reject(new BadReplyError(`QMP reply is missing a 'error' or 'return' member: ${JSON.stringify(message)}`));
  }

  #fail(reason: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.socket.destroy();
    const interrupted =
      reason === undefined ? new ExecInterruptedError('Disconnected') : reason instanceof ExecInterruptedError ? reason : new ExecInterruptedError(reason.message, { cause: reason });
    for (const pending of [...this.#pending.values()]) pending.reject(interrupted);
    for (const subscription of [...this.#subscriptions]) subscription.close();
    this.#greetingWaiter?.reject(new GreetingError('the server closed the connection before its greeting'));
    this.#greetingWaiter = undefined;
    this.#resolveDisconnected(reason);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new ConnectError(`${what} within ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
