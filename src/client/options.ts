import type { QmpEvents } from '../generated/qapi-events.gen.js';
import type { CallOptions } from '../qapi-runtime/index.js';
import type { JsonObject } from '../qobject/json-value.js';
import type { QmpEventMessage } from './event-subscription.js';

/**
 * What the client does when the connection breaks (not when you close()).
 * Without a policy the client closes for good. With one it connects again
 * (or, in accept mode, waits for the server to connect again), with the
 * delay doubling from `initialDelayMs` up to `maxDelayMs`, and gives up
 * after `maxAttempts` failed attempts in a row.
 */
export interface ReconnectPolicy {
  /** Default 100. */
  readonly initialDelayMs?: number;
  /** Default 5000. */
  readonly maxDelayMs?: number;
  /** Default: no limit. */
  readonly maxAttempts?: number;
}

export interface QmpClientOptions {
  /** Send qmp_capabilities after the greeting (enabling `oob` when offered). Default true. */
  readonly negotiate?: boolean;
  /** Milliseconds to wait for the connection, greeting and negotiation. Default 10000. */
  readonly connectTimeoutMs?: number;
  /** Reconnect when the connection breaks. Default: none, the client closes. */
  readonly reconnect?: ReconnectPolicy;
  /**
   * Largest message accepted from the server, in bytes; a bigger one is a
   * protocol error. Default 10 MiB, python qemu.qmp's limit "like libvirt"
   * (QEMU 7.2's query-qmp-schema reply is about 200 KiB).
   */
  readonly maxMessageBytes?: number;
}

export interface AcceptOptions extends QmpClientOptions {
  /** Gives up waiting for the first connection. */
  readonly signal?: AbortSignal;
  /** Milliseconds to wait for the first connection; default: as long as it takes. */
  readonly acceptTimeoutMs?: number;
}

/** Per-call options of execute(). */
export interface ExecuteOptions extends CallOptions {
  /** Send as `exec-oob` (only when oob was negotiated and the command allows it). */
  readonly oob?: boolean;
  /**
   * Descriptors passed with the command (SCM_RIGHTS), for getfd and add-fd:
   * on a unix socket only (StateError on TCP). They stay yours to close;
   * the server receives duplicates.
   */
  readonly fds?: readonly number[];
}

/**
 * An event of chardevd's schema with its typed `data` (undefined for events
 * without members): what `events({ names: [...] })` yields.
 */
export type QmpEventOf<K extends keyof QmpEvents> = K extends K
  ? { readonly event: K; readonly data: QmpEvents[K]; readonly timestamp: QmpEventMessage['timestamp'] }
  : never;

/** 'running': commands go out; 'reconnecting': the connection broke and a new one is being made; 'closed': for good. */
export type QmpClientState = 'running' | 'reconnecting' | 'closed';

/** Told when a connection breaks: what was lost with it. */
export interface ConnectionLost {
  /** Why, when known (undefined: the server closed the connection). */
  readonly reason: Error | undefined;
  /** Commands that were in flight; each was rejected with ExecInterruptedError. */
  readonly interrupted: readonly string[];
  /** When the connection was lost: events the server sent from then on are missed. */
  readonly at: Date;
  /** Whether the client now reconnects (a reconnect policy is set and close() was not called). */
  readonly reconnecting: boolean;
}

/** Told when a new connection is up after a loss. */
export interface ConnectionRestored {
  /** Attempts it took, this one included. */
  readonly attempts: number;
  /** The window without a connection: events the server sent between `since` and now were missed. */
  readonly since: Date;
  readonly downtimeMs: number;
  /** The new connection's greeting. */
  readonly greeting: JsonObject;
}

/** Defaults of QmpClientOptions and ReconnectPolicy. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_MESSAGE_BYTES = 10 << 20;
export const DEFAULT_RECONNECT_INITIAL_MS = 100;
export const DEFAULT_RECONNECT_MAX_MS = 5_000;
