import { deviceRequestFromArguments } from '../device/device-option.js';
import { addDevice } from '../device/registry.js';
import { sendDeviceDeletedEvent } from '../generated/qapi-events.gen.js';
import type { LinkInfo } from '../generated/qapi-types.gen.js';
import type { HandlersOf } from './context.js';

/** Device commands (schema/qdev.json); their errors are DeviceErrors (qmp-error-table.ts gives their wire classes). */
export const qdevHandlers: HandlersOf<'device_add' | 'device_del' | 'query-links'> = {
  async device_add(args, { daemon }) {
    await addDevice(daemon.devices, deviceRequestFromArguments(args));
    return {};
  },

  device_del({ id }, { daemon, server }) {
    const device = daemon.devices.remove(id);
    sendDeviceDeletedEvent(server, { ...(device.id !== undefined ? { device: device.id } : {}), path: device.path });
    return {};
  },

  'query-links'(_args, { daemon }) {
    return daemon.devices.links().map((link): LinkInfo => {
      const { forwarded, lost } = link;
      return {
        ...(link.id !== undefined ? { id: link.id } : {}),
        path: link.path,
        chardev: link.chardev.id,
        peer: link.peer.id,
        'chardev-to-peer': forwarded.chardevToPeer,
        'peer-to-chardev': forwarded.peerToChardev,
        // Present only once something was lost, as query-chardev's output-dropped.
        ...(lost.chardevToPeer > 0 ? { 'chardev-to-peer-lost': lost.chardevToPeer } : {}),
        ...(lost.peerToChardev > 0 ? { 'peer-to-chardev-lost': lost.peerToChardev } : {}),
      };
    });
  },
};
