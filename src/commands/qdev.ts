import { deviceRequestFromArguments } from '../device/device-option.js';
import { DeviceError, DeviceNotFoundError } from '../device/registry.js';
import type { LinkDevice } from '../device/link.js';
import { sendDeviceDeletedEvent } from '../generated/qapi-events.gen.js';
import type { LinkInfo } from '../generated/qapi-types.gen.js';
import type { HandlersOf } from './context.js';
import { DeviceNotFoundError as QmpDeviceNotFound, GenericError } from '../qmp/errors.js';

/** Device commands (schema/qdev.json). */
export const qdevHandlers: HandlersOf<'device_add' | 'device_del' | 'query-links'> = {
  device_add(args, { daemon }) {
    try {
      daemon.devices.add(deviceRequestFromArguments(args));
    } catch (error: unknown) {
      if (error instanceof DeviceError) throw new GenericError(error.message);
      throw error;
    }
    return {};
  },

  device_del({ id }, { daemon, server }) {
    let device: LinkDevice;
    try {
      device = daemon.devices.remove(id);
    } catch (error: unknown) {
      if (error instanceof DeviceNotFoundError) throw new QmpDeviceNotFound(error.message);
      throw error;
    }
    sendDeviceDeletedEvent(server, { ...(device.id !== undefined ? { device: device.id } : {}), path: device.path });
    return {};
  },

  'query-links'(_args, { daemon }) {
    return daemon.devices.list().map(
      (link): LinkInfo => ({
        ...(link.id !== undefined ? { id: link.id } : {}),
        path: link.path,
        chardev: link.chardev.id,
        peer: link.peer.id,
        'chardev-to-peer': link.forwarded.chardevToPeer,
        'peer-to-chardev': link.forwarded.peerToChardev,
      }),
    );
  },
};
