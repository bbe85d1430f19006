import { DisposableStore } from '../base/lifecycle.js';
import { type DispatchMode, genericErrorResponse, QmpDispatcher } from './dispatch.js';
import { JsonStreamParser, type JsonStreamParserLimits } from '../qobject/json-stream-parser.js';
import type { JsonObject, JsonValue } from '../qobject/json-value.js';
import { formatQmpJson } from '../qobject/json-writer.js';
import type { QmpTransport } from './transport.js';
import { SessionFds } from './session-fds.js';

/** Limits of one QMP connection; every one has a default (see QMP_SESSION_DEFAULTS). */
export interface QmpSessionLimits {
  /** In-band requests parsed but not yet answered before reading pauses. */
  readonly maxQueuedRequests: number;
  /**
   * Output bytes waiting for the client before parsing and reading pause (the client must read its replies).
   * Parsing pauses between two messages, also within one chunk of input, so the output waiting never exceeds
   * this by more than one message's reply (or the events sent meanwhile).
   */
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
 * Messages parsed, and input bytes lexed, in one turn of the event loop (one
 * callback: a read, or the chardev handing over what it holds piece by
 * piece); the rest of the input waits for the next turn, after the other
 * connections' I/O. A client that sends thousands of messages at once,
 * input that makes thousands of errors, or a message of millions of tokens
 * holds the others up by only this much work (a few milliseconds).
 */
const MESSAGES_PER_TURN = 128;
const INPUT_BYTES_PER_TURN = 8 << 10;

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
  /** Output collected while input is parsed, written at once afterwards. */
  #batch: string[] | undefined;
  /** Characters in #batch (replies are ASCII: the bytes they will take). */
  #batchBytes = 0;
  /** Input read but not parsed yet: parsing paused within a chunk. */
  readonly #input: Buffer[] = [];
  #parsing = false;
  /** What this turn has parsed so far; back to zero once the turn's callback has run. */
  #turnMessages = 0;
  #turnBytes = 0;
  /** The next pass over #input, when one used up its turn's messages or bytes, or the client caught up. */
  #nextTurn: NodeJS.Immediate | undefined;
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
        onValue: (value) => {
          this.#received(value);
          this.#parsed();
        },
        onError: (desc) => {
          this.#enqueue({ parseError: desc });
          this.#parsed();
        },
      },
      limits.parser,
    );
    transport.bind({
      data: (chunk, fds) => {
        // Descriptors are the connection's from the moment they arrive (QEMU keeps them with the socket until a command takes them).
        if (fds !== undefined && fds.length > 0) this.fds.arrived(fds);
        if (this.#closed) return;
        this.#input.push(chunk);
        this.#parse();
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
    if (this.#batch !== undefined) {
      this.#batch.push(line);
      this.#batchBytes += line.length;
    } else this.#write(line);
  }

  /**
   * Parses the input read so far while the client keeps up with its output and the queue has room,
   * for at most a turn's messages and bytes; what is left waits for 'drain', a free slot in the queue,
   * or the next turn. Replies to the requests of one pass leave in one write.
   */
  #parse(): void {
    if (this.#parsing || this.#nextTurn !== undefined || this.#closed) return;
    if (this.#turnMessages === 0 && this.#turnBytes === 0) {
      queueMicrotask(() => {
        this.#turnMessages = 0;
        this.#turnBytes = 0;
      });
    }
    this.#parsing = true;
    try {
      while (this.#input.length > 0 && !this.#held() && this.#turnMessages < MESSAGES_PER_TURN && this.#turnBytes < INPUT_BYTES_PER_TURN) {
        const chunk = this.#input[0]!;
        const room = INPUT_BYTES_PER_TURN - this.#turnBytes;
        const used = this.#feed(chunk.length > room ? chunk.subarray(0, room) : chunk);
        if (this.#closed) return;
        this.#turnBytes += used;
        if (used < chunk.length) this.#input[0] = chunk.subarray(used);
        else this.#input.shift();
      }
    } finally {
      this.#parsing = false;
    }
    this.#updateFlow();
  }

  /** Parses `bytes` or until the parser pauses, and returns how many it took; the replies leave in one write. */
  #feed(bytes: Buffer): number {
    const batch: string[] = [];
    this.#batch = batch;
    this.#batchBytes = 0;
    try {
      return this.#parser.feed(bytes);
    } finally {
      this.#batch = undefined;
      this.#batchBytes = 0;
      if (batch.length > 0) this.#write(batch.join(''));
    }
  }

  /** One message was parsed (and answered, unless it waits in the queue): parsing yields when it must. */
  #parsed(): void {
    this.#turnMessages++;
    if (this.#closed || this.#held() || this.#turnMessages >= MESSAGES_PER_TURN) this.#parser.pause();
  }

  /** The client is behind: its queue is full or it leaves too much output unread. */
  #held(): boolean {
    return this.#queue.length >= this.limits.maxQueuedRequests || this.transport.backlog() + this.#batchBytes > this.limits.outputPauseBytes;
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
    // What it sent and we never parsed, and any partial message, go with it.
    this.#input.length = 0;
    this.#parser.reset();
    if (this.#nextTurn !== undefined) clearImmediate(this.#nextTurn);
    this.#nextTurn = undefined;
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
      const response = 'parseError' in item ? genericErrorResponse(item.parseError) : this.host.dispatcher.dispatch(item.request, this, this.host.contextFor(this));
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

  /**
   * Stops parsing and reading while requests pile up or the client leaves its replies unread; when it has
   * caught up, parses what is left of its input, then reads more.
   */
  #updateFlow(): void {
    if (this.#closed) return;
    const held = this.#held();
    if (this.#parsing) {
      if (held) this.#parser.pause();
      return;
    }
    // Input left from an earlier pass is parsed in a turn of its own, never inside whoever wrote (an event
    // raised by another session's command) or drained.
    if (!held && this.#input.length > 0) {
      this.#nextTurn ??= setImmediate(() => {
        this.#nextTurn = undefined;
        this.#parse();
      });
    }
    // Never reading while input is left: the transport may read into the buffer that input is a view of.
    this.transport.setReading(!held && this.#input.length === 0);
  }
}
