import { closeSync } from 'node:fs';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { packageFile } from './package-root.js';

/** What one recvmsg() returned: the bytes (empty at end of stream) and the descriptors that came with them. */
export interface ReceivedMessage {
  readonly data: Buffer;
  readonly fds: readonly number[];
  /** The sender passed more descriptors than the reader takes; the kernel closed the rest. */
  readonly truncated: boolean;
}

declare const watcherBrand: unique symbol;
type NativeWatcher = { readonly [watcherBrand]: true };

/** The native addon (native/fdpass.c), exactly as it is typed there. */
interface FdPassAddon {
  watch(fd: number, onReadable: () => void): NativeWatcher;
  start(watcher: NativeWatcher): void;
  stop(watcher: NativeWatcher): void;
  close(watcher: NativeWatcher): void;
  receive(watcher: NativeWatcher, maxFds: number): ReceivedMessage | null;
  sendFds(fd: number, data: Buffer, fds: readonly number[]): number;
  getFlags(fd: number): number;
  dupFlags(fd: number, flags: number): number;
}

/** Why descriptor passing is unavailable, or undefined when the addon loaded. */
export let fdPassingUnavailable: string | undefined;

const addon = ((): FdPassAddon | undefined => {
  try {
    // Built by `npm ci` (binding.gyp). Opened as require() would open it,
    // without loading node:module for that alone.
    const module = { exports: {} };
    process.dlopen(module, fileURLToPath(packageFile('build/Release/fdpass.node')));
    return module.exports as FdPassAddon;
  } catch (error: unknown) {
    fdPassingUnavailable = `the fdpass addon is not built (${(error as Error).message.split('\n')[0]})`;
    return undefined;
  }
})();

/** The descriptor of a connected Node socket (libuv's, still Node's to close); undefined when it has none. */
export function socketFd(socket: Socket): number | undefined {
  // Not public API, but stable for years: a Pipe or TCP handle exposes its descriptor on Unix.
  const handle = (socket as unknown as { _handle?: { fd?: number } })._handle;
  return typeof handle?.fd === 'number' && handle.fd >= 0 ? handle.fd : undefined;
}

/**
 * Reads a connected unix stream socket with recvmsg(), so that descriptors
 * sent with SCM_RIGHTS arrive with the bytes they came with. It polls a
 * duplicate of the socket's descriptor: Node keeps writing to and closing
 * the original, and must not read it (create it paused and never resume it).
 */
export class FdReceiver {
  readonly #watcher: NativeWatcher;
  #closed = false;

  private constructor(
    addonImpl: FdPassAddon,
    fd: number,
    private readonly maxFds: number,
    private readonly onMessage: (message: ReceivedMessage) => void,
    private readonly onError: (error: Error) => void,
  ) {
    this.#watcher = addonImpl.watch(fd, () => this.#readable(addonImpl));
  }

  /** A receiver for `socket`, or undefined when the addon is missing or the socket has no descriptor. */
  static open(socket: Socket, maxFds: number, onMessage: (message: ReceivedMessage) => void, onError: (error: Error) => void): FdReceiver | undefined {
    const fd = socketFd(socket);
    if (addon === undefined || fd === undefined) return undefined;
    return new FdReceiver(addon, fd, maxFds, onMessage, onError);
  }

  setReading(reading: boolean): void {
    if (this.#closed) return;
    if (reading) addon!.start(this.#watcher);
    else addon!.stop(this.#watcher);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    addon!.close(this.#watcher);
  }

  #readable(addonImpl: FdPassAddon): void {
    if (this.#closed) return;
    let message: ReceivedMessage | null;
    try {
      message = addonImpl.receive(this.#watcher, this.maxFds);
    } catch (error: unknown) {
      this.onError(error as Error);
      return;
    }
    // Level-triggered: whatever is left wakes the poll again.
    if (message !== null) this.onMessage(message);
  }
}

/** Sends `data` and `fds` in one message on a connected unix socket's descriptor; the caller still owns `fds`. */
export function sendWithFds(fd: number, data: Buffer, fds: readonly number[]): number {
  if (addon === undefined) throw new Error(`cannot pass descriptors: ${fdPassingUnavailable}`);
  return addon.sendFds(fd, data, fds);
}

/** fcntl(F_GETFL) of `fd`: its access mode (flags & 3) and status flags. Throws an errno error (`code`). */
export function descriptorFlags(fd: number): number {
  return withErrnoCode(() => available().getFlags(fd));
}

/**
 * A close-on-exec duplicate of `fd` with the status flags of `flags` set
 * and truncated where open() would truncate (QEMU's qemu_dup_flags).
 * Throws an errno error (`code`).
 */
export function duplicateWithFlags(fd: number, flags: number): number {
  return withErrnoCode(() => available().dupFlags(fd, flags));
}

function available(): FdPassAddon {
  if (addon === undefined) throw new Error(`cannot duplicate descriptors: ${fdPassingUnavailable}`);
  return addon;
}

/** The addon's errors carry `errno`; Node's carry `code` (EBADF), which is what callers test. */
function withErrnoCode<T>(call: () => T): T {
  try {
    return call();
  } catch (error: unknown) {
    const errno = (error as { errno?: number }).errno;
    const code = errno === undefined ? undefined : Object.entries(process.getBuiltinModule('node:os').constants.errno).find(([, number]) => number === errno)?.[0];
    if (code !== undefined) Object.assign(error as object, { code });
    throw error;
  }
}

/** Closes descriptors this process owns, ignoring ones already gone. */
export function closeFds(fds: Iterable<number>): void {
  for (const fd of fds) {
    try {
      closeSync(fd);
    } catch {
      // EBADF: already closed; nothing else can fail for close() on Linux that matters here.
    }
  }
}
