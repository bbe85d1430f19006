import { DisposableStore } from '../base/lifecycle.js';
import { type DispatchMode, errorResponse, QmpDispatcher } from './dispatch.js';
import { GenericError } from './errors.js';
import { JsonStreamParser, type JsonStreamParserLimits } from '../qobject/json-stream-parser.js';
import type { JsonObject, JsonValue } from '../qobject/json-value.js';
import { formatQmpJson } from '../qobject/json-writer.js';
import type { QmpTransport } from './transport.js';
import { SessionFds } from './session-fds.js';

/** Limits of one QMP connection; every one has a default (see QMP_SESSION_DEFAULTS). */
export interface QmpSessionLimits {
  /** In-band requests parsed but not yet answered before reading pauses. */
  readonly maxQueuedRequests: number;
  /** Output bytes waiting for the client before reading pauses (the client must read its replies). */
  readonly outputPauseBytes: number;
  /** Output bytes waiting for a client that reads nothing before it is disconnected (events keep coming). */
  readonly maxOutputBytes: number;
  readonly parser: Partial<JsonStreamParserLimits>;
}

export const QMP_SESSION_DEFAULTS: QmpSessionLimits = {
  // QEMU's QMP_REQ_QUEUE_LEN_MAX (include/monitor/monitor.h).
  maxQueuedRequests: 8,
  outputPauseBytes: 1 << 20,
  maxOutputBytes: 64 << 20,
  parser: {},
};

/** What a session needs from the server that owns it. */
export interface QmpSessionHost<Context> {
  readonly dispatcher: QmpDispatcher<Context>;
  readonly greeting: JsonObject;
  contextFor(session: QmpSession<Context>): Context;
  sessionClosed(session: QmpSession<Context>): void;
  log(message: string): void;
}

type QueuedRequest = { readonly request: JsonValue } | { readonly parseError: string };

/**
 * One QMP connection (QEMU's MonitorQMP, one per client here, or one per
 * opening of a chardev the monitor runs on): its parser,
 * its negotiation state and capabilities, its request queue, and everything
 * the connection owns, released when it closes.
 */
export class QmpSession<Context> implements DispatchMode {
  /** Resources that live exactly as long as this connection. */
  readonly resources = new DisposableStore();
  /** Descriptors passed on this connection, waiting for a command or named with getfd. */
  readonly fds = this.resources.add(new SessionFds());
  /** Settles when the connection is gone. */
  readonly closed: Promise<void>;
  #resolveClosed!: () => void;
  #negotiated = false;
  #oobEnabled = false;
  #closed = false;
  readonly #queue: QueuedRequest[] = [];
  #busy = false;
  /** Output collected while one chunk of input is processed, written at once afterwards. */
  #batch: string[] | undefined;
  readonly #parser: JsonStreamParser;

  constructor(
    private readonly host: QmpSessionHost<Context>,
    private readonly transport: QmpTransport,
    /** Print replies and events over several lines (QEMU's `-qmp-pretty`). */
    readonly pretty: boolean,
    private readonly limits: QmpSessionLimits = QMP_SESSION_DEFAULTS,
  ) {
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#parser = new JsonStreamParser(
      {
        onValue: (value) => this.#received(value),
        onError: (desc) => this.#enqueue({ parseError: desc }),
      },
      limits.parser,
    );
    transport.bind({
      data: (chunk, fds) => {
        if (fds !== undefined && fds.length > 0) this.fds.arrived(fds);
        // Replies to every request in this chunk leave in one write.
        const batch: string[] = [];
        this.#batch = batch;
        try {
          this.#parser.feed(chunk);
        } finally {
          this.#batch = undefined;
          if (batch.length > 0) this.#write(batch.join(''));
        }
      },
      drain: () => this.#updateFlow(),
      gone: () => this.close(),
    });
    this.send(host.greeting);
  }

  /** Capabilities negotiation is complete: commands run and events are delivered. */
  get negotiated(): boolean {
    return this.#negotiated;
  }

  get oobEnabled(): boolean {
    return this.#oobEnabled;
  }

  /** Before negotiation only qmp_capabilities exists (QEMU's qmp_cap_negotiation_commands). */
  isAvailable(command: string): boolean {
    return this.#negotiated || command === 'qmp_capabilities';
  }

  /** Completes negotiation (qmp_capabilities), enabling the given capabilities. */
  negotiate(capabilities: readonly string[]): void {
    this.#negotiated = true;
    this.#oobEnabled = capabilities.includes('oob');
  }

  /** Writes one message; the caller has formatted nothing. */
  send(message: JsonObject): void {
    this.sendLine(formatQmpJson(message, this.pretty));
  }

  /** Writes one already formatted message (events are formatted once for every session). */
  sendLine(json: string): void {
    if (this.#closed) return;
    // The monitor turns every "\n" into "\r\n" (monitor_puts), pretty output included.
    const line = `${this.pretty ? json.replace(/\n/g, '\r\n') : json}\r\n`;
    if (this.#batch !== undefined) this.#batch.push(line);
    else this.#write(line);
  }

  #write(text: string): void {
    this.transport.write(text);
    if (this.transport.backlog() > this.limits.maxOutputBytes) {
      this.host.log(`QMP client ${this.transport.peer} reads nothing; ${this.transport.backlog()} bytes of output waiting: disconnecting it`);
      this.close();
      return;
    }
    this.#updateFlow();
  }

  /** Ends the connection; queued requests are dropped and owned resources released. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.length = 0;
    this.transport.destroy();
    this.resources.dispose();
    this.host.sessionClosed(this);
    this.#resolveClosed();
  }

  /** Ends the connection after the output written so far has been sent (quit). */
  end(): void {
    if (this.#closed) return;
    this.transport.end();
  }

  #received(request: JsonValue): void {
    // exec-oob runs at once, ahead of queued requests (handle_qmp_command); when
    // OOB is not enabled the dispatcher answers that the member is unexpected.
    if (QmpDispatcher.isOob(request)) {
      this.#respond(this.host.dispatcher.dispatch(request, this, this.host.contextFor(this)));
      return;
    }
    this.#enqueue({ request });
  }

  #enqueue(item: QueuedRequest): void {
    this.#queue.push(item);
    if (!this.#busy) this.#drainQueue();
    else this.#updateFlow();
  }

  /** Runs queued requests one at a time, in order; an asynchronous one holds the rest back. */
  #drainQueue(): void {
    while (this.#queue.length > 0 && !this.#closed) {
      const item = this.#queue.shift()!;
      this.fds.commandStarted();
      const response =
        'parseError' in item
          ? errorResponse(new GenericError(item.parseError), undefined)
          : this.host.dispatcher.dispatch(item.request, this, this.host.contextFor(this));
      if (response instanceof Promise) {
        this.#busy = true;
        this.#updateFlow();
        void response.then((r) => {
          this.fds.commandEnded();
          this.#busy = false;
          this.#respond(r);
          this.#drainQueue();
        });
        return;
      }
      this.fds.commandEnded();
      this.#respond(response);
    }
    this.#updateFlow();
  }

  #respond(response: JsonObject | Promise<JsonObject>): void {
    if (response instanceof Promise) {
      void response.then((r) => this.#respond(r));
      return;
    }
    this.send(response);
  }

  /** Stops reading while requests pile up or the client leaves its replies unread. */
  #updateFlow(): void {
    if (this.#closed) return;
    const hold = this.#queue.length >= this.limits.maxQueuedRequests || this.transport.backlog() > this.limits.outputPauseBytes;
    this.transport.setReading(!hold);
  }
}
