import { fileURLToPath } from 'node:url';
import { packageFile } from './package-root.js';

declare const watcherBrand: unique symbol;
export type NativeWatcher = { readonly [watcherBrand]: true };

/** What one recvmsg() returned: the bytes read into the caller's buffer (0 at end of stream) and the descriptors that came with them. */
export interface NativeReceived {
  readonly length: number;
  readonly fds: readonly number[];
  readonly truncated: boolean;
}

/** The native addon (native/fdpass.c, with native/heap-reduce.cc and native/mapped-file.c), exactly as it is typed there. */
export interface NativeAddon {
  watch(fd: number, onReadable: () => void): NativeWatcher;
  start(watcher: NativeWatcher): void;
  stop(watcher: NativeWatcher): void;
  close(watcher: NativeWatcher): void;
  receive(watcher: NativeWatcher, buffer: Buffer, maxFds: number): NativeReceived | null;
  sendFds(fd: number, data: Buffer, fds: readonly number[]): number;
  getFlags(fd: number): number;
  dupFlags(fd: number, flags: number): number;
  trimHeap(): boolean;
  reduceHeap(): void;
  /** The file as a Latin-1 string over its mapped pages (native/mapped-file.c); the daemon's launcher compiles its bundle from it. */
  mapLatin1(path: string): string;
  /** The file's bytes as a Buffer over its mapped pages, copy on write. */
  mapBytes(path: string): Buffer;
}

/** Why the addon is unavailable, or undefined when it loaded. */
export let nativeAddonUnavailable: string | undefined;

/** The addon, built by `npm ci` (binding.gyp); undefined when it is not built. */
export const nativeAddon = ((): NativeAddon | undefined => {
  try {
    // Built by `npm ci` (binding.gyp). Opened as require() would open it,
    // without loading node:module for that alone.
    const module = { exports: {} };
    process.dlopen(module, fileURLToPath(packageFile('build/Release/fdpass.node')));
    return module.exports as NativeAddon;
  } catch (error: unknown) {
    nativeAddonUnavailable = `the fdpass addon is not built (${(error as Error).message.split('\n')[0]})`;
    return undefined;
  }
})();
