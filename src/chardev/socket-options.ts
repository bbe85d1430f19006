import type { ChardevSocket, InetSocketAddress, SocketAddressLegacy } from '../generated/qapi-types.gen.js';
import { ChardevError } from './chardev-error.js';
import { asInt64, asUint32, type ChardevOptionType, type ChardevOpts, parseCommon } from './chardev-opts.js';

/** The `-chardev` options a socket reads. `reconnect-ms` is QEMU 9.2's spelling; `clients` and `stall-timeout` are chardevd's. */
export const SOCKET_OPTIONS: Readonly<Record<string, ChardevOptionType>> = {
  path: 'str',
  host: 'str',
  port: 'str',
  fd: 'str',
  to: 'num',
  ipv4: 'bool',
  ipv6: 'bool',
  wait: 'bool',
  server: 'bool',
  delay: 'bool',
  nodelay: 'bool',
  reconnect: 'num',
  telnet: 'bool',
  tn3270: 'bool',
  'tls-creds': 'str',
  'tls-authz': 'str',
  websocket: 'bool',
  // Linux only in QEMU; `tight` defaults to on.
  tight: 'bool',
  abstract: 'bool',
  'reconnect-ms': 'num',
  clients: 'num',
  'stall-timeout': 'num',
};

/**
 * The hint after QEMU's text for a `-chardev socket` without an address,
 * which QEMU takes for an empty fd= (`Unable to parse FD number `).
 */
export const NO_ADDRESS_HINT = 'A socket needs an address: path= (Unix), host= and port= (TCP), or fd= (an open socket)';

/**
 * char-socket.c qemu_chr_parse_socket. From the command line `server` is
 * always explicit (false by default, where QMP's default is true), and
 * `wait` is explicit whenever given or when serving (true by default).
 */
export function parseSocket(opts: ChardevOpts): ChardevSocket {
  const path = opts.get('path');
  const host = opts.get('host');
  const port = opts.get('port');
  const fd = opts.get('fd');
  if ([path, fd, host].filter((given) => given !== undefined).length > 1) {
    throw opts.fail("None or one of 'path', 'fd' or 'host' option required.");
  }
  if (host !== undefined && port === undefined) throw opts.fail('chardev: socket: no port given');
  const common = parseCommon(opts);
  if (opts.has('delay') && opts.has('nodelay')) {
    throw opts.fail("'delay' and 'nodelay' are mutually exclusive");
  }

  let addr: SocketAddressLegacy;
  if (path !== undefined) {
    // CONFIG_LINUX: abstract and tight are always set.
    addr = { type: 'unix', data: { path, abstract: opts.getBool('abstract', false), tight: opts.getBool('tight', true) } };
  } else if (host !== undefined && port !== undefined) {
    const inet: InetSocketAddress = { host, port };
    // InetSocketAddress.to is a uint16: QEMU keeps the number's low 16 bits.
    if (opts.has('to')) inet.to = Number(BigInt.asUintN(16, opts.getUint('to', 0n)));
    if (opts.has('ipv4')) inet.ipv4 = opts.getBool('ipv4', false);
    if (opts.has('ipv6')) inet.ipv6 = opts.getBool('ipv6', false);
    addr = { type: 'inet', data: inet };
  } else {
    // Neither path nor host: an fd address, whose string QEMU leaves NULL
    // when fd= is absent too. "" is the QAPI value that fails the same way
    // ("Unable to parse FD number " with nothing after it).
    addr = { type: 'fd', data: { str: fd ?? '' } };
  }

  const data: ChardevSocket = { ...common, addr };
  const tlsCreds = opts.get('tls-creds');
  if (tlsCreds !== undefined) data['tls-creds'] = tlsCreds;
  const tlsAuthz = opts.get('tls-authz');
  if (tlsAuthz !== undefined) data['tls-authz'] = tlsAuthz;
  data.server = opts.getBool('server', false);
  if (opts.has('wait') || data.server) data.wait = opts.getBool('wait', true);
  if (opts.has('delay') || opts.has('nodelay')) {
    data.nodelay = !opts.getBool('delay', true) || opts.getBool('nodelay', false);
  }
  for (const member of ['telnet', 'tn3270', 'websocket'] as const) {
    if (opts.has(member)) data[member] = opts.getBool(member, false);
  }
  if (opts.has('reconnect')) data.reconnect = asInt64(opts.getUint('reconnect', 0n));
  if (opts.has('reconnect-ms')) data['reconnect-ms'] = asInt64(opts.getUint('reconnect-ms', 0n));
  if (opts.has('clients')) data.clients = asUint32('clients', opts.getUint('clients', 0n), opts);
  if (opts.has('stall-timeout')) data['stall-timeout'] = asUint32('stall-timeout', opts.getUint('stall-timeout', 0n), opts);
  return data;
}

/**
 * The checks of QEMU's qmp_chardev_open_socket and
 * qmp_chardev_validate_socket, in their order and with their texts; the
 * TLS credentials are looked up before (SocketChardev).
 */
export function validateSocket(options: ChardevSocket, isServer: boolean): void {
  const hasReconnect = options.reconnect !== undefined || options['reconnect-ms'] !== undefined;
  if (options.addr.type === 'fd' && hasReconnect) throw new ChardevError("'reconnect' option is incompatible with 'fd' address type");
  if (options.addr.type === 'unix' && options['tls-creds'] !== undefined) throw new ChardevError("'tls_creds' option is incompatible with 'unix' address type");
  if (options['tls-authz'] !== undefined && options['tls-creds'] === undefined) throw new ChardevError("'tls_authz' option requires 'tls_creds' option");
  if (options.reconnect !== undefined && options['reconnect-ms'] !== undefined) {
    throw new ChardevError("'reconnect' and 'reconnect-ms' are mutually exclusive");
  }
  if (isServer) {
    if (hasReconnect) throw new ChardevError("'reconnect' option is incompatible with socket in server listen mode");
  } else {
    if (options.websocket === true) throw new ChardevError('Websocket client is not implemented');
    // QEMU 7.2 refuses `wait` on a client whatever its value (qmp_chardev_validate_socket checks has_wait).
    if (options.wait !== undefined) throw new ChardevError("'wait' option is incompatible with socket in client connect mode");
  }
}
