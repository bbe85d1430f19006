import type { Readable, Writable } from 'node:stream';
import { Chardev, type ChardevContext } from './chardev.js';
import type { ReadLease } from './read-buffer.js';
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
      const streamOutput = new StreamOutput(output, () => this.drained());
      this.#output = streamOutput;
      output.on('error', (error) => this.context.log(`chardev '${this.id}': write failed: ${error.message}`));
      output.on('close', () => streamOutput.streamClosed());
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

  /** The output stream copies or keeps lent data as it needs (StreamOutput.write). */
  protected override writeLentToBackend(data: Buffer, lease: ReadLease): boolean {
    return this.#output?.write(data, lease) ?? true;
  }

  protected override pauseInput(): void {
    this.#input?.pause();
  }

  protected override resumeInput(): void {
    this.#input?.resume();
  }

  protected async closeBackend(): Promise<void> {
    const input = this.#input?.stream;
    const output = this.#output;
    // A FIFO used both ways is one duplex stream, closed with the output.
    const duplex = (output?.stream as unknown) === input;
    await Promise.all([output?.close(), input === undefined || duplex ? undefined : destroyStream(input)]);
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
