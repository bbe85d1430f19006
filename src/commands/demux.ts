import { targetMembers } from '../device/demux.js';
import type { DemuxChannelInfo, DemuxInfo, DemuxServiceInfo } from '../generated/qapi-types.gen.js';
import type { HandlersOf } from './context.js';

/** Demux commands (schema/demux.json); their errors are DeviceErrors, answered as GenericError. */
export const demuxHandlers: HandlersOf<'demux-service-add' | 'demux-service-remove' | 'query-demux-services' | 'query-demux-channels' | 'query-demux'> = {
  async 'demux-service-add'(args, { daemon }) {
    await daemon.devices.demux(args.device).addService(args);
    return {};
  },

  'demux-service-remove'({ device, name }, { daemon }) {
    daemon.devices.demux(device).removeService(name);
    return {};
  },

  'query-demux-services'({ device }, { daemon }) {
    const devices = device === undefined ? daemon.devices.demuxes() : [daemon.devices.demux(device)];
    return devices.flatMap((demux) => demux.services().map(({ spec, opened, refused, channels }): DemuxServiceInfo => ({ service: spec, opened, refused, channels })));
  },

  'query-demux-channels'({ device }, { daemon }) {
    const devices = device === undefined ? daemon.devices.demuxes() : [daemon.devices.demux(device)];
    return devices.flatMap((demux) => {
      const now = demux.session.now();
      return demux.session.channels.map(
        (channel): DemuxChannelInfo => ({
          device: demux.label,
          channel: channel.id,
          ...targetMembers(channel.target),
          initiator: channel.initiator === 'local' ? 'host' : 'peer',
          state: channel.state,
          'bytes-in': channel.bytesIn,
          'bytes-out': channel.bytesOut,
          'send-credit': channel.sendCredit,
          'receive-credit': channel.receiveCredit,
          queued: channel.queued,
          'age-ms': Math.max(0, now - channel.createdAt),
        }),
      );
    });
  },

  'query-demux'(_args, { daemon }) {
    return daemon.devices.demuxes().map((demux): DemuxInfo => {
      const { counters } = demux.session;
      return {
        ...(demux.id !== undefined ? { id: demux.id } : {}),
        path: demux.path,
        chardev: demux.chardev.id,
        state: demux.session.state,
        ...(demux.vsock !== undefined ? { vsock: demux.vsock } : {}),
        channels: demux.session.channels.length,
        'garbage-bytes': counters.garbageBytes,
        'dropped-frames': counters.droppedFrames,
        'errors-sent': counters.errorsSent,
        'errors-received': counters.errorsReceived,
      };
    });
  },
};
