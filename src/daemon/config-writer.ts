import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { describeSystemError } from '../chardev/chardev-error.js';

/** How long a change waits before the file is written: the changes that come meanwhile go into the same write. */
export const CONFIG_SAVE_DELAY_MS = 100;

export interface ConfigWriterOptions {
  /** The file to keep up to date (--config-save FILE). */
  readonly path: string;
  /** The file's text for the configuration now. */
  readonly text: () => string;
  /** Where a failed write is reported (the daemon's log). */
  readonly log: (message: string) => void;
  readonly delayMs?: number | undefined;
}

/**
 * Keeps a config file equal to the running configuration (--config-save).
 * Changes are coalesced: the first one starts a short delay and the file
 * is written once at its end, with the configuration as it is then.
 * Every write replaces the file atomically: the text goes to a temporary
 * file beside it, is flushed to disk, and is renamed over the file, so a
 * reader (or a restart after a crash) sees the old file or the new one,
 * never a part. A write that fails is logged and the file left as it
 * was; the next change, or the stop at shutdown, tries again.
 *
 * Nothing is written before start() (startup is complete) nor after
 * stop(), so a half-created or half-closed daemon is never saved.
 */
export class ConfigWriter {
  #state: 'held' | 'running' | 'stopped' = 'held';
  #dirty = false;
  #timer: NodeJS.Timeout | undefined;
  /** The writes in progress, one after the other. */
  #writing: Promise<void> = Promise.resolve();
  /** What the file holds, as far as this writer knows; undefined until it has read or written it. */
  #written: string | undefined;

  constructor(private readonly options: ConfigWriterOptions) {}

  /** The configuration changed: the file follows after the delay. */
  changed(): void {
    this.#dirty = true;
    if (this.#state === 'running') this.#schedule();
  }

  /** Startup is complete: writes the file now, unless it holds this configuration already, and after every change from now on. */
  start(): void {
    if (this.#state !== 'held') return;
    this.#state = 'running';
    this.#dirty = true;
    void this.#flush();
  }

  /**
   * Writes what changed since the last write, with the configuration as
   * it is at this call (before a shutdown closes anything), and writes
   * nothing more. Settles once the last write is done.
   */
  stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const last = this.#state === 'running' ? this.#flush() : this.#writing;
    this.#state = 'stopped';
    return last;
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#flush();
    }, this.options.delayMs ?? CONFIG_SAVE_DELAY_MS);
  }

  /** Takes the text now and queues its write after the writes in progress. */
  #flush(): Promise<void> {
    if (!this.#dirty) return this.#writing;
    this.#dirty = false;
    let text: string;
    try {
      text = this.options.text();
    } catch (error: unknown) {
      this.#report(error);
      return this.#writing;
    }
    this.#writing = this.#writing.then(() => this.#write(text));
    return this.#writing;
  }

  async #write(text: string): Promise<void> {
    const { path } = this.options;
    // Loaded at the first write: a daemon that never saves its configuration does not load it to start.
    const { open, readFile, rename, rm, stat } = process.getBuiltinModule('node:fs/promises');
    this.#written ??= await readFile(path, 'utf8').catch(() => undefined);
    if (text === this.#written) return;
    // Beside the file, so that the rename stays on one filesystem and is atomic.
    const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
    let handle: FileHandle | undefined;
    try {
      const existing = await stat(path).catch(() => undefined);
      handle = await open(temporary, 'w');
      // A file the user restricted (chmod 600) stays restricted.
      if (existing !== undefined) await handle.chmod(existing.mode & 0o7777);
      await handle.writeFile(text);
      await handle.sync();
      await handle.close();
      handle = undefined;
      await rename(temporary, path);
      this.#written = text;
    } catch (error: unknown) {
      await handle?.close().catch(() => undefined);
      await rm(temporary, { force: true }).catch(() => undefined);
      this.#dirty = true;
      this.#report(error);
      return;
    }
    await syncDirectory(dirname(path));
  }

  #report(error: unknown): void {
    this.options.log(`--config-save ${this.options.path}: ${describeSystemError(error)}`);
  }
}

/** Makes the rename itself durable; a filesystem that cannot sync a directory still has the new file. */
async function syncDirectory(path: string): Promise<void> {
  let directory: FileHandle | undefined;
  try {
    directory = await process.getBuiltinModule('node:fs/promises').open(path, 'r');
    await directory.sync();
  } catch {
    // Best effort: the file is complete either way.
  } finally {
    await directory?.close().catch(() => undefined);
  }
}
