/** What dispatch needs to know of a command besides its handler (QEMU's QmpCommand). */
export interface CommandSpec {
  readonly name: string;
  /** QAPI name of the argument type in the type table; absent when the command takes none. */
  readonly argType?: string;
  /** Arguments are one union value rather than members (schema `boxed`). */
  readonly boxed: boolean;
  /**
   * `false` for schema `gen: false`: the handler gets the arguments as
   * sent, unchecked, and checks them itself (QEMU's device_add).
   */
  readonly gen?: false;
  /** May run with `exec-oob` (schema `allow-oob`). */
  readonly allowOob: boolean;
  readonly allowPreconfig: boolean;
  readonly features: readonly string[];
}

/** Per-call options of the generated client methods. */
export interface CallOptions {
  /** Gives up waiting for the reply (the command may still run on the server). */
  readonly signal?: AbortSignal;
  /** Milliseconds to wait for the reply before failing. */
  readonly timeoutMs?: number;
}

/** Where generated event senders deliver (QEMU's qapi_event_emit). */
export interface EventSink<Events> {
  emit<K extends keyof Events & string>(name: K, data: Events[K]): void;
}
