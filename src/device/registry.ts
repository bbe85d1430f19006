import { DeviceError, DeviceNotFoundError } from './device-error.js';
import type { ChardevRegistry } from '../chardev/registry.js';
import type { Chardev } from '../chardev/chardev.js';
import { ID_ERROR, isWellFormedId } from '../options/qemu-opts.js';
import type { DeviceRequest } from './device-option.js';
import { LinkDevice } from './link.js';
import { DemuxDevice } from './demux.js';
import { MAX_MUX, MuxChardev } from '../chardev/mux.js';

/**
 * Every device by path (QEMU's /machine/peripheral and peripheral-anon
 * containers), and what device_add and device_del do, with QEMU 7.2's
 * order of checks and texts (softmmu/qdev-monitor.c, util/qemu-option.c).
 */
export class DeviceRegistry {
  readonly #devices = new Map<string, Device>();
  #anonymous = 0;

  constructor(private readonly chardevs: ChardevRegistry) {}

  /** Every device, in the order added. */
  list(): Device[] {
    return [...this.#devices.values()];
  }

  /** The link devices, in the order added. */
  links(): LinkDevice[] {
    return this.list().filter((device) => device instanceof LinkDevice);
  }

  /** The demux devices, in the order added. */
  demuxes(): DemuxDevice[] {
    return this.list().filter((device) => device instanceof DemuxDevice);
  }

  /** The demux device `id`, or a DeviceError in the words of demux-service-add. */
  demux(id: string): DemuxDevice {
    const device = this.#devices.get(peripheralPath(id));
    if (!(device instanceof DemuxDevice)) throw new DeviceError(`'${id}' is not a demux device`);
    return device;
  }

  /**
   * device_add and -device. A demux device is registered at once and
   * starts (opens its hybrid vsock socket) in `started`: the caller awaits
   * it, and removes the device if it rejects.
   */
  add({ id, properties }: DeviceRequest): Device {
    if (id !== undefined) {
      if (!isWellFormedId(id)) throw new DeviceError(ID_ERROR);
      if (this.#devices.has(peripheralPath(id))) throw new DeviceError(`Duplicate ID '${id}' for device`);
    }
    const driver = properties.get('driver');
    if (driver === undefined) throw new DeviceError("Parameter 'driver' is missing");
    if (driver !== 'link' && driver !== 'demux') throw new DeviceError(`'${driver}' is not a valid device model name`);
    // A link plugs into no bus, and chardevd has none to name.
    const bus = properties.get('bus');
    if (bus !== undefined) throw new DeviceError(`Bus '${bus}' not found`);
    if (driver === 'demux') return this.#addDemux(id, properties);
    // QEMU sets the properties one by one in the order given, taking each chardev as it goes.
    const taken = new Map<string, Chardev>();
    for (const [name, value] of properties) {
      if (name === 'driver' || name === 'bus') continue;
      if (name !== 'chardev' && name !== 'peer') throw new DeviceError(`Property 'link.${name}' not found`);
      const chardev = this.chardevs.get(value);
      if (chardev === undefined) throw new DeviceError(`Property 'link.${name}' can't find value '${value}'`);
      // QEMU 7.2's qemu_chr_fe_init refuses a chardev with a frontend (a mux with four), prefixed by the property.
      const already = [...taken.values()].filter((other) => other === chardev).length;
      const free = chardev.acceptsFrontend && (already === 0 || (chardev instanceof MuxChardev && chardev.frontends.length + already < MAX_MUX));
      if (!free) throw new DeviceError(`Property 'link.${name}' can't take value '${value}': Device '${value}' is in use`);
      taken.set(name, chardev);
    }
    const chardev = taken.get('chardev');
    const peer = taken.get('peer');
    if (chardev === undefined) throw new DeviceError("Parameter 'chardev' is missing");
    if (peer === undefined) throw new DeviceError("Parameter 'peer' is missing");
    const path = this.#path(id);
    const device = new LinkDevice(id, path, chardev, peer);
    this.#devices.set(path, device);
    return device;
  }

  #addDemux(id: string | undefined, properties: DeviceRequest['properties']): DemuxDevice {
    let chardev: Chardev | undefined;
    let vsock: string | undefined;
    let maxChannels: number | undefined;
    for (const [name, value] of properties) {
      if (name === 'driver' || name === 'bus') continue;
      if (name === 'vsock') {
        vsock = value;
        continue;
      }
      if (name === 'max-channels') {
        // QEMU's words for a uint32 property given something else (qdev-properties.c).
        if (!/^\d{1,10}$/.test(value) || Number(value) < 1 || Number(value) > 0xffffffff) {
          throw new DeviceError(`Property 'demux.max-channels' doesn't take value '${value}' (1 to 4294967295)`);
        }
        maxChannels = Number(value);
        continue;
      }
      if (name !== 'chardev') throw new DeviceError(`Property 'demux.${name}' not found`);
      chardev = this.chardevs.get(value);
      if (chardev === undefined) throw new DeviceError(`Property 'demux.${name}' can't find value '${value}'`);
      if (!chardev.acceptsFrontend) throw new DeviceError(`Property 'demux.${name}' can't take value '${value}': Device '${value}' is in use`);
    }
    if (chardev === undefined) throw new DeviceError("Parameter 'chardev' is missing");
    const path = this.#path(id);
    const context = this.chardevs.context;
    const device = new DemuxDevice(id, path, chardev, { vsock, maxChannels }, { events: context.events, findChardev: (chardevId) => this.chardevs.get(chardevId) });
    this.#devices.set(path, device);
    device.started = device.start();
    return device;
  }

  #path(id: string | undefined): string {
    return id !== undefined ? peripheralPath(id) : `/machine/peripheral-anon/device[${this.#anonymous++}]`;
  }

  /** device_del: by id, or by path as QEMU also accepts. */
  remove(idOrPath: string): Device {
    const path = idOrPath.startsWith('/') ? idOrPath : peripheralPath(idOrPath);
    const device = this.#devices.get(path);
    if (device === undefined) throw new DeviceNotFoundError(`Device '${idOrPath}' not found`);
    this.#devices.delete(path);
    device.detach();
    return device;
  }

  /** Lets go of every chardev (daemon shutdown). */
  removeAll(): void {
    for (const device of this.#devices.values()) device.detach();
    this.#devices.clear();
  }
}

/**
 * Adds a device and waits until it runs: a demux device that cannot open
 * its hybrid vsock socket is removed again and the failure thrown.
 */
export async function addDevice(registry: DeviceRegistry, request: DeviceRequest): Promise<Device> {
  const device = registry.add(request);
  if (!(device instanceof DemuxDevice)) return device;
  try {
    await device.started;
  } catch (error: unknown) {
    registry.remove(device.path);
    throw new DeviceError(`Property 'demux.vsock' can't take value '${device.vsock}': ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return device;
}

/** A device of any model. */
export type Device = LinkDevice | DemuxDevice;

function peripheralPath(id: string): string {
  return `/machine/peripheral/${id}`;
}
