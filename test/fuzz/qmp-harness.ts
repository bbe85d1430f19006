import type { QmpContext } from '../../src/commands/context.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { QmpSession, type QmpSessionLimits } from '../../src/qmp/session.js';
import type { QmpTransport, QmpTransportHandlers } from '../../src/qmp/transport.js';

/** How long a fuzzed session may take to answer or to resume reading. */
const WAIT_MS = 5000;

/**
 * A client on the far side of a session, in the same process: it sends
 * chunks only while the session reads (as a paused socket would hold them
 * back), and it reads its replies only when told to, so that the session's
 * unsent output (its transport's backlog) can be watched.
 */
export class FuzzClient implements QmpTransport {
  readonly peer = 'fuzz client';
  reading = true;
  destroyed = false;
  /** Output the client has not read yet, in bytes. */
  unread = 0;
  /** Every byte the session wrote, as text. */
  output = '';
  /** Where in `output` what the client has not read begins. */
  #readUpTo = 0;
  #handlers: QmpTransportHandlers | undefined;

  backlog(): number {
    return this.unread;
  }

  bind(handlers: QmpTransportHandlers): void {
    this.#handlers = handlers;
  }

  write(text: string): void {
    this.output += text;
    this.unread += Buffer.byteLength(text);
  }

  setReading(reading: boolean): void {
    this.reading = reading;
  }

  destroy(): void {
    this.destroyed = true;
  }

  end(): void {
    this.destroyed = true;
  }

  /** Takes everything the session wrote, which may let it read again. */
  read(): void {
    if (this.unread === 0) return;
    this.unread = 0;
    this.#readUpTo = this.output.length;
    this.#handlers?.drain();
  }

  /** Waits (bounded) until the session reads, then hands it `chunk`. */
  async send(chunk: Buffer): Promise<void> {
    await this.until(() => this.reading, 'the session to read again');
    this.#handlers?.data(chunk);
  }

  /** Reads replies until `done` holds; bounded. */
  async until(done: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while (!done()) {
      if (this.destroyed) throw new Error(`the session closed while waiting for ${what}`);
      if (Date.now() > deadline) throw new Error(`waited ${WAIT_MS} ms for ${what}`);
      this.read();
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** The longest line the client has not read yet, in bytes. */
  longestUnreadLine(): number {
    return Math.max(
      0,
      ...this.output
        .slice(this.#readUpTo)
        .split('\r\n')
        .map((line) => Buffer.byteLength(line) + 2),
    );
  }

  /** The complete lines written so far, without their CRLF. */
  lines(): string[] {
    const lines = this.output.split('\r\n');
    lines.pop();
    return lines;
  }
}

/**
 * A daemon without listeners whose QMP sessions are fuzzed in process: the
 * real dispatcher, handlers and chardev registry, with a few chardevs for
 * the commands to find (a ringbuf, a null chardev, a hub of another).
 */
export class FuzzDaemon {
  readonly log: string[] = [];
  readonly daemon = new Daemon({ qmp: [], log: (message) => this.log.push(message) });

  async reset(): Promise<void> {
    this.daemon.devices.removeAll();
    await this.daemon.chardevs.closeAll();
    await this.daemon.chardevs.add('r0', { type: 'ringbuf', data: { size: 1024 } });
    await this.daemon.chardevs.add('n0', { type: 'null', data: {} });
    await this.daemon.chardevs.add('m0', { type: 'null', data: {} });
    await this.daemon.chardevs.add('h0', { type: 'hub', data: { chardevs: ['m0'] } });
  }

  /** A session of the daemon's server (it gets events) with `limits`, talking to `client`. */
  open(client: FuzzClient, limits: QmpSessionLimits): QmpSession<QmpContext> {
    const server = this.daemon.server;
    const session = new QmpSession<QmpContext>(
      {
        dispatcher: server.dispatcher,
        greeting: server.greeting,
        contextFor: (s) => server.contextFor(s),
        sessionClosed: (s) => server.sessionClosed(s),
        log: (message) => this.log.push(message),
      },
      client,
      false,
      limits,
    );
    server.sessions.add(session);
    return session;
  }
}
