import { ChardevdError } from '../base/error.js';
import { appendOptions } from './qemu-opts.js';

/**
 * QEMU's legacy chardev syntax, which `-qmp` and `-monitor` take
 * (chardev/char.c qemu_chr_parse_compat): `stdio`, `pty`, `null`,
 * `file:PATH`, `pipe:PATH`, `tcp:HOST:PORT[,OPTIONS]` (also `telnet:`,
 * `tn3270:`, `websocket:`), `unix:PATH[,OPTIONS]`,
 * `udp:[HOST]:PORT[@[HOST]:PORT]`, `/dev/...`, `vc[:WxH]`, and `mon:`
 * before any of them for a mux. Each becomes the `-chardev` string that
 * means the same, so that the chardev is checked and created like any
 * other.
 */

/** A string QEMU's legacy parser refuses; `message` is what QEMU reports before "parse error: ...", when it reports anything. */
export class CompatChardevError extends ChardevdError {
  override readonly name = 'CompatChardevError';
  readonly code = 'COMPAT_CHARDEV_INVALID';

  constructor(readonly detail: string | undefined) {
    super(detail ?? 'parse error');
  }
}

/** Doubles the commas of a value, as -chardev strings escape them. */
const escape = (value: string): string => value.replaceAll(',', ',,');

/** Backends named by the whole string. */
const PLAIN_BACKENDS = new Set(['null', 'pty', 'msmouse', 'wctablet', 'braille', 'testdev', 'stdio']);

/**
 * QEMU's `sscanf(p, "%64[^:]:%32[^<stop>]%n")`, falling back to
 * `":%32[^<stop>]%n"` with an empty host: the host, the port and where
 * the rest starts, or undefined when neither matches.
 */
function hostPort(text: string, stop: string): { host: string; port: string; rest: string } | undefined {
  const withHost = new RegExp(`^([^:]{1,64}):([^${stop}]{1,32})`).exec(text);
  if (withHost !== null) return { host: withHost[1]!, port: withHost[2]!, rest: text.slice(withHost[0].length) };
  const portOnly = new RegExp(`^:([^${stop}]{1,32})`).exec(text);
  if (portOnly !== null) return { host: '', port: portOnly[1]!, rest: text.slice(portOnly[0].length) };
  return undefined;
}

/** The `-chardev` string for legacy `filename`, with id `label`; throws CompatChardevError as QEMU fails. */
export function compatChardevOption(label: string, filename: string): string {
  const id = `id=${escape(label)}`;
  let name = filename;
  const mux: string[] = [];
  if (name.startsWith('mon:')) {
    name = name.slice('mon:'.length);
    mux.push('mux=on');
    // Ctrl-C goes to the guest when the monitor shares stdio (what -nographic did).
    if (name === 'stdio') mux.push('signal=off');
  }
  const option = (backend: string, ...options: string[]): string => [backend, id, ...mux, ...options].join(',');

  if (PLAIN_BACKENDS.has(name)) return option(name);
  if (name.startsWith('vc')) {
    const size = name.slice(2);
    if (size === '') return option('vc');
    const pixels = /^:([0-9]{1,7})x([0-9]{1,7})/.exec(size);
    if (pixels !== null) return option('vc', `width=${pixels[1]}`, `height=${pixels[2]}`);
    const chars = /^:([0-9]{1,7})Cx([0-9]{1,7})C/.exec(size);
    if (chars !== null) return option('vc', `cols=${chars[1]}`, `rows=${chars[2]}`);
    throw new CompatChardevError(undefined);
  }
  if (name === 'con:') return option('console');
  if (name.startsWith('COM')) return option('serial', `path=${escape(name)}`);
  if (name.startsWith('file:')) return option('file', `path=${escape(name.slice('file:'.length))}`);
  if (name.startsWith('pipe:')) return option('pipe', `path=${escape(name.slice('pipe:'.length))}`);
  const network = /^(tcp|telnet|tn3270|websocket):/.exec(name);
  if (network !== null) {
    const address = hostPort(name.slice(network[0].length), ',');
    if (address === undefined) throw new CompatChardevError(undefined);
    let text = option('socket', `host=${escape(address.host)}`, `port=${escape(address.port)}`);
    // QEMU reads further options only right after the port, then sets the protocol's.
    if (address.rest.startsWith(',')) text = `${text},${address.rest.slice(1)}`;
    return network[1] === 'tcp' ? text : appendOptions(text, `${network[1]}=on`);
  }
  if (name.startsWith('udp:')) {
    const remote = hostPort(name.slice('udp:'.length), '@,');
    if (remote === undefined) throw new CompatChardevError(undefined);
    const options = [`host=${escape(remote.host)}`, `port=${escape(remote.port)}`];
    if (remote.rest.startsWith('@')) {
      const local = hostPort(remote.rest.slice(1), ',');
      if (local === undefined) throw new CompatChardevError(undefined);
      options.push(`localaddr=${escape(local.host)}`, `localport=${escape(local.port)}`);
    }
    return option('udp', ...options);
  }
  if (name.startsWith('unix:')) {
    const rest = name.slice('unix:'.length);
    if (rest === '') return option('socket');
    // The first option names itself when '=' comes before any comma; otherwise it is the path.
    const named = /^[^=,]*=/.test(rest);
    return option('socket', named ? rest : `path=${rest}`);
  }
  if (name.startsWith('/dev/parport') || name.startsWith('/dev/ppi')) return option('parallel', `path=${escape(name)}`);
  if (name.startsWith('/dev/')) return option('serial', `path=${escape(name)}`);
  throw new CompatChardevError(`'${filename}' is not a valid char driver`);
}
