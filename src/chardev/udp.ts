import type * as dgram from 'node:dgram';
import * as net from 'node:net';
import type { ChardevUdp, InetSocketAddress, SocketAddressLegacy } from '../generated/qapi-types.gen.js';
import type { ChardevBackendDefinition } from './backend-definition.js';
import { Chardev, type ChardevContext } from './chardev.js';
import { ChardevError, describeSystemError } from './chardev-error.js';
import { type ChardevOpts, parseCommon } from './chardev-opts.js';
import { resolutionError, servicePort } from './getaddrinfo.js';
import { OUTPUT_QUEUE_LIMIT } from './stream-io.js';

/**
 * The most of one datagram that reaches the frontend. QEMU receives into
 * a buffer of CHR_READ_BUF_LEN (4096) bytes, so the kernel discards the
 * rest of a longer datagram; chardevd cuts it at the same length.
 */
export const UDP_READ_BUF_LEN = 4096;

/**
 * Received bytes held while the frontend has no room. QEMU stops reading
 * and leaves datagrams in the kernel's receive buffer, which drops new
 * ones when full. Node's dgram sockets cannot stop reading (there is no
 * pause for them), so chardevd holds datagrams itself, up to this many
 * bytes, about a Linux default receive buffer (rmem_default is 208 KiB)
 * of full 4096-byte datagrams, and drops and counts whole datagrams
 * beyond it, as the kernel would.
 */
export const UDP_INPUT_QUEUE_LIMIT = 64 * UDP_READ_BUF_LEN;

/**
 * The largest datagram chardevd sends: the UDP payload limit over IPv4
 * (65535 less the IPv4 and UDP headers). QEMU hands each frontend write
 * to a single send(), which fails with EMSGSIZE above the limit and loses
 * the bytes; a chardev is a byte stream to its frontend, so chardevd
 * splits a longer write into several datagrams instead. IPv6 could carry
 * 20 bytes more; one limit for both keeps the split the same everywhere.
 */
export const UDP_MAX_DATAGRAM = 65507;

/**
 * Bytes handed to the kernel but not yet sent above which `write()`
 * returns false, so that a frontend waits for `drain()` (what the
 * socket's send buffer filling up is to QEMU, EAGAIN).
 */
const SEND_HIGH_WATER = 64 * 1024;

type Family = 4 | 6;

/** One resolved end of the socket. */
interface Endpoint {
  readonly address: string;
  readonly family: Family;
  readonly port: number;
}

/** A lookup that failed with the code glibc's getaddrinfo would give. */
class LookupError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

/**
 * A datagram socket (chardev/char-udp.c): bound to `local` (by default
 * any address and a free port), connected to `remote`; every frontend
 * write is sent as a datagram and every datagram received from `remote`
 * is input. Only inet addresses work, as in QEMU.
 *
 * The chardev never reports `opened`: QEMU opens udp with be_opened
 * false, waiting for a connection that a datagram socket never gets, and
 * nothing in char-udp.c sends CHR_EVENT_OPENED later, so a frontend
 * waiting for it waits forever there too. chardevd keeps that, so frontends see what they see
 * with QEMU.
 */
export class UdpChardev extends Chardev {
  readonly kind = 'udp';
  #socket: dgram.Socket | undefined;
  /** Datagrams (already cut to UDP_READ_BUF_LEN) waiting for the frontend to have room. */
  readonly #queue: Buffer[] = [];
  #queuedBytes = 0;
  #flushing = false;
  /** Bytes given to the socket whose send has not completed. */
  #sending = 0;
  #wantDrain = false;
  #sendFailing = false;
  #receiveFailing = false;
  #droppedDatagrams = 0;
  #truncatedBytes = 0;
  #droppedOutput = 0;

  constructor(
    id: string,
    private readonly options: ChardevUdp,
    private readonly context: ChardevContext,
  ) {
    super(id);
  }

  get filename(): string {
    return 'udp';
  }

  /** Where the socket is bound (the real port when `local` asked for port 0), once open. */
  get localAddress(): net.AddressInfo | undefined {
    return this.#socket?.address();
  }

  /** Datagrams dropped because UDP_INPUT_QUEUE_LIMIT bytes were already waiting for the frontend. */
  get droppedDatagrams(): number {
    return this.#droppedDatagrams;
  }

  /** Bytes cut from datagrams longer than UDP_READ_BUF_LEN. */
  get truncatedBytes(): number {
    return this.#truncatedBytes;
  }

  /** Datagrams received and waiting for the frontend to have room. */
  get queuedDatagrams(): number {
    return this.#queue.length;
  }

  /** Bytes the frontend wrote that were not sent: over OUTPUT_QUEUE_LIMIT in flight, or refused by the kernel. */
  get droppedOutput(): number {
    return this.#droppedOutput;
  }

  /**
   * Creates the socket as util/qemu-sockets.c inet_dgram_saddr does, with
   * its checks and error texts in its order: the address type, the
   * family options, the remote port, the remote lookup, the local
   * lookup, bind, connect.
   */
  async open(): Promise<void> {
    const remote = inetOnly(this.options.remote);
    // QEMU reads `local` as an inet address without looking at its type;
    // chardevd refuses other types with the text QEMU uses for the remote.
    const local = this.options.local === undefined ? undefined : inetOnly(this.options.local);
    const wanted = aiFamily(remote);
    const remoteHost = remote.host === '' ? 'localhost' : remote.host;
    if (remote.port === '') throw new ChardevError('remote port not specified');
    let peer: Endpoint;
    try {
      peer = await resolve(remoteHost, remote.port, wanted, false);
    } catch (error: unknown) {
      throw lookupFailure(error, remoteHost, remote.port);
    }
    // The local address takes the remote's family; its own ipv4/ipv6
    // options are not consulted (QEMU's -chardev udp never sets them).
    // A missing host is printed as glibc prints a NULL string.
    const localHost = local === undefined || local.host === '' ? undefined : local.host;
    const localPort = local === undefined || local.port === '' ? '0' : local.port;
    let bindTo: Endpoint;
    try {
      bindTo = await resolve(localHost, localPort, peer.family, true);
    } catch (error: unknown) {
      throw lookupFailure(error, localHost ?? '(null)', localPort);
    }
    // QEMU sets SO_REUSEADDR (socket_set_fast_reuse), so two udp chardevs
    // may bind the same local port; only a socket bound without it blocks.
    const socket = process.getBuiltinModule('node:dgram').createSocket({ type: peer.family === 6 ? 'udp6' : 'udp4', reuseAddr: true });
    try {
      await bind(socket, bindTo);
    } catch (error: unknown) {
      socket.close();
      if ((error as NodeJS.ErrnoException).code === 'EAFNOSUPPORT') {
        throw new ChardevError(`Failed to create socket family ${peer.family === 6 ? 10 : 2}: ${describeSystemError(error)}`);
      }
      throw new ChardevError(`Failed to bind socket: ${describeSystemError(error)}`);
    }
    try {
      await connect(socket, peer);
    } catch (error: unknown) {
      socket.close();
      // QEMU 7.2 formats this message after the local lookup has reused
      // its host and port variables, so it names the local address (with
      // the defaults, '(null):0'), not the remote one. chardevd gives the
      // same text so that clients matching QEMU's messages keep working.
      throw new ChardevError(`Failed to connect to '${localHost ?? '(null)'}:${localPort}': ${describeSystemError(error)}`);
    }
    socket.on('message', (message: Buffer) => this.#received(message));
    socket.on('error', (error: Error) => this.#receiveFailed(error));
    this.#socket = socket;
  }

  #received(message: Buffer): void {
    this.#receiveFailing = false;
    if (this.closed || message.length === 0) return;
    let data = message;
    if (data.length > UDP_READ_BUF_LEN) {
      this.#truncatedBytes += data.length - UDP_READ_BUF_LEN;
      data = data.subarray(0, UDP_READ_BUF_LEN);
    }
    if (this.#queuedBytes + data.length > UDP_INPUT_QUEUE_LIMIT) {
      this.#droppedDatagrams++;
      return;
    }
    this.#queue.push(data);
    this.#queuedBytes += data.length;
    this.#flush();
  }

  /**
   * Hands queued datagrams to the base class while the frontend takes
   * input. When one does not fit, the base class holds its rest and
   * pauses input (QEMU's buf/bufptr in udp_chr_flush_buffer); the next
   * datagram waits here until resumeInput, as in QEMU it waits in the
   * kernel until udp_chr_read_poll sees room.
   */
  #flush(): void {
    // resumeInput is called from inside receive(); the outer loop goes on.
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      while (!this.inputPaused && !this.closed) {
        const next = this.#queue.shift();
        if (next === undefined) break;
        this.#queuedBytes -= next.length;
        this.receive(next);
      }
    } finally {
      this.#flushing = false;
    }
  }

  /**
   * A receive error, typically ECONNREFUSED after an earlier datagram met
   * a closed port (ICMP port unreachable on a connected socket). QEMU
   * stops reading for good on any read error; chardevd keeps reading, as
   * the peer may come back, and logs once until a datagram arrives again.
   */
  #receiveFailed(error: Error): void {
    if (this.closed || this.#receiveFailing) return;
    this.#receiveFailing = true;
    this.context.log(`chardev '${this.id}': receive failed: ${describeSystemError(error)}`);
  }

  protected override resumeInput(): void {
    this.#flush();
  }

  protected writeToBackend(data: Buffer): boolean {
    const socket = this.#socket;
    if (socket === undefined) {
      this.#droppedOutput += data.length;
      return true;
    }
    // Only while sends are in flight, so that a completion will call
    // drained() for the frontend told to wait.
    if (this.#sending > 0 && this.#sending + data.length > OUTPUT_QUEUE_LIMIT) {
      this.#droppedOutput += data.length;
      this.#wantDrain = true;
      return false;
    }
    for (let offset = 0; offset < data.length; offset += UDP_MAX_DATAGRAM) {
      const datagram = data.subarray(offset, offset + UDP_MAX_DATAGRAM);
      this.#sending += datagram.length;
      socket.send(datagram, (error) => this.#sent(datagram.length, error));
    }
    if (this.#sending <= SEND_HIGH_WATER) return true;
    this.#wantDrain = true;
    return false;
  }

  #sent(length: number, error: Error | null): void {
    this.#sending -= length;
    if (this.closed) return;
    if (error !== null) {
      // The datagram is lost, as QEMU loses a write that send() refused.
      this.#droppedOutput += length;
      if (!this.#sendFailing) this.context.log(`chardev '${this.id}': send failed: ${describeSystemError(error)}`);
      this.#sendFailing = true;
    } else {
      this.#sendFailing = false;
    }
    if (this.#wantDrain && this.#sending <= SEND_HIGH_WATER) {
      this.#wantDrain = false;
      this.drained();
    }
  }

  protected async closeBackend(): Promise<void> {
    this.#queue.length = 0;
    this.#queuedBytes = 0;
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket === undefined) return;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}

/** The inet address of a SocketAddressLegacy; QEMU's socket_dgram takes no other type. */
function inetOnly(addr: SocketAddressLegacy): InetSocketAddress {
  if (addr.type !== 'inet') throw new ChardevError('socket type unsupported for datagram');
  return addr.data;
}

/** The family the ipv4/ipv6 options ask for (inet_ai_family_from_address); undefined for either. */
function aiFamily(inet: InetSocketAddress): Family | undefined {
  const { ipv4, ipv6 } = inet;
  if (ipv4 === false && ipv6 === false) throw new ChardevError('Cannot disable IPv4 and IPv6 at same time');
  if (ipv4 === true && ipv6 === true) return inet.host === '' ? 6 : undefined;
  if (ipv6 === true || ipv4 === false) return 6;
  if (ipv4 === true || ipv6 === false) return 4;
  return undefined;
}

/**
 * getaddrinfo for SOCK_DGRAM as inet_dgram_saddr calls it: the remote
 * with AI_V4MAPPED | AI_ADDRCONFIG, the local address with AI_PASSIVE
 * (no host: the wildcard address). The first result is used.
 */
async function resolve(host: string | undefined, service: string, family: Family | undefined, passive: boolean): Promise<Endpoint> {
  const port = servicePort(service, 'udp');
  if (port === undefined) throw new LookupError('EAI_SERVICE');
  if (host === undefined) return { address: family === 6 ? '::' : '0.0.0.0', family: family ?? 4, port };
  // Node's lookup returns a numeric address whatever family was asked
  // for; getaddrinfo maps IPv4 into IPv6 only for AI_V4MAPPED and
  // otherwise refuses the mismatch.
  const literal = net.isIP(host);
  if (literal !== 0) {
    if (family === undefined || family === literal) return { address: host, family: literal === 6 ? 6 : 4, port };
    if (family === 6 && !passive) return { address: `::ffff:${host}`, family: 6, port };
    throw new LookupError('EAI_ADDRFAMILY');
  }
  const dns = process.getBuiltinModule('node:dns');
  const hints = passive ? 0 : dns.ADDRCONFIG | (family === 6 ? dns.V4MAPPED : 0);
  try {
    const found = await dns.promises.lookup(host, { family: family ?? 0, hints });
    return { address: found.address, family: found.family === 6 ? 6 : 4, port };
  } catch (error: unknown) {
    throw new LookupError((error as NodeJS.ErrnoException).code ?? 'EAI_FAIL');
  }
}

/** QEMU's text for a failed getaddrinfo. */
function lookupFailure(error: unknown, host: string, port: string): unknown {
  return error instanceof LookupError ? resolutionError(host, port, error.code) : error;
}

function bind(socket: dgram.Socket, local: Endpoint): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: Error): void => {
      socket.off('listening', done);
      reject(error);
    };
    const done = (): void => {
      socket.off('error', failed);
      resolve();
    };
    socket.once('error', failed);
    socket.once('listening', done);
    socket.bind({ port: local.port, address: local.address });
  });
}

function connect(socket: dgram.Socket, peer: Endpoint): Promise<void> {
  // Node refuses port 0 before calling connect(2) (ERR_SOCKET_BAD_PORT);
  // chardevd reports it as the EINVAL a connect failure would carry.
  if (peer.port === 0) return Promise.reject(Object.assign(new Error('port 0'), { code: 'EINVAL' }));
  return new Promise((resolve, reject) => {
    socket.connect(peer.port, peer.address, (error?: Error) => (error === undefined || error === null ? resolve() : reject(error)));
  });
}

/** `-chardev udp,host=H,port=P[,localaddr=A][,localport=L]` (chardev/char-udp.c). */
export const udpBackend: ChardevBackendDefinition<'udp'> = {
  kinds: ['udp'],
  options: { host: 'str', port: 'str', localaddr: 'str', localport: 'str', ipv4: 'bool', ipv6: 'bool' },
  parse: (kind, opts) => ({ type: kind, data: parseUdp(opts) }),
  create: (id, backend, context) => new UdpChardev(id, backend.data, context),
};

/** char-udp.c qemu_chr_parse_udp. */
function parseUdp(opts: ChardevOpts): ChardevUdp {
  const host = opts.get('host');
  const port = opts.get('port');
  const localaddr = opts.get('localaddr');
  const localport = opts.get('localport');
  if (port === undefined || port === '') throw opts.fail('chardev: udp: remote port not specified');
  const remote: InetSocketAddress = { host: host === undefined || host === '' ? 'localhost' : host, port };
  if (opts.has('ipv4')) remote.ipv4 = opts.getBool('ipv4', false);
  if (opts.has('ipv6')) remote.ipv6 = opts.getBool('ipv6', false);
  const data: ChardevUdp = { ...parseCommon(opts), remote: { type: 'inet', data: remote } };
  // A local address exists when either half is given non-empty; the other
  // half is then "" (any address) or "0" (any port).
  const hasLocalAddr = localaddr !== undefined && localaddr !== '';
  const hasLocalPort = localport !== undefined && localport !== '';
  if (hasLocalAddr || hasLocalPort) {
    data.local = { type: 'inet', data: { host: hasLocalAddr ? localaddr : '', port: hasLocalPort ? localport : '0' } };
  }
  return data;
}
