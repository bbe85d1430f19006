import { type Chardev, type ChardevEvent, type ChardevFrontend, MONITOR_INPUT_CHUNK } from '../chardev/chardev.js';
import { closeFds } from '../base/fd-passing.js';
import { OUTPUT_QUEUE_LIMIT } from '../chardev/stream-io.js';
import type { QmpServer } from '../qmp/server.js';
import type { QmpSession } from '../qmp/session.js';
import type { QmpTransportHandlers } from '../qmp/transport.js';

/**
 * Output a session writes after the chardev said it is full before it stops
 * parsing. Chardevs drop what queues beyond OUTPUT_QUEUE_LIMIT; well under
 * it (with the chardev's own high-water mark and a reply or two on top),
 * a client that reads slowly loses no reply.
 */
const OUTPUT_PAUSE_BYTES = OUTPUT_QUEUE_LIMIT / 16;

/**
 * A QMP monitor on a chardev (`-mon chardev=ID,mode=control`, QEMU's
 * monitor/qmp.c): the monitor is the chardev's frontend. Each time the
 * chardev opens (a client connects to a socket server chardev, a client
 * chardev reaches its server) a fresh session starts with the greeting
 * and capabilities negotiation; when it closes, the session ends with
 * its queued requests (monitor_qmp_event). Sessions on chardevs get
 * events like listeners' sessions once negotiated.
 */
export class QmpChardevMonitor<Context> implements ChardevFrontend {
  readonly frontendOpen = true;
  /** Who this is as a frontend, for "in use" messages. */
  readonly description: string;
  #session: QmpSession<Context> | undefined;
  #handlers: QmpTransportHandlers | undefined;
  #reading = true;
  /** The chardev's last write() said it is full; cleared by its drain(). */
  #blocked = false;
  /** Output written since the chardev said it is full: how far the peer is behind. */
  #backlog = 0;
  /** Descriptors passed with the input the chardev delivers next. */
  #fds: readonly number[] | undefined;

  constructor(
    private readonly chardev: Chardev,
    private readonly server: QmpServer<Context>,
    /** Multi-line replies (`-mon ...,pretty=on`). */
    private readonly pretty: boolean,
  ) {
    this.description = `the QMP monitor on chardev '${chardev.id}'`;
  }

  /** Becomes the chardev's frontend; throws QEMU's "Device 'ID' is in use" when it has one. An open chardev gets the greeting at once. */
  attach(): void {
    this.chardev.attach(this);
  }

  detach(): void {
    this.#session?.close();
    this.chardev.detach(this);
  }

  receiveCapacity(): number {
    return this.#handlers !== undefined && this.#reading ? MONITOR_INPUT_CHUNK : 0;
  }

  receive(data: Buffer): void {
    const fds = this.#fds;
    this.#fds = undefined;
    if (this.#handlers !== undefined) this.#handlers.data(data, fds);
    else if (fds !== undefined) closeFds(fds);
  }

  /** Kept for the input they came with; the session owns them from then on (getfd, add-fd). QEMU too keeps only the last message's. */
  receiveDescriptors(fds: readonly number[]): void {
    if (this.#fds !== undefined) closeFds(this.#fds);
    this.#fds = this.#handlers === undefined ? undefined : fds;
    if (this.#fds === undefined) closeFds(fds);
  }

  event(event: ChardevEvent): void {
    if (event === 'opened') this.#start();
    else if (event === 'closed') this.#session?.close();
  }

  drain(): void {
    this.#blocked = false;
    this.#backlog = 0;
    this.#handlers?.drain();
  }

  /** A new session for whoever opened the chardev; one still running (a reopen without a close) ends first. */
  #start(): void {
    this.#session?.close();
    let bound: QmpTransportHandlers | undefined;
    const ended = (): void => {
      if (this.#handlers !== bound) return;
      this.#handlers = undefined;
      this.#session = undefined;
      if (this.#fds !== undefined) closeFds(this.#fds);
      this.#fds = undefined;
    };
    this.#reading = true;
    this.#session = this.server.serve(
      {
        peer: `on chardev '${this.chardev.id}'`,
        backlog: () => (this.#handlers === bound ? this.#backlog : 0),
        bind: (handlers) => {
          bound = handlers;
          this.#handlers = handlers;
        },
        write: (text) => {
          if (this.#handlers !== bound) return;
          if (this.#blocked) this.#backlog += Buffer.byteLength(text);
          if (!this.chardev.write(Buffer.from(text))) this.#blocked = true;
        },
        setReading: (reading) => {
          if (this.#handlers !== bound || reading === this.#reading) return;
          this.#reading = reading;
          if (reading) this.chardev.acceptInput();
        },
        // The chardev stays; only this session's use of it ends.
        destroy: ended,
        // Output already went to the chardev, which keeps it: the session can end now.
        end: () => bound?.gone(),
      },
      { pretty: this.pretty, outputPauseBytes: OUTPUT_PAUSE_BYTES },
    );
    // Between sessions the monitor took no input, so the chardev paused its source.
    this.chardev.acceptInput();
  }
}
