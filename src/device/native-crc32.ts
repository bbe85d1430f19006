import type { Crc32 } from '../demux/crc32.js';

let zlibCrc32: ((data: Uint8Array) => number) | undefined;

/**
 * Node's native CRC-32 (zlib.crc32), several times faster than the demux
 * core's own. node:zlib is loaded at the first frame, not at start-up: a
 * daemon without a demux device never needs it.
 */
export const nativeCrc32: Crc32 = (bytes) => (zlibCrc32 ??= process.getBuiltinModule('node:zlib').crc32)(bytes);
