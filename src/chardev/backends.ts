import type { ChardevBackendKind } from '../generated/qapi-types.gen.js';
import type { ChardevBackendDefinition } from './backend-definition.js';
import { fileBackend } from './file.js';
import { hubBackend } from './hub.js';
import { muxBackend } from './mux.js';
import { nullBackend } from './null.js';
import { pipeBackend } from './pipe.js';
import { ptyBackend } from './pty.js';
import { ringbufBackend } from './ringbuf.js';
import { serialBackend } from './serial.js';
import { socketBackend } from './socket.js';
import { stdioBackend } from './stdio.js';
import { udpBackend } from './udp.js';
import {
  brailleBackend,
  consoleBackend,
  dbusBackend,
  msmouseBackend,
  parallelBackend,
  qemuVdagentBackend,
  spiceportBackend,
  spicevmcBackend,
  testdevBackend,
  vcBackend,
  wctabletBackend,
} from './unsupported-backends.js';

/**
 * Every backend, one definition per QAPI kind (ChardevBackendKind), in
 * the schema's order: `-chardev help` and query-chardev-backends list
 * them in this order, as QEMU lists its chardev classes.
 */
export const CHARDEV_BACKENDS: readonly ChardevBackendDefinition[] = [
  fileBackend,
  serialBackend,
  parallelBackend,
  pipeBackend,
  socketBackend,
  udpBackend,
  ptyBackend,
  nullBackend,
  muxBackend,
  hubBackend,
  msmouseBackend,
  wctabletBackend,
  brailleBackend,
  testdevBackend,
  stdioBackend,
  consoleBackend,
  spicevmcBackend,
  spiceportBackend,
  qemuVdagentBackend,
  dbusBackend,
  vcBackend,
  ringbufBackend,
];

const BY_KIND = new Map<string, ChardevBackendDefinition>(CHARDEV_BACKENDS.flatMap((backend) => backend.kinds.map((kind) => [kind, backend] as const)));

/** The backend of a QAPI kind. */
export function backendOfKind(kind: ChardevBackendKind): ChardevBackendDefinition | undefined {
  return BY_KIND.get(kind);
}
