import type { Chardev, ChardevContext, MonitorDescriptors } from '../chardev/chardev.js';
import { ChardevRegistry } from '../chardev/registry.js';
import type { MuxChardev } from '../chardev/mux.js';
import type { DeviceRequest } from '../device/device-option.js';
import { type Device, DeviceRegistry } from '../device/registry.js';
import type { ChardevBackend } from '../generated/qapi-types.gen.js';

/**
 * The chardev registry of a daemon, which remembers the backend each
 * chardev was created with (a chardev keeps only what it needs to run)
 * and says when the set of chardevs may have changed: what query-config
 * lists and --config-save writes. Every way a chardev comes to be
 * (startup, chardev-add and chardev-change over QMP or the human
 * monitor, `mux=on`) goes through add, addMuxed or change.
 */
export class TrackedChardevRegistry extends ChardevRegistry {
  readonly #backends = new WeakMap<Chardev, ChardevBackend>();

  constructor(
    context: ChardevContext,
    private readonly changed: () => void,
  ) {
    super(context);
  }

  /** The backend `chardev` was created with; undefined for one this registry did not create. */
  backendOf(chardev: Chardev): ChardevBackend | undefined {
    return this.#backends.get(chardev);
  }

  override async add(id: string, backend: ChardevBackend, monitor?: MonitorDescriptors): Promise<Chardev> {
    const chardev = await super.add(id, backend, monitor);
    this.#backends.set(chardev, backend);
    this.changed();
    return chardev;
  }

  /** The backend goes to `ID-base`, and `ID` is the mux on it, as chardev-add would create the pair. */
  override async addMuxed(id: string, backend: ChardevBackend, monitor?: MonitorDescriptors): Promise<MuxChardev> {
    const mux = await super.addMuxed(id, backend, monitor);
    const base = this.get(`${id}-base`);
    if (base !== undefined) this.#backends.set(base, backend);
    this.#backends.set(mux, { type: 'mux', data: { chardev: `${id}-base` } });
    this.changed();
    return mux;
  }

  override async change(id: string, backend: ChardevBackend, monitor?: MonitorDescriptors): Promise<Chardev> {
    try {
      const chardev = await super.change(id, backend, monitor);
      this.#backends.set(chardev, backend);
      return chardev;
    } finally {
      // Without a frontend the old chardev goes before the new one is created, so a failure changes things too.
      this.changed();
    }
  }

  override async remove(id: string): Promise<void> {
    await super.remove(id);
    this.changed();
  }
}

/** The device registry of a daemon, which says when a device came or went. */
export class TrackedDeviceRegistry extends DeviceRegistry {
  constructor(
    chardevs: ChardevRegistry,
    private readonly changed: () => void,
  ) {
    super(chardevs);
  }

  override add(request: DeviceRequest): Device {
    const device = super.add(request);
    this.changed();
    return device;
  }

  override remove(idOrPath: string): Device {
    const device = super.remove(idOrPath);
    this.changed();
    return device;
  }
}
