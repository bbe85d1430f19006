import type { QmpListenAddress } from '../qmp/socket-listeners.js';
import { parseOnOff, parseQemuOpts, QemuOptsError, splitQemuOpts } from '../options/qemu-opts.js';

/** A listener's TLS, as a socket chardev spells it: `tls-creds=ID[,tls-authz=ID]`. */
export interface ListenerTls {
  /** The id of server-endpoint TLS credentials (object-add, -object). */
  readonly creds: string;
  /** The id of an authorization object asked about each client's certificate name. */
  readonly authz?: string | undefined;
}

/** A parsed `-qmp` argument. */
export interface QmpOption {
  readonly address: QmpListenAddress;
  /** Startup waits for the first client before going on (`wait=on`, QEMU's default for servers). */
  readonly wait: boolean;
  /** TLS on a TCP listener (`tls-creds=`, `tls-authz=`, as -chardev socket takes them). */
  readonly tls?: ListenerTls | undefined;
}

/** On/off options the listener understands; QEMU's other socket options do not apply to a QMP listener. */
const KNOWN_OPTIONS = new Set(['server', 'wait', 'ipv4', 'ipv6']);

/**
 * chardevd's own option, which QEMU has not: the permission bits of a unix
 * listener's socket file (QEMU's follow the umask; chardevd's are 0600
 * unless this says otherwise). Not `mode=`, which -mon uses for the
 * monitor's kind.
 */
const PERM_OPTION = 'perm';

/** Socket chardev options a TCP listener takes too, with the same meaning. */
const TLS_OPTIONS = new Set(['tls-creds', 'tls-authz']);

/**
 * Parses a listener in QEMU's `-qmp` syntax: `unix:PATH,server=on[,wait=off][,perm=MODE]`
 * or `tcp:[HOST]:PORT,server=on[,wait=off][,ipv4=on|ipv6=on][,tls-creds=ID[,tls-authz=ID]]`, with
 * QemuOpts escaping (a comma in PATH is written twice). Config files take
 * only these; the command line reads anything else in QEMU's legacy
 * chardev syntax (compat-chardev.ts).
 */
export function parseQmpOption(text: string, service = 'QMP'): QmpOption {
  const [target = '', ...rest] = splitQemuOpts(text);
  let server = false;
  let wait: boolean | undefined;
  let ipv6Only = false;
  let perm: number | undefined;
  const tls = new Map<string, string>();
  for (const opt of parseQemuOpts(rest)) {
    if (opt.key === PERM_OPTION) {
      perm = parsePerm(opt.value);
      continue;
    }
    if (TLS_OPTIONS.has(opt.key)) {
      tls.set(opt.key, opt.value ?? '');
      continue;
    }
    // Short forms: bare `server` is server=on, bare `nowait` is wait=off.
    // QEMU 7.2 reads -qmp with its legacy chardev parser (qemu_chr_parse_compat),
    // which takes them without the deprecation warning -chardev prints.
    const negated = opt.value === undefined && opt.key.startsWith('no') && KNOWN_OPTIONS.has(opt.key.slice(2));
    const key = negated ? opt.key.slice(2) : opt.key;
    if (!KNOWN_OPTIONS.has(key)) throw new QemuOptsError(`Invalid parameter '${opt.key}'`);
    const on = opt.value === undefined ? !negated : parseOnOff(key, opt.value);
    if (key === 'server') server = on;
    else if (key === 'wait') wait = on;
    else if (key === 'ipv6') ipv6Only = on;
  }
  if (!server && perm !== undefined) throw new QemuOptsError(`Parameter '${PERM_OPTION}' is for listeners (server=on) only`);
  if (!server) {
    throw new QemuOptsError(`a config file takes ${service} listeners (add server=on) or chardev:ID (a chardev of the file); the other forms are for the command line`);
  }
  const address = parseAddress(target, ipv6Only, service);
  const creds = tls.get('tls-creds');
  const authz = tls.get('tls-authz');
  // QEMU's texts for the same options on a socket chardev (qmp_chardev_validate_socket).
  if (creds !== undefined && address.type === 'unix') throw new QemuOptsError("'tls_creds' option is incompatible with 'unix' address type");
  if (authz !== undefined && creds === undefined) throw new QemuOptsError("'tls_authz' option requires 'tls_creds' option");
  if (creds !== undefined) return { address, wait: wait ?? true, tls: { creds, authz } };
  if (perm === undefined) return { address, wait: wait ?? true };
  if (address.type !== 'unix') throw new QemuOptsError(`Parameter '${PERM_OPTION}' is for unix: listeners only`);
  return { address: { ...address, perm }, wait: wait ?? true };
}

/** `perm=0660`: octal permission bits, at most 0777 (no setuid, setgid or sticky bit). */
function parsePerm(value: string | undefined): number {
  if (value === undefined || !/^[0-7]{1,4}$/.test(value) || Number.parseInt(value, 8) > 0o777) {
    throw new QemuOptsError(`Parameter '${PERM_OPTION}' expects octal permission bits from 0 to 0777, such as 0660`);
  }
  return Number.parseInt(value, 8);
}

/**
 * What chardevd serves as a listener of its own: `unix:` or `tcp:` with
 * server=on and no option but the listener's. Undefined for anything
 * else, which the command line reads in QEMU's legacy chardev syntax;
 * but a text with `perm=`, which that syntax lacks, is meant as a
 * listener, and its mistake throws QemuOptsError.
 */
export function listenerOption(text: string): QmpOption | undefined {
  try {
    return parseQmpOption(text);
  } catch (error: unknown) {
    if (!(error instanceof QemuOptsError)) throw error;
    const [, ...rest] = splitQemuOpts(text);
    if (parseQemuOpts(rest).some((opt) => opt.key === PERM_OPTION || TLS_OPTIONS.has(opt.key))) throw error;
    return undefined;
  }
}

function parseAddress(target: string, ipv6Only: boolean, service: string): QmpListenAddress {
  if (target.startsWith('unix:')) {
    const path = target.slice('unix:'.length);
    if (path === '') throw new QemuOptsError('unix socket path missing after unix:');
    return { type: 'unix', path };
  }
  if (target.startsWith('tcp:')) {
    const hostPort = target.slice('tcp:'.length);
    const match = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(hostPort);
    if (!match) throw new QemuOptsError(`error parsing address '${hostPort}'`);
    const port = Number(match[3]);
    if (port > 65535) throw new QemuOptsError(`error parsing port in address '${hostPort}'`);
    // An empty host listens on every address, as QEMU does.
    const host = match[1] ?? match[2] ?? '';
    return { type: 'inet', host: host === '' ? '::' : host, port, ipv6Only };
  }
  throw new QemuOptsError(`'${target.split(':')[0]}' is not a valid ${service} listener: use unix:PATH or tcp:HOST:PORT`);
}
