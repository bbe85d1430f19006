import { ChardevdError } from '../base/error.js';
import { JsonDouble } from '../qobject/json-double.js';
import { formatDouble } from '../qobject/json-writer.js';
import { qdictOrder } from '../qobject/qdict-order.js';
import { ID_ERROR, ID_HINT, isWellFormedId, QemuOptsError, splitQemuOpts } from '../options/qemu-opts.js';

/** Properties of a device as QEMU's option parser leaves them: strings by name, in the order given. */
export type DeviceProperties = ReadonlyMap<string, string>;

/** A device as the daemon creates it, whatever it was written as. */
export interface DeviceRequest {
  readonly id: string | undefined;
  /** Every other option, the driver included, in the order QEMU would set them. */
  readonly properties: DeviceProperties;
}

/** A device the daemon creates at startup, after its chardevs (QEMU creates -device after -chardev). */
export interface StartupDevice extends DeviceRequest {
  /** What messages start with: `-device TEXT`, or `FILE:LINE: devices[N]`. */
  readonly origin: string;
}

/** A startup device that could not be created: its origin, then QEMU's text. */
export class StartupDeviceError extends ChardevdError {
  override readonly name = 'StartupDeviceError';
  readonly code = 'DEVICE_STARTUP_FAILED';
}

/**
 * `-device TEXT` as QEMU reads it (util/qemu-option.c with `driver` as
 * the implied first option): `link,id=l0,chardev=a,peer=b`. A bare word
 * after the first is a boolean set to on. The id's syntax is checked
 * here, as QEMU checks it while reading the command line.
 */
export function parseDeviceOption(text: string): DeviceRequest {
  let id: string | undefined;
  const properties = new Map<string, string>();
  splitQemuOpts(text).forEach((part, index) => {
    const eq = part.indexOf('=');
    if (eq < 0 && index === 0) {
      properties.set('driver', part);
      return;
    }
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? 'on' : part.slice(eq + 1);
    if (key === 'id') id = value;
    else properties.set(key, value);
  });
  if (id !== undefined && !isWellFormedId(id)) throw new QemuOptsError(`${ID_ERROR}\n${ID_HINT}`);
  return { id, properties };
}

/**
 * device_add's arguments as QEMU turns them into -device options
 * (qemu_opts_from_qdict): the id only when it is a string, the rest in
 * QDict order, numbers and booleans written as text, other values skipped.
 */
export function deviceRequestFromArguments(args: { readonly [member: string]: unknown }): DeviceRequest {
  const id = typeof args['id'] === 'string' ? args['id'] : undefined;
  const properties = new Map<string, string>();
  for (const key of qdictOrder(Object.keys(args))) {
    if (key === 'id') continue;
    const value = optionText(args[key]);
    if (value !== undefined) properties.set(key, value);
  }
  return { id, properties };
}

/** `-device help`, in QEMU's layout (a heading, then one line per model). */
export function deviceModelsHelp(): string {
  return `Chardev devices:\nname "demux", desc "many named channels over one chardev"\nname "link", desc "two chardevs back to back, bytes both ways"\n`;
}

/** `-device link,help`: the link's properties in QEMU's layout. */
export function linkPropertiesHelp(): string {
  return ['link options:', '  chardev=<str>          - ID of the first chardev', '  peer=<str>             - ID of the second chardev', ''].join('\n');
}

/** `-device demux,help`. */
export function demuxPropertiesHelp(): string {
  return [
    'demux options:',
    '  chardev=<str>          - ID of the chardev the protocol runs over',
    "  vsock=<str>            - path of a hybrid vsock socket (Firecracker's CONNECT <port>)",
    '  max-channels=<uint32>  - channels open at once (default 1024)',
    '',
  ].join('\n');
}

/** A value as qemu_opts_from_qdict_entry writes it, or undefined for one it skips. */
function optionText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? String(value) : formatDouble(value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof JsonDouble) return formatDouble(value.value);
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  return undefined;
}
