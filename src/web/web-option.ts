import { ChardevdError } from '../base/error.js';
import type { QmpListenAddress } from '../qmp/socket-listeners.js';

/** The web server as configured (`-web`, the config file's `web` key). */
export interface WebConfig {
  readonly listen: QmpListenAddress;
  /** The listen address as given, for messages. */
  readonly text: string;
  /** A token that lets a viewer write; without one, only tokens made by web-token-add do. */
  readonly token?: string | undefined;
  /** Origins (`https://console.example.com`) whose pages may open viewers besides the page's own; their hosts are accepted as Host. */
  readonly origins: readonly string[];
  /** A unix socket file's permission bits as given (`0660`), when given. */
  readonly perm?: string | undefined;
}

/** A `-web` value or `web` key the daemon cannot use. */
export class WebOptionError extends ChardevdError {
  override readonly name = 'WebOptionError';
  readonly code = 'WEB_OPTION_INVALID';
}

/** Characters a token may have: it travels in a WebSocket subprotocol name, an HTTP token. */
const TOKEN_SYNTAX = /^[A-Za-z0-9._~-]{16,256}$/;

/**
 * `-web ADDRESS[,token=TOKEN][,origin=ORIGIN]...[,perm=MODE]`: ADDRESS is
 * `unix:PATH`, a path (containing `/`), `HOST:PORT`, `[IPV6]:PORT` or
 * `:PORT` (loopback, 127.0.0.1).
 */
export function parseWebOption(text: string): WebConfig {
  const [address = '', ...rest] = text.split(',');
  let token: string | undefined;
  let perm: string | undefined;
  const origins: string[] = [];
  for (const item of rest) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? '' : item.slice(eq + 1);
    if (key === 'token') token = value;
    else if (key === 'origin') origins.push(value);
    else if (key === 'perm') perm = value;
    else throw new WebOptionError(`Invalid parameter '${key}' (the parameters are token, origin and perm)`);
  }
  return webConfig({ listen: address, token, origins, perm });
}

/** The config file's `web: { listen, token, origins }`, checked as -web's parts are. */
export function webConfig(parts: { listen: string; token?: string | undefined; origins?: readonly string[] | undefined; perm?: string | undefined }): WebConfig {
  if (parts.token !== undefined && !TOKEN_SYNTAX.test(parts.token)) {
    throw new WebOptionError('token must be 16 to 256 letters, digits or the characters . _ ~ -');
  }
  const origins = (parts.origins ?? []).map(checkOrigin);
  const listen = webListenAddress(parts.listen);
  if (parts.perm === undefined) return { listen, text: parts.listen, token: parts.token, origins };
  // As -qmp's perm= (qmp-option.ts): the socket file's bits, 0600 when not given.
  if (!/^[0-7]{1,4}$/.test(parts.perm) || Number.parseInt(parts.perm, 8) > 0o777) {
    throw new WebOptionError("Parameter 'perm' expects octal permission bits from 0 to 0777, such as 0660");
  }
  if (listen.type !== 'unix') throw new WebOptionError("Parameter 'perm' is for a unix socket only");
  return { listen: { ...listen, perm: Number.parseInt(parts.perm, 8) }, text: parts.listen, token: parts.token, origins, perm: parts.perm };
}

function webListenAddress(text: string): QmpListenAddress {
  if (text.startsWith('unix:')) return unixAddress(text.slice('unix:'.length));
  if (text.includes('/')) return unixAddress(text);
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (match === null || port > 65535) throw new WebOptionError(`'${text}' is no web address: give HOST:PORT, :PORT (127.0.0.1) or unix:PATH`);
  const host = match[1] ?? match[2] ?? '';
  return { type: 'inet', host: host === '' ? '127.0.0.1' : host, port };
}

function unixAddress(path: string): QmpListenAddress {
  if (path === '') throw new WebOptionError('unix: needs a path');
  return { type: 'unix', path };
}

/** An origin as browsers send it: scheme, host and port only. */
function checkOrigin(origin: string): string {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new WebOptionError(`'${origin}' is no origin (such as https://console.example.com)`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== origin) {
    throw new WebOptionError(`'${origin}' is no origin (such as https://console.example.com): scheme, host and port only`);
  }
  return origin;
}
