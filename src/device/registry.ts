import { ChardevdError } from '../base/error.js';
import type { ChardevRegistry } from '../chardev/registry.js';
import type { Chardev } from '../chardev/chardev.js';
import { ID_ERROR, isWellFormedId } from '../options/qemu-opts.js';
import type { DeviceRequest } from './device-option.js';
import { LinkDevice } from './link.js';
import { MAX_MUX, MuxChardev } from '../chardev/mux.js';

/** A device_add or -device mistake; the message is QEMU's text where QEMU has one. */
export class DeviceError extends ChardevdError {
  override readonly name: string = 'DeviceError';
  readonly code: string = 'DEVICE_FAILED';
}

/** device_del of an id or path no device has (QEMU answers with class DeviceNotFound). */
export class DeviceNotFoundError extends DeviceError {
  override readonly name = 'DeviceNotFoundError';
  override readonly code = 'DEVICE_NOT_FOUND';
}

/**
 * Every device by path (QEMU's /machine/peripheral and peripheral-anon
 * containers), and what device_add and device_del do, with QEMU 7.2's
 * order of checks and texts (softmmu/qdev-monitor.c, util/qemu-option.c).
 */
export class DeviceRegistry {
  readonly #devices = new Map<string, LinkDevice>();
  #anonymous = 0;

  constructor(private readonly chardevs: ChardevRegistry) {}

  /** Every device, in the order added. */
  list(): LinkDevice[] {
    return [...this.#devices.values()];
  }

  /** device_add and -device. */
  add({ id, properties }: DeviceRequest): LinkDevice {
    if (id !== undefined) {
      if (!isWellFormedId(id)) throw new DeviceError(ID_ERROR);
      if (this.#devices.has(peripheralPath(id))) throw new DeviceError(`Duplicate ID '${id}' for device`);
    }
    const driver = properties.get('driver');
    if (driver === undefined) throw new DeviceError("Parameter 'driver' is missing");
    if (driver !== 'link') throw new DeviceError(`'${driver}' is not a valid device model name`);
    // A link plugs into no bus, and chardevd has none to name.
    const bus = properties.get('bus');
    if (bus !== undefined) throw new DeviceError(`Bus '${bus}' not found`);
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
    const path = id !== undefined ? peripheralPath(id) : `/machine/peripheral-anon/device[${this.#anonymous++}]`;
    const device = new LinkDevice(id, path, chardev, peer);
    this.#devices.set(path, device);
    return device;
  }

  /** device_del: by id, or by path as QEMU also accepts. */
  remove(idOrPath: string): LinkDevice {
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

function peripheralPath(id: string): string {
  return `/machine/peripheral/${id}`;
}
