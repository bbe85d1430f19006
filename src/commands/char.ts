import { ChardevError } from '../chardev/chardev-error.js';
import { SUPPORTED_KINDS } from '../chardev/create.js';
import { HubChardev } from '../chardev/hub.js';
import { PtyChardev } from '../chardev/pty.js';
import { decodeQemuBase64, encodeUtf8, qemuUtf8Text } from '../chardev/ringbuf-data.js';
import { readByCursor } from '../chardev/ringbuf-cursor.js';
import { RingbufChardev } from '../chardev/ringbuf.js';
import { SocketChardev } from '../chardev/socket.js';
import { type Chardev, MONITOR_WITHOUT_DESCRIPTORS } from '../chardev/chardev.js';
import type { ChardevInfo, ChardevReturn } from '../generated/qapi-types.gen.js';
import type { HandlersOf } from './context.js';

/** Character device commands (schema/char.json); their errors are ChardevErrors, GenericError on the wire as in QEMU. */
export const charHandlers: HandlersOf<
  | 'query-chardev'
  | 'query-chardev-backends'
  | 'chardev-add'
  | 'chardev-change'
  | 'chardev-remove'
  | 'chardev-send-break'
  | 'ringbuf-write'
  | 'ringbuf-read'
  | 'hub-add-member'
  | 'hub-remove-member'
  | 'ringbuf-read-cursor'
> = {
  'query-chardev'(_args, { daemon }) {
    return daemon.chardevs.list().map((chardev): ChardevInfo => {
      const info: ChardevInfo = {
        label: chardev.id,
        filename: chardev.filename,
        'frontend-open': chardev.frontend?.frontendOpen ?? false,
      };
      // Only a hub's entry, a viewed chardev's, a multi-client socket's that lost output, and a file's or pipe's whose writes failed have more than QEMU's three members.
      if (chardev instanceof HubChardev) info.hub = chardev.info();
      if (chardev.viewers !== undefined) info.viewers = chardev.viewers.info();
      if (chardev instanceof SocketChardev && chardev.droppedOutput > 0) info['output-dropped'] = chardev.droppedOutput;
      const sink = chardev.sinkInfo;
      if (sink !== undefined) info.sink = sink;
      return info;
    });
  },

  'hub-add-member'({ hub, member, replay }, { daemon }) {
    findHub(daemon.chardevs.get(hub), hub).addMember(member, replay ?? 0);
    return {};
  },

  'hub-remove-member'({ hub, member }, { daemon }) {
    findHub(daemon.chardevs.get(hub), hub).removeMember(member);
    return {};
  },

  'query-chardev-backends'() {
    return SUPPORTED_KINDS.map((name) => ({ name }));
  },

  async 'chardev-add'({ id, backend }, { daemon, monitorFds }) {
    return chardevReturn(await daemon.chardevs.add(id, backend, monitorFds ?? MONITOR_WITHOUT_DESCRIPTORS));
  },

  async 'chardev-change'({ id, backend }, { daemon, monitorFds }) {
    return chardevReturn(await daemon.chardevs.change(id, backend, monitorFds ?? MONITOR_WITHOUT_DESCRIPTORS));
  },

  async 'chardev-remove'({ id }, { daemon }) {
    await daemon.chardevs.remove(id);
    return {};
  },

  'chardev-send-break'({ id }, { daemon }) {
    daemon.chardevs.sendBreak(id);
    return {};
  },

  'ringbuf-write'({ device, data, format }, { daemon }) {
    const ringbuf = findRingbuf(daemon.chardevs.get(device), device);
    if (format === 'base64') decodeQemuBase64(data, (piece) => ringbuf.inject(piece));
    else encodeUtf8(data, (bytes) => ringbuf.inject(bytes));
    return {};
  },

  'ringbuf-read'({ device, size, format }, { daemon }) {
    const ringbuf = findRingbuf(daemon.chardevs.get(device), device);
    if (size <= 0) throw new ChardevError('size must be greater than zero');
    const bytes = ringbuf.ring.read(Math.min(size, ringbuf.ring.unread));
    return format === 'base64' ? Buffer.from(bytes).toString('base64') : qemuUtf8Text(bytes);
  },

  'ringbuf-read-cursor'({ device, cursor, size, format }, { daemon }) {
    const ringbuf = findRingbuf(daemon.chardevs.get(device), device);
    return readByCursor(ringbuf.ring, device, { cursor, size, format });
  },
};

/** The checks QEMU's qmp_ringbuf_write/read make, with their texts (the id unquoted in the second). */
function findRingbuf(chardev: Chardev | undefined, device: string): RingbufChardev {
  if (chardev === undefined) throw new ChardevError(`Device '${device}' not found`);
  if (!(chardev instanceof RingbufChardev)) throw new ChardevError(`${device} is not a ringbuf device`);
  return chardev;
}

/** The hub a hub-add-member or hub-remove-member names, with chardev-remove's text for an unknown id. */
function findHub(chardev: Chardev | undefined, id: string): HubChardev {
  if (chardev === undefined) throw new ChardevError(`Chardev '${id}' not found`);
  if (!(chardev instanceof HubChardev)) throw new ChardevError(`Chardev '${id}' is not a hub`);
  return chardev;
}

/** chardev-add and chardev-change return the pty's path for a pty, else nothing. */
function chardevReturn(chardev: Chardev): ChardevReturn {
  return chardev instanceof PtyChardev ? { pty: chardev.ptsPath } : {};
}
