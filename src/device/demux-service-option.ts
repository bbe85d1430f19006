import type { DemuxService } from '../generated/qapi-types.gen.js';
import { QemuOptsError, splitQemuOpts } from '../options/qemu-opts.js';

/**
 * `-demux-service DEVICE,name=NAME[,port=N],connect=ADDR|listen=ADDR|chardev=ID`:
 * demux-service-add's arguments in option syntax (a comma in a value is
 * written twice, as in every QEMU option). The device may also be given
 * as `device=DEVICE`. Checked further when the service is added.
 */
export function parseDemuxServiceOption(text: string): DemuxService {
  const values = new Map<string, string>();
  splitQemuOpts(text).forEach((part, index) => {
    const eq = part.indexOf('=');
    if (eq < 0 && index === 0) {
      values.set('device', part);
      return;
    }
    if (eq < 0) throw new QemuOptsError(`Invalid parameter '${part}'`);
    const key = part.slice(0, eq);
    if (!['device', 'name', 'port', 'connect', 'listen', 'chardev'].includes(key)) throw new QemuOptsError(`Invalid parameter '${key}'`);
    values.set(key, part.slice(eq + 1));
  });
  const device = values.get('device');
  const name = values.get('name');
  if (device === undefined) throw new QemuOptsError("Parameter 'device' is missing");
  if (name === undefined) throw new QemuOptsError("Parameter 'name' is missing");
  const portText = values.get('port');
  let port: number | undefined;
  if (portText !== undefined) {
    port = /^\d{1,10}$/.test(portText) ? Number(portText) : NaN;
    if (!(port <= 0xffffffff)) throw new QemuOptsError(`Parameter 'port' expects a number from 0 to 4294967295`);
  }
  const optional = (key: 'connect' | 'listen' | 'chardev'): Partial<Record<typeof key, string>> => {
    const value = values.get(key);
    return value === undefined ? {} : { [key]: value };
  };
  return { device, name, ...(port !== undefined ? { port } : {}), ...optional('connect'), ...optional('listen'), ...optional('chardev') };
}
