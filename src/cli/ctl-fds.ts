import * as fs from 'node:fs';
import { ChardevdError } from '../base/error.js';

/** A --fd or --fd-file that cannot be used. */
export class FdOptionError extends ChardevdError {
  override readonly name = 'FdOptionError';
  readonly code = 'CLI_FD_INVALID';
}

/** The open() flags of each MODE of `--fd-file MODE:PATH`. */
const MODES: { readonly [mode: string]: number } = {
  r: fs.constants.O_RDONLY,
  w: fs.constants.O_WRONLY | fs.constants.O_CREAT,
  rw: fs.constants.O_RDWR,
  // Appending, created if missing: a log.
  a: fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT,
};

export interface PassedFds {
  /** What the command passes, in the order given. */
  readonly fds: number[];
  /** The descriptors chardevctl opened (--fd-file), closed once the command is answered. */
  readonly opened: number[];
  /** The arguments that are not --fd options. */
  readonly args: string[];
}

/**
 * Takes `--fd N` (a descriptor chardevctl inherited, e.g. `3<file` in a
 * shell) and `--fd-file [MODE:]PATH` (a file chardevctl opens; MODE r, w,
 * rw or a, rw when not given) out of a command's arguments. The access
 * mode matters to add-fd: a chardev opening /dev/fdset/N takes a
 * descriptor whose mode fits (a file chardev one opened for writing).
 */
export function takeFdOptions(argv: readonly string[]): PassedFds {
  const result: PassedFds = { fds: [], opened: [], args: [] };
  try {
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i]!;
      const [name, inline] =
        arg.startsWith('--fd=') || arg.startsWith('--fd-file=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
      if (name !== '--fd' && name !== '--fd-file') {
        result.args.push(arg);
        continue;
      }
      const value = inline ?? argv[++i];
      if (value === undefined) throw new FdOptionError(`${name} needs ${name === '--fd' ? 'a descriptor number' : 'a path'}`);
      if (name === '--fd') result.fds.push(inheritedFd(value));
      else {
        const fd = openFdFile(value);
        result.opened.push(fd);
        result.fds.push(fd);
      }
    }
  } catch (error: unknown) {
    closeOpened(result);
    throw error;
  }
  return result;
}

/** Closes what takeFdOptions opened. */
export function closeOpened(passed: PassedFds): void {
  for (const fd of passed.opened.splice(0)) fs.closeSync(fd);
}

function inheritedFd(text: string): number {
  if (!/^[0-9]+$/.test(text)) throw new FdOptionError(`--fd ${text}: not a descriptor number`);
  const fd = Number(text);
  try {
    fs.fstatSync(fd);
  } catch {
    throw new FdOptionError(`--fd ${text}: no such open descriptor (pass one with a redirection, e.g. ${fd}<FILE)`);
  }
  return fd;
}

function openFdFile(spec: string): number {
  const colon = spec.indexOf(':');
  const mode = colon > 0 && spec.slice(0, colon) in MODES ? spec.slice(0, colon) : undefined;
  const path = mode === undefined ? spec : spec.slice(colon + 1);
  try {
    return fs.openSync(path, MODES[mode ?? 'rw']!, 0o666);
  } catch (error: unknown) {
    throw new FdOptionError(`--fd-file ${spec}: ${(error as Error).message}`);
  }
}
