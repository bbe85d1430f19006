import * as fs from 'node:fs';
import type { Writable } from 'node:stream';
import type { ChardevFile } from '../generated/qapi-types.gen.js';
import type { ChardevBackendDefinition } from './backend-definition.js';
import type { ChardevContext } from './chardev.js';
import { parseCommon } from './chardev-opts.js';
import { FdChardev } from './fd-chardev.js';
import { PathOpener } from './path-opener.js';
import type { SinkEndpoint } from './sink-output.js';
import { readableFromFd, writableFromFd } from './stream-io.js';

/**
 * Output to a file, optional input from another (chardev/char-file.c).
 * The output file is created with mode 0666 (less umask) and truncated
 * unless `append`.
 */
export class FileChardev extends FdChardev {
  readonly kind = 'file';
  /** It writes to disk, which waits for nobody. */
  override readonly losslessSink = true;
  readonly #opener: PathOpener;

  constructor(
    id: string,
    private readonly options: ChardevFile,
    context: ChardevContext,
  ) {
    super(id, context);
    this.#opener = new PathOpener(context.fdsets);
  }

  get filename(): string {
    return 'file';
  }

  async open(): Promise<void> {
    const { in: inPath, out, append } = this.options;
    const opener = this.#opener;
    const outFd = opener.openOrThrow(
      out,
      fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_NONBLOCK | (append === true ? fs.constants.O_APPEND : fs.constants.O_TRUNC),
    );
    let inFd: number | undefined;
    if (inPath !== undefined) {
      try {
        inFd = openInput(inPath, opener);
      } catch (error: unknown) {
        fs.closeSync(outFd);
        opener.release();
        throw error;
      }
    }
    this.useStreams(inFd === undefined ? undefined : readableFromFd(inFd), outputEndpoint(out, outFd, opener));
  }

  protected override async closeBackend(): Promise<void> {
    await super.closeBackend();
    this.#opener.release();
  }
}

/** What a WriteStream uses instead of node:fs: closing leaves the descriptor open, for the next stream after a failed write. */
const KEEP_DESCRIPTOR = { write: fs.write, writev: fs.writev, close: (_fd: number, callback: (error: null) => void) => callback(null) };

/**
 * Where the file chardev writes, and how it tries again after a failed
 * write. A regular file or a device keeps its descriptor: a retry writes
 * where the last write stopped, and succeeds once the disk has room
 * again (a file deleted to make room frees none while it is open). A
 * FIFO or socket whose reader left fails for good (EPIPE), so a retry
 * opens the path again, which succeeds once a reader is back.
 */
function outputEndpoint(path: string, fd: number, opener: PathOpener): SinkEndpoint {
  const stat = fs.fstatSync(fd);
  if (stat.isFIFO() || stat.isSocket()) {
    return { stream: writableFromFd(fd), reopen: () => writableFromFd(opener.open(path, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK)) };
  }
  const stream = (): Writable => fs.createWriteStream('', { fd, fs: KEEP_DESCRIPTOR });
  return { stream: stream(), reopen: stream, release: () => fs.closeSync(fd) };
}

/**
 * Opens the input file. QEMU opens it read-only, which for a FIFO blocks
 * until a writer appears; chardevd opens a FIFO read-write and
 * non-blocking so that the daemon never stalls (docs/compatibility.md).
 */
function openInput(path: string, opener: PathOpener): number {
  let fifo = false;
  try {
    // An fd set's descriptor is read as it was given: read-only, as QEMU opens the input.
    fifo = !PathOpener.isFdset(path) && fs.statSync(path).isFIFO();
  } catch {
    // Let the open below report the error in QEMU's words.
  }
  return opener.openOrThrow(path, fifo ? fs.constants.O_RDWR | fs.constants.O_NONBLOCK : fs.constants.O_RDONLY);
}

/** `-chardev file,path=OUT[,input-path=IN][,append=on]` (chardev/char-file.c). */
export const fileBackend: ChardevBackendDefinition<'file'> = {
  kinds: ['file'],
  options: { path: 'str', append: 'bool', 'input-path': 'str' },
  parse(kind, opts) {
    // char-file.c qemu_chr_parse_file_out; `in` from input-path is QEMU 8.1's.
    const path = opts.get('path');
    if (path === undefined) throw opts.fail('chardev: file: no filename given');
    const input = opts.get('input-path');
    const data: ChardevFile = { ...parseCommon(opts), ...(input !== undefined ? { in: input } : {}), out: path, append: opts.getBool('append', false) };
    return { type: kind, data };
  },
  create: (id, backend, context) => new FileChardev(id, backend.data, context),
};
