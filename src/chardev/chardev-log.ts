import * as fs from 'node:fs';
import { ChardevError, describeSystemError } from './chardev-error.js';

/** Rotated copies kept when `logsize` is given without `logbackups` (virtlogd keeps 3 too). */
export const DEFAULT_LOG_BACKUPS = 3;

export interface ChardevLogOptions {
  readonly path: string;
  /** Keep what the file holds and add to it (QEMU's logappend). */
  readonly append: boolean;
  /** Rotate before the file would grow beyond this many bytes; 0 never rotates. */
  readonly maxSize: number;
  /** Rotated copies to keep as PATH.1 … PATH.N. */
  readonly backups: number;
}

/**
 * The log file every chardev can copy its frontend's output to
 * (ChardevCommon logfile/logappend, chardev/char.c qemu_chr_open_log and
 * qemu_chr_write_log). Like QEMU it writes synchronously and ignores write
 * errors, so a full disk never stops the chardev. chardevd adds rotation:
 * with `maxSize` the file never exceeds that size; the bytes that would
 * overflow it start a new file after the old one moves to PATH.1.
 */
export class ChardevLog {
  #fd: number;
  #size: number;
  #failures = 0;

  private constructor(
    readonly options: ChardevLogOptions,
    fd: number,
    size: number,
    private readonly report: (message: string) => void,
  ) {
    this.#fd = fd;
    this.#size = size;
  }

  /** Opens the log as QEMU does: created with mode 0666 (less umask), truncated unless appending. */
  static open(options: ChardevLogOptions, report: (message: string) => void): ChardevLog {
    const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | (options.append ? fs.constants.O_APPEND : fs.constants.O_TRUNC);
    let fd: number;
    try {
      fd = fs.openSync(options.path, flags, 0o666);
    } catch (error: unknown) {
      throw new ChardevError(`Could not create '${options.path}': ${describeSystemError(error)}`);
    }
    const size = options.append ? fs.fstatSync(fd).size : 0;
    return new ChardevLog(options, fd, size, report);
  }

  /** Bytes in the live file. */
  get size(): number {
    return this.#size;
  }

  write(data: Buffer): void {
    if (this.#fd < 0) return;
    let rest = data;
    const max = this.options.maxSize;
    while (rest.length > 0) {
      if (max > 0 && this.#size >= max) this.#rotate();
      const room = max > 0 ? max - this.#size : rest.length;
      const chunk = rest.length <= room ? rest : rest.subarray(0, room);
      this.#writeAll(chunk);
      this.#size += chunk.length;
      rest = rest.subarray(chunk.length);
    }
  }

  #writeAll(chunk: Buffer): void {
    try {
      let offset = 0;
      while (offset < chunk.length) offset += fs.writeSync(this.#fd, chunk, offset);
    } catch (error: unknown) {
      this.#failed('write to', error);
    }
  }

  #rotate(): void {
    const { path, backups } = this.options;
    try {
      if (backups === 0) {
        fs.ftruncateSync(this.#fd, 0);
      } else {
        fs.closeSync(this.#fd);
        this.#fd = -1;
        for (let n = backups - 1; n >= 1; n--) renameIfExists(`${path}.${n}`, `${path}.${n + 1}`);
        fs.renameSync(path, `${path}.1`);
        this.#fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_APPEND, 0o666);
      }
    } catch (error: unknown) {
      this.#failed('rotate', error);
      if (this.#fd < 0) {
        try {
          this.#fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_APPEND, 0o666);
        } catch {
          return;
        }
      }
    }
    this.#size = 0;
  }

  /** Reports the first failure and every thousandth after it, so a full disk cannot flood the daemon's log. */
  #failed(what: string, error: unknown): void {
    if (this.#failures++ % 1000 === 0) this.report(`cannot ${what} log file '${this.options.path}': ${describeSystemError(error)}`);
  }

  close(): void {
    if (this.#fd < 0) return;
    fs.closeSync(this.#fd);
    this.#fd = -1;
  }
}

function renameIfExists(from: string, to: string): void {
  try {
    fs.renameSync(from, to);
  } catch (error: unknown) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
