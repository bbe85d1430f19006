import * as fs from 'node:fs';
import * as net from 'node:net';
import type { ChardevBackendDefinition } from './backend-definition.js';
import type { ChardevContext } from './chardev.js';
import { parseHostdev } from './chardev-opts.js';
import { FdChardev } from './fd-chardev.js';
import { PathOpener } from './path-opener.js';
import { readableFromFd, writableFromFd } from './stream-io.js';

/**
 * A pair of named pipes (chardev/char-pipe.c): input from PATH.in and
 * output to PATH.out, or PATH alone for both when either is missing.
 * Like QEMU, chardevd never creates the FIFOs, and opens them read-write
 * so that opening never waits for the other end.
 */
export class PipeChardev extends FdChardev {
  readonly kind = 'pipe';
  readonly #opener: PathOpener;

  constructor(
    id: string,
    private readonly device: string,
    context: ChardevContext,
  ) {
    super(id, context);
    this.#opener = new PathOpener(context.fdsets);
  }

  get filename(): string {
    return 'pipe';
  }

  async open(): Promise<void> {
    const flags = fs.constants.O_RDWR | fs.constants.O_NONBLOCK;
    const opener = this.#opener;
    // "/dev/fdset/N.in" is no fd set (QEMU's qemu_parse_fdset fails), so an fd set is used both ways.
    const inFd = tryOpen(opener, `${this.device}.in`, flags);
    const outFd = tryOpen(opener, `${this.device}.out`, flags);
    if (inFd !== undefined && outFd !== undefined) {
      this.useStreams(readableFromFd(inFd), writableFromFd(outFd));
      return;
    }
    if (inFd !== undefined) fs.closeSync(inFd);
    if (outFd !== undefined) fs.closeSync(outFd);
    const fd = opener.openOrThrow(this.device, flags);
    if (fs.fstatSync(fd).isFIFO()) {
      const both = new net.Socket({ fd, readable: true, writable: true });
      this.useStreams(both, both);
    } else {
      // A regular file as "pipe": read it and append to it through separate descriptors.
      let writeFd: number;
      try {
        writeFd = opener.openOrThrow(this.device, fs.constants.O_WRONLY | fs.constants.O_APPEND);
      } catch (error: unknown) {
        fs.closeSync(fd);
        opener.release();
        throw error;
      }
      this.useStreams(readableFromFd(fd), writableFromFd(writeFd));
    }
  }

  protected override async closeBackend(): Promise<void> {
    await super.closeBackend();
    this.#opener.release();
  }
}

function tryOpen(opener: PathOpener, path: string, flags: number): number | undefined {
  try {
    return opener.open(path, flags);
  } catch {
    return undefined;
  }
}

/** `-chardev pipe,path=PATH` (chardev/char-pipe.c). */
export const pipeBackend: ChardevBackendDefinition<'pipe'> = {
  kinds: ['pipe'],
  options: { path: 'str' },
  parse: (kind, opts) => ({ type: kind, data: parseHostdev('pipe', opts) }),
  create: (id, backend, context) => new PipeChardev(id, backend.data.device, context),
};
