import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { InetSocketAddress, SocketAddressLegacy, UnixSocketAddress } from '../generated/qapi-types.gen.js';
import { ChardevError, describeSystemError } from './chardev-error.js';
import { resolutionError, servicePort } from './getaddrinfo.js';

/** The longest Unix socket path (sizeof sun_path), as QEMU checks it. */
const UNIX_PATH_MAX = 108;

/** An address a socket chardev serves: the inet, unix and fd ones of SocketAddressLegacy. */
export type SocketChardevAddress =
  | { readonly type: 'inet'; readonly inet: InetSocketAddress }
  | { readonly type: 'unix'; readonly unix: UnixSocketAddress }
  | { readonly type: 'fd'; readonly str: string };

/** qemu_chr_socket_address: the address in QEMU's notation; `protocol` is tcp, telnet or websocket. */
export function socketAddressName(bound: SocketChardevAddress, protocol: string, isServer: boolean): string {
  const server = isServer ? ',server=on' : '';
  if (bound.type === 'inet') return `${protocol}:${bound.inet.host}:${bound.inet.port}${server}`;
  if (bound.type === 'fd') return `fd:${bound.str}${server}`;
  const unix = bound.unix;
  const abstract = unix.abstract === true ? `,abstract=on${unix.tight !== false ? ',tight=on' : ''}` : '';
  return `unix:${unix.path}${abstract}${server}`;
}

/** qemu_chr_compute_filename: local and peer address of a live connection on `socket`. */
export function connectionName(bound: SocketChardevAddress, protocol: string, isServer: boolean, socket: net.Socket): string {
  const server = isServer ? ',server=on' : '';
  // A client's own end of a Unix socket has no name, and an abstract name starts with NUL, so QEMU prints nothing for either.
  if (bound.type === 'unix') return `unix:${isServer && bound.unix.abstract !== true ? bound.unix.path : ''}${server}`;
  // A client on a passed descriptor: a unix socket's own end has no name, a TCP one has addresses.
  if (bound.type === 'fd' && socket.remoteAddress === undefined) return `unix:${server}`;
  const host = (h: string | undefined): string => (h?.includes(':') === true ? `[${h}]` : (h ?? ''));
  return `${protocol}:${host(socket.localAddress)}:${socket.localPort ?? ''}${server} <-> ${host(socket.remoteAddress)}:${socket.remotePort ?? ''}`;
}

/** The addresses chardevd can serve; vsock is refused with the reason. */
export function supportedAddress(addr: SocketAddressLegacy): SocketChardevAddress {
  switch (addr.type) {
    case 'inet':
      if (addr.data.mptcp === true) throw new ChardevError('multipath TCP is not supported');
      if (addr.data.ipv4 === false && addr.data.ipv6 === false) throw new ChardevError('Cannot disable IPv4 and IPv6 at same time');
      return { type: 'inet', inet: addr.data };
    case 'unix': {
      const max = addr.data.abstract === true ? UNIX_PATH_MAX - 1 : UNIX_PATH_MAX;
      if (Buffer.byteLength(addr.data.path) > max) throw new ChardevError(`UNIX socket path '${addr.data.path}' is too long`);
      if (addr.data.abstract === true && addr.data.tight !== false && !TIGHT_ABSTRACT_NAMES) {
        throw new ChardevError(
          `abstract Unix socket names with tight=on (the default) need Node.js with libuv 1.48 or newer; this one has libuv ${process.versions.uv}, which pads every abstract name (use tight=off for a padded name)`,
        );
      }
      return { type: 'unix', unix: addr.data };
    }
    case 'fd':
      // Taken when the chardev opens (socket-fd.ts).
      return { type: 'fd', str: addr.data.str };
    case 'vsock':
      throw new ChardevError('socket family AF_VSOCK unsupported');
  }
}

/**
 * The port of an inet address as getaddrinfo resolves it, where QEMU
 * resolves it: a server with AI_PASSIVE (io/dns-resolver.c, with NULL for
 * an empty host or port, and NULL for both fails), a client with the
 * strings as given (inet_parse_connect_saddr, where an empty host is no
 * name). The service is read first, as glibc reads it. Throws QEMU's text
 * where getaddrinfo fails.
 */
export function inetPort(inet: InetSocketAddress, passive: boolean): number {
  if (passive && inet.host === '' && inet.port === '') throw resolutionError(inet.host, inet.port, 'EAI_NONAME');
  const port = servicePort(inet.port, 'tcp');
  if (port === undefined) throw resolutionError(inet.host, inet.port, 'EAI_SERVICE');
  // Node would connect to localhost for an empty host.
  if (!passive && inet.host === '') throw resolutionError(inet.host, inet.port, 'EAI_NONAME');
  return port;
}

/** QEMU's text for a client that could not connect: a failed lookup of the host as getaddrinfo's failure, else connect's error. */
export function connectFailure(address: SocketChardevAddress, error: unknown): ChardevError {
  const { code, syscall } = error as NodeJS.ErrnoException;
  if (address.type === 'inet' && syscall === 'getaddrinfo' && code !== undefined) return resolutionError(address.inet.host, address.inet.port, code);
  const where = address.type === 'unix' ? address.unix.path : address.type === 'inet' ? `${address.inet.host}:${address.inet.port}` : address.str;
  return new ChardevError(`Failed to connect to '${where}': ${describeSystemError(error)}`);
}

/**
 * libuv reports a Unix bind into a missing directory as EACCES (for
 * Windows' sake); QEMU reports bind's own ENOENT.
 */
export function bindError(error: unknown, unix: UnixSocketAddress): unknown {
  if ((error as NodeJS.ErrnoException).code === 'EACCES' && unix.abstract !== true && !fs.existsSync(path.dirname(unix.path))) {
    return Object.assign(new Error('missing directory'), { code: 'ENOENT' });
  }
  return error;
}

/**
 * Whether Node binds and connects "\0NAME" as exactly that name (QEMU's
 * tight=on). libuv before 1.48 (Node 20 has 1.46) passes the whole
 * sockaddr_un as the length, so the kernel sees NAME padded with NULs to
 * 108 bytes instead: another name, which QEMU and socat do not reach
 * (libuv/libuv#4266, "linux: fix bind/connect for abstract sockets").
 */
const TIGHT_ABSTRACT_NAMES = ((): boolean => {
  const [major = 0, minor = 0] = (process.versions.uv ?? '0.0').split('.').map(Number);
  return major > 1 || (major === 1 && minor >= 48);
})();

/**
 * The name Node binds or connects. An abstract name starts with NUL; with
 * tight=off QEMU pads it with NULs to the whole of sun_path
 * (util/qemu-sockets.c uses sizeof(struct sockaddr_un) as the length),
 * which spelling the padding out reproduces on every libuv.
 */
export function unixPath(unix: UnixSocketAddress): string {
  if (unix.abstract !== true) return unix.path;
  const name = `\0${unix.path}`;
  return unix.tight === false ? name + '\0'.repeat(UNIX_PATH_MAX - Buffer.byteLength(name)) : name;
}

/** The address family a client connects with: the one of ipv4 and ipv6 that alone is on, else either. */
export function connectFamily(inet: InetSocketAddress): number | undefined {
  if (inet.ipv4 === true && inet.ipv6 !== true) return 4;
  if (inet.ipv6 === true && inet.ipv4 !== true) return 6;
  return undefined;
}

/**
 * Listens on `options`; resolves once listening, rejects with the bind
 * error. QEMU serves every address its host resolves to, and fails only
 * when none binds (with the first error): a TCP port in use on an IPv6
 * address is tried again IPv6 only (try_bind, for a port IPv4 already
 * holds), and the wildcard address, which QEMU resolves to 0.0.0.0 and
 * ::, is tried as IPv4 alone last.
 */
export async function listenOn(server: net.Server, options: ListenTarget, backlog: number): Promise<void> {
  try {
    await listenOnce(server, options, backlog);
  } catch (error: unknown) {
    const listens = (retry: ListenTarget): Promise<boolean> =>
      listenOnce(server, retry, backlog).then(
        () => true,
        () => false,
      );
    // A path or a passed descriptor has no other address to try.
    if (options.path === undefined && options.fd === undefined && options.ipv6Only !== true) {
      const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
      // Node honours ipv6Only only with a host given.
      if (inUse && (options.host === undefined || net.isIPv6(options.host)) && (await listens({ ...options, host: options.host ?? '::', ipv6Only: true }))) return;
      if (options.host === undefined && (await listens({ ...options, host: '0.0.0.0' }))) return;
    }
    throw error;
  }
}

/** Where to listen: an address, or a socket passed as a descriptor (which Node's listen takes as a handle). */
type ListenTarget = net.ListenOptions & { readonly fd?: number };

function listenOnce(server: net.Server, options: ListenTarget, backlog: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: Error): void => {
      server.off('listening', done);
      reject(error);
    };
    const done = (): void => {
      server.off('error', failed);
      resolve();
    };
    server.once('error', failed);
    server.once('listening', done);
    // QEMU listens with a backlog of 1; a server for N clients needs room for N connecting at once.
    server.listen({ ...options, backlog });
  });
}
