import type { Chardev } from '../chardev/chardev.js';
import { HubChardev } from '../chardev/hub.js';
import { LinkDevice } from '../device/link.js';
import type { DeviceRegistry } from '../device/registry.js';
import type { ChardevdConfig, ConfigChardev, ConfigDevice, ConfigWeb } from '../generated/qapi-types.gen.js';
import type { ObjectRegistry } from '../objects/object-registry.js';
import type { WebConfig } from '../web/web-option.js';
import type { MonitorConfig } from './monitor-option.js';
import type { QmpOption } from './qmp-option.js';
import type { TrackedChardevRegistry } from './tracked-registries.js';

/** A QMP listener as the daemon was given it: `text` is its `-qmp` value, when it came as one. */
export interface ListenerSource {
  readonly option: QmpOption;
  readonly text?: string | undefined;
}

/** What the running configuration is read from. */
export interface RunningConfigSources {
  readonly chardevs: TrackedChardevRegistry;
  readonly devices: DeviceRegistry;
  readonly objects: ObjectRegistry;
  readonly qmp: readonly ListenerSource[];
  readonly monitors: readonly MonitorConfig[];
  readonly web?: WebConfig | undefined;
}

/**
 * The daemon's configuration now, as a config file holds it
 * (query-config): objects, listeners as given, chardevs with the backends they
 * were created with, hubs with the members they have now, devices.
 */
export function runningConfig({ chardevs, devices, objects, qmp, monitors, web }: RunningConfigSources): ChardevdConfig {
  const hmp: string[] = [];
  const qmpMonitors: string[] = [];
  for (const { target } of monitors) {
    if (target.type === 'listener') hmp.push(target.text ?? listenerText(target.option));
    else if (target.mode === 'control') qmpMonitors.push(`chardev:${target.id}`);
    else hmp.push(`chardev:${target.id}`);
  }
  const demuxServices = devices.demuxes().flatMap((device) => device.services().map(({ spec }) => spec));
  return {
    objects: objects.options(),
    qmp: [...qmp.map(({ option, text }) => text ?? listenerText(option)), ...qmpMonitors],
    hmp,
    chardevs: configChardevs(chardevs),
    devices: devices.list().map(
      (device): ConfigDevice =>
        device instanceof LinkDevice
          ? { driver: 'link', ...(device.id !== undefined ? { id: device.id } : {}), chardev: device.chardev.id, peer: device.peer.id }
          : {
              driver: 'demux',
              ...(device.id !== undefined ? { id: device.id } : {}),
              chardev: device.chardev.id,
              ...(device.vsock !== undefined ? { vsock: device.vsock } : {}),
              ...(device.maxChannels !== undefined ? { 'max-channels': device.maxChannels } : {}),
            },
    ),
    ...(demuxServices.length > 0 ? { 'demux-services': demuxServices } : {}),
    ...(web === undefined ? {} : { web: configWeb(web) }),
  };
}

function configWeb({ text, token, origins, perm }: WebConfig): ConfigWeb {
  return {
    listen: text,
    ...(token === undefined ? {} : { token }),
    ...(origins.length === 0 ? {} : { origins: [...origins] }),
    ...(perm === undefined ? {} : { perm }),
  };
}

/**
 * Every chardev in creation order, except that each comes after the
 * chardevs it needs, which must exist when it is created: a hub's
 * members (one added with hub-add-member may be younger than its hub)
 * and a mux's base.
 */
function configChardevs(registry: TrackedChardevRegistry): ConfigChardev[] {
  const items = new Map<string, { readonly item: ConfigChardev; readonly needs: readonly string[] }>();
  for (const chardev of registry.list()) items.set(chardev.id, configChardev(registry, chardev));
  const listed: ConfigChardev[] = [];
  const seen = new Set<string>();
  const visit = (id: string): void => {
    const entry = items.get(id);
    // Marked before its needs are visited: a hub's members are never hubs or muxes, but no list may loop.
    if (entry === undefined || seen.has(id)) return;
    seen.add(id);
    for (const need of entry.needs) visit(need);
    listed.push(entry.item);
  };
  for (const id of items.keys()) visit(id);
  return listed;
}

function configChardev(registry: TrackedChardevRegistry, chardev: Chardev): { item: ConfigChardev; needs: readonly string[] } {
  const backend = registry.backendOf(chardev);
  // Every chardev of the registry came through add, addMuxed or change, which record it.
  if (backend === undefined) throw new Error(`chardev '${chardev.id}' has no recorded backend`);
  if (chardev instanceof HubChardev && backend.type === 'hub') {
    // Members the registry holds; a console session joins a hub with a chardev of its own, which no file can create.
    const members = chardev.members.filter((member) => registry.get(member.id) === member).map((member) => member.id);
    return { item: { id: chardev.id, backend: { type: 'hub', data: { ...backend.data, chardevs: members } } }, needs: members };
  }
  return { item: { id: chardev.id, backend }, needs: backend.type === 'mux' ? [backend.data.chardev] : [] };
}

/**
 * A listener in `-qmp` syntax, for one given without its text (a library
 * caller's DaemonOptions): a comma in a path is written twice.
 */
export function listenerText({ address, wait, tls }: QmpOption): string {
  const where =
    address.type === 'unix'
      ? `unix:${address.path.replaceAll(',', ',,')}`
      : `tcp:${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}${address.ipv6Only ? ',ipv6=on' : ''}`;
  const secure = tls === undefined ? '' : `,tls-creds=${tls.creds}${tls.authz === undefined ? '' : `,tls-authz=${tls.authz}`}`;
  return `${where},server=on${wait ? '' : ',wait=off'}${secure}`;
}
