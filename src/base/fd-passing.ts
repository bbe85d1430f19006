import { closeSync } from 'node:fs';
import type { Socket } from 'node:net';
import { type NativeAddon, nativeAddon, nativeAddonUnavailable, type NativeReceived, type NativeWatcher } from './native-addon.js';

/** Why descriptor passing is unavailable, or undefined when the addon loaded. */
export { nativeAddonUnavailable as fdPassingUnavailable } from './native-addon.js';

/** What one recvmsg() returned: the bytes (empty at end of stream) and the descriptors that came with them. */
export interface ReceivedMessage {
  /** A view of the receiver's read buffer: valid during the onMessage call only (see FdReceiver). */
  readonly data: Buffer;
  readonly fds: readonly number[];
  /** The sender passed more descriptors than the reader takes; the kernel closed the rest. */
  readonly truncated: boolean;
}

/** The most bytes one recvmsg() reads. */
export const READ_BUFFER_BYTES = 64 << 10;

/**
 * A read buffer for receivers whose consumers copy what they keep before
 * onMessage returns: reads happen one at a time on the event loop, so all
 * of those receivers can share it.
 */
export const sharedReadBuffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);

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
 *
 * Every read goes into `readBuffer`, which the caller keeps, instead of a
 * new buffer per read: a 64 KiB ringbuf-write is 87 KB of input, and a
 * buffer per read is memory the C allocator keeps after the garbage
 * collector frees it. The bytes handed to onMessage are a view of that
 * buffer, read into again by the next read: the next read on this
 * receiver comes only after onMessage has returned, and not at all while
 * reading is off (setReading(false)). A consumer copies what it keeps
 * beyond the call, or turns reading off until it is done with the view;
 * receivers sharing one buffer (sharedReadBuffer) must copy.
 */
export class FdReceiver {
  readonly #watcher: NativeWatcher;
  #closed = false;

  private constructor(
    private readonly addon: NativeAddon,
    fd: number,
    private readonly maxFds: number,
    private readonly readBuffer: Buffer,
    private readonly onMessage: (message: ReceivedMessage) => void,
    private readonly onError: (error: Error) => void,
  ) {
    this.#watcher = addon.watch(fd, () => this.#readable());
  }

  /** A receiver for `socket`, or undefined when the addon is missing or the socket has no descriptor. */
  static open(
    socket: Socket,
    maxFds: number,
    readBuffer: Buffer,
    onMessage: (message: ReceivedMessage) => void,
    onError: (error: Error) => void,
  ): FdReceiver | undefined {
    const fd = socketFd(socket);
    if (nativeAddon === undefined || fd === undefined) return undefined;
    return new FdReceiver(nativeAddon, fd, maxFds, readBuffer, onMessage, onError);
  }

  setReading(reading: boolean): void {
    if (this.#closed) return;
    if (reading) this.addon.start(this.#watcher);
    else this.addon.stop(this.#watcher);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.addon.close(this.#watcher);
  }

  #readable(): void {
    if (this.#closed) return;
    let received: NativeReceived | null;
    try {
      received = this.addon.receive(this.#watcher, this.readBuffer, this.maxFds);
    } catch (error: unknown) {
      this.onError(error as Error);
      return;
    }
    // Level-triggered: whatever is left wakes the poll again.
    if (received !== null) this.onMessage({ data: this.readBuffer.subarray(0, received.length), fds: received.fds, truncated: received.truncated });
  }
}

/** Sends `data` and `fds` in one message on a connected unix socket's descriptor; the caller still owns `fds`. */
export function sendWithFds(fd: number, data: Buffer, fds: readonly number[]): number {
  return available('pass').sendFds(fd, data, fds);
}

/** fcntl(F_GETFL) of `fd`: its access mode (flags & 3) and status flags. Throws an errno error (`code`). */
export function descriptorFlags(fd: number): number {
  return withErrnoCode(() => available('duplicate').getFlags(fd));
}

/**
 * A close-on-exec duplicate of `fd` with the status flags of `flags` set
 * and truncated where open() would truncate (QEMU's qemu_dup_flags).
 * Throws an errno error (`code`).
 */
export function duplicateWithFlags(fd: number, flags: number): number {
  return withErrnoCode(() => available('duplicate').dupFlags(fd, flags));
}

/** The addon, or an error that says what cannot be done without it. */
function available(what: 'pass' | 'duplicate'): NativeAddon {
  if (nativeAddon === undefined) throw new Error(`cannot ${what} descriptors: ${nativeAddonUnavailable}`);
  return nativeAddon;
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
