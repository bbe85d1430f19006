import type { Readable, Writable } from 'node:stream';
import { Chardev, type ChardevContext } from './chardev.js';
import { StreamInput, StreamOutput } from './stream-io.js';

/**
 * The shared part of backends built on a pair of streams (chardev/char-fd.c):
 * file, pipe, serial and stdio. Open from the start; the end of the input
 * stream reports CLOSED, as QEMU ties CLOSED to the read side while output
 * may keep working.
 */
export abstract class FdChardev extends Chardev {
  #input: StreamInput | undefined;
  #output: StreamOutput | undefined;

  constructor(
    id: string,
    protected readonly context: ChardevContext,
  ) {
    super(id);
  }

  /** Connects the streams once the subclass opened them; either may be absent. */
  protected useStreams(input: Readable | undefined, output: Writable | undefined): void {
    if (output !== undefined) {
      this.#output = new StreamOutput(output, () => this.drained());
      output.on('error', (error) => this.context.log(`chardev '${this.id}': write failed: ${error.message}`));
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

  /** Bytes dropped because the output stream could not keep up or was gone. */
  get droppedOutput(): number {
    return this.#output?.dropped ?? 0;
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
    const streams = new Set<Readable | Writable>();
    if (this.#input !== undefined) streams.add(this.#input.stream);
    if (this.#output !== undefined) streams.add(this.#output.stream);
    await Promise.all([...streams].map((stream) => closeStream(stream)));
  }
}

/** Flushes what a writable still queues, then releases the stream and its descriptor. */
async function closeStream(stream: Readable | Writable): Promise<void> {
  if (stream.destroyed) return;
  await new Promise<void>((resolve) => {
    stream.once('close', () => resolve());
    if ('end' in stream && stream.writable) stream.end();
    else stream.destroy();
  });
}
