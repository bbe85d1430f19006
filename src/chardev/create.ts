import type { ChardevBackend, ChardevBackendKind, ChardevCommon } from '../generated/qapi-types.gen.js';
import type { Chardev, ChardevContext } from './chardev.js';
import { ChardevError } from './chardev-error.js';
import { ChardevLog, DEFAULT_LOG_BACKUPS } from './chardev-log.js';
import { FileChardev } from './file.js';
import { HubChardev } from './hub.js';
import { MuxChardev } from './mux.js';
import { NullChardev } from './null.js';
import { PipeChardev } from './pipe.js';
import { PtyChardev } from './pty.js';
import { DEFAULT_RINGBUF_SIZE, RingbufChardev } from './ringbuf.js';
import { SerialChardev } from './serial.js';
import { SocketChardev } from './socket.js';
import { StdioChardev } from './stdio.js';
import { UdpChardev } from './udp.js';

/**
 * Why each backend kind chardevd does not create is missing. The kinds
 * stay in the schema so that every QEMU request parses; creating one
 * fails with this reason instead of QEMU's bare "not a valid char driver".
 */
const UNSUPPORTED: { readonly [K in ChardevBackendKind]?: string } = {
  vc: 'it is a text console drawn on an emulator display',
  msmouse: 'it emulates a serial mouse for a guest',
  wctablet: 'it emulates a serial tablet for a guest',
  braille: 'it drives a braille display through an emulator',
  testdev: 'it is a guest test device',
  spicevmc: 'it is a channel of an emulator Spice display',
  spiceport: 'it is a port of an emulator Spice display',
  'qemu-vdagent': 'it is a Spice agent inside an emulator',
  dbus: 'it is a channel of an emulator D-Bus display',
  console: 'it exists only on Windows',
  parallel: 'parallel ports are not supported',
};

/** The kinds query-chardev-backends lists: everything chardevd can create. */
export const SUPPORTED_KINDS: readonly ChardevBackendKind[] = (
  ['file', 'serial', 'pipe', 'socket', 'udp', 'pty', 'null', 'mux', 'stdio', 'ringbuf', 'memory'] as const
).filter((kind) => !(kind in UNSUPPORTED));

/**
 * Builds and opens the chardev a backend description asks for, with its
 * log file first as QEMU opens it (chardev/char.c qemu_char_open). Errors
 * carry QEMU's text without the "Failed to add chardev" prefix, which is
 * the caller's to add.
 */
export async function createChardev(id: string, backend: ChardevBackend, context: ChardevContext): Promise<Chardev> {
  const reason = UNSUPPORTED[backend.type];
  if (reason !== undefined) throw new ChardevError(`'${backend.type}' is not a valid char driver name: ${reason}`);
  const common: ChardevCommon = backend.data;
  const log = common.logfile === undefined ? undefined : ChardevLog.open(logOptions(common.logfile, common), context.log);
  let chardev: Chardev;
  try {
    chardev = construct(id, backend, context);
    if (log !== undefined) chardev.setLog(log);
    await chardev.open();
  } catch (error: unknown) {
    log?.close();
    throw error;
  }
  return chardev;
}

function logOptions(path: string, common: ChardevCommon) {
  const maxSize = common.logsize ?? 0;
  return { path, append: common.logappend === true, maxSize, backups: common.logbackups ?? (maxSize > 0 ? DEFAULT_LOG_BACKUPS : 0) };
}

function construct(id: string, backend: ChardevBackend, context: ChardevContext): Chardev {
  switch (backend.type) {
    case 'null':
      return new NullChardev(id);
    case 'ringbuf':
    case 'memory':
      return new RingbufChardev(id, backend.type, backend.data.size ?? DEFAULT_RINGBUF_SIZE);
    case 'file':
      return new FileChardev(id, backend.data, context);
    case 'pipe':
      return new PipeChardev(id, backend.data.device, context);
    case 'serial':
      return new SerialChardev(id, backend.data.device, context);
    case 'socket':
      return new SocketChardev(id, backend.data, context);
    case 'udp':
      return new UdpChardev(id, backend.data, context);
    case 'pty':
      return new PtyChardev(id, context);
    case 'stdio':
      return new StdioChardev(id, backend.data, context);
    case 'hub':
      return new HubChardev(id, backend.data, context);
    case 'mux': {
      const base = context.find?.(backend.data.chardev);
      if (base === undefined) throw new ChardevError(`mux: base chardev ${backend.data.chardev} not found`);
      return new MuxChardev(id, base, context.muxesOpened ?? true, context.muxEscapeChar);
    }
    default:
      throw new ChardevError(`'${backend.type}' is not a valid char driver name`);
  }
}
