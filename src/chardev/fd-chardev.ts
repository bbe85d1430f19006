import { type Readable, Writable } from 'node:stream';
import type { ChardevSinkInfo } from '../generated/qapi-types.gen.js';
import { Chardev, type ChardevContext } from './chardev.js';
import { EventThrottle } from './event-throttle.js';
import { type SinkEndpoint, SinkOutput } from './sink-output.js';
import { StreamInput } from './stream-io.js';

/** CHARDEV_SINK_CHANGE is sent at most once per chardev in this interval (QEMU throttles its rate-limited events by 1 s too). */
export const SINK_EVENT_INTERVAL_MS = 1000;

/**
 * The shared part of backends built on a pair of streams (chardev/char-fd.c):
 * file and pipe. Open from the start; the end of the input stream reports
 * CLOSED, as QEMU ties CLOSED to the read side while output may keep
 * working. Output goes through a SinkOutput, which holds, retries and
 * reports writes that fail (CHARDEV_SINK_CHANGE, query-chardev's `sink`).
 */
export abstract class FdChardev extends Chardev {
  #input: StreamInput | undefined;
  #output: SinkOutput | undefined;
  /** A FIFO used both ways is one duplex stream, closed with the output. */
  #duplex = false;
  readonly #reports = new EventThrottle(SINK_EVENT_INTERVAL_MS, () => this.#report());

  constructor(
    id: string,
    protected readonly context: ChardevContext,
  ) {
    super(id);
  }

  /**
   * Connects the streams once the subclass opened them; either may be
   * absent. An output given as a stream alone cannot be opened again, so
   * a failed write there drops the output from then on.
   */
  protected useStreams(input: Readable | undefined, output: Writable | SinkEndpoint | undefined): void {
    if (output !== undefined) {
      const endpoint = output instanceof Writable ? { stream: output } : output;
      this.#duplex = (endpoint.stream as unknown) === input;
      this.#output = new SinkOutput(endpoint, { lossless: this.losslessSink, drained: () => this.drained(), changed: () => this.#reports.changed() });
    }
    if (input !== undefined) {
      this.#input = new StreamInput(input, {
        data: (chunk) => this.receive(chunk),
        end: () => this.setOpen(false),
        error: (error) => {
          this.context.log(`chardev '${this.id}': read failed: ${error.message}`);
          this.setOpen(false);
        },
      });
    }
    this.setOpen(true);
    if (!this.inputPaused) this.#input?.resume();
  }

  /** Tells the log and QMP how the output fares. */
  #report(): void {
    const output = this.#output;
    if (output === undefined || this.closed) return;
    const { state, lost, pending } = output;
    const error = output.error ?? '';
    if (state === 'ok') this.context.log(`chardev '${this.id}': writing again; ${lost} bytes lost so far`);
    else if (state === 'stalled') this.context.log(`chardev '${this.id}': write failed: ${error}; holding the output and retrying`);
    else this.context.log(`chardev '${this.id}': write failed: ${error}; dropping the output${output.retries ? ' until a retry succeeds' : ''}`);
    this.context.events?.emit('CHARDEV_SINK_CHANGE', { id: this.id, state, error, pending, lost });
  }

  override get outputLost(): number {
    return this.#output?.lost ?? 0;
  }

  override get outputBacklog(): number {
    return this.losslessSink ? (this.#output?.pending ?? 0) : 0;
  }

  override get sinkInfo(): ChardevSinkInfo | undefined {
    return this.#output?.info;
  }

  protected writeToBackend(data: Buffer): boolean {
    return this.#output?.write(data) ?? true;
  }

  protected override pauseInput(): void {
    this.#input?.pause();
  }

  protected override resumeInput(): void {
    this.#input?.resume();
  }

  protected async closeBackend(): Promise<void> {
    this.#reports.dispose();
    const input = this.#input?.stream;
    const output = this.#output;
    const lostBefore = output?.lost ?? 0;
    await Promise.all([output?.close(), input === undefined || this.#duplex ? undefined : destroyStream(input)]);
    const lost = (output?.lost ?? 0) - lostBefore;
    if (lost > 0) this.context.log(`chardev '${this.id}': closed with ${lost} bytes of output unwritten${output?.error !== undefined ? ` (${output.error})` : ''}`);
  }
}

/** Releases an input stream and its descriptor. */
async function destroyStream(stream: Readable): Promise<void> {
  if (stream.closed) return;
  await new Promise<void>((resolve) => {
    stream.once('close', () => resolve());
    stream.destroy();
  });
}
