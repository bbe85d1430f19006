import * as fs from 'node:fs';
import { ChardevError } from './chardev-error.js';

/**
 * What glibc's getaddrinfo does with the service (port) of an inet
 * address, which QEMU hands it as given: Node takes only port numbers, so
 * chardevd reads the string as glibc 2.36 (Debian 12, under QEMU 7.2) does.
 */

/** The protocol a service is looked up for: SOCK_STREAM sockets are tcp, SOCK_DGRAM ones udp. */
export type ServiceProtocol = 'tcp' | 'udp';

/** glibc's gai_strerror texts, by the code Node gives a failed lookup (Node reports EAI_NONAME and EAI_NODATA as ENOTFOUND). */
const GAI_STRERROR: { readonly [code: string]: string } = {
  ENOTFOUND: 'Name or service not known',
  EAI_NONAME: 'Name or service not known',
  EAI_AGAIN: 'Temporary failure in name resolution',
  EAI_FAIL: 'Non-recoverable failure in name resolution',
  EAI_FAMILY: 'ai_family not supported',
  EAI_ADDRFAMILY: 'Address family for hostname not supported',
  EAI_SERVICE: 'Servname not supported for ai_socktype',
  EAI_MEMORY: 'Memory allocation failure',
  EAI_SYSTEM: 'System error',
};

/** QEMU's text for a failed getaddrinfo of `host` and `port` (util/qemu-sockets.c, io/dns-resolver.c). */
export function resolutionError(host: string, port: string, code: string): ChardevError {
  return new ChardevError(`address resolution failed for ${host}:${port}: ${GAI_STRERROR[code] ?? code}`);
}

/** The file glibc's `files` source reads services from (nsswitch.conf's `services:` line). */
const SERVICES_FILE = '/etc/services';

/** C's isspace in the C locale, which QEMU runs in. */
const C_SPACE = '[ \\t\\n\\v\\f\\r]';

/**
 * The port getaddrinfo gives `service` for `protocol`, or undefined where
 * it fails with EAI_SERVICE ("Servname not supported for ai_socktype").
 *
 * glibc reads the service with strtoul(service, &end, 10) into an int.
 * When that consumes the whole string and the int is not negative, it is
 * the port, cut to 16 bits by htons: white space and a sign may lead
 * (" 80", "+80", "-0"), "" is 0, "99999" is 34463 and "4294967296" is 0.
 * Anything else is a service name looked up in the services database, so
 * "http" is 80 for tcp, while "0x10", "1e3", "80 " and numbers whose int
 * is negative ("-1", "4294967295", an overflow) are names no database
 * has. `services` gives the database's text (by default /etc/services,
 * read at each call, as glibc reads it).
 */
export function servicePort(service: string, protocol: ServiceProtocol, services: () => string = readServicesFile): number | undefined {
  const number = wholeNumber(service);
  if (number !== undefined && number >= 0) return number & 0xffff;
  return lookupService(service, protocol, services());
}

/** strtoul(text, &end, 10) as C's int, when it consumes all of `text`; undefined otherwise. */
function wholeNumber(text: string): number | undefined {
  // No digits: strtoul leaves `end` at the start, which only "" has at its end.
  if (text === '') return 0;
  const match = new RegExp(`^${C_SPACE}*([+-]?)([0-9]+)$`).exec(text);
  if (match === null) return undefined;
  return Number(BigInt.asIntN(32, strtoulValue(match[1]!, match[2]!)));
}

/** strtoul's value for a sign and decimal digits: ULONG_MAX on overflow, whatever the sign; a negative number wraps. */
function strtoulValue(sign: string, digits: string): bigint {
  const ULONG_MAX = (1n << 64n) - 1n;
  const magnitude = BigInt(digits);
  if (magnitude > ULONG_MAX) return ULONG_MAX;
  return sign === '-' ? BigInt.asUintN(64, -magnitude) : magnitude;
}

function readServicesFile(): string {
  try {
    return fs.readFileSync(SERVICES_FILE, 'utf8');
  } catch {
    return '';
  }
}

/**
 * getservbyname(name, protocol) in glibc's files source
 * (nss_files/files-service.c): each line to its first `#`, then the
 * name, `PORT/PROTOCOL` (the port by strtoul, cut to 16 bits) and the
 * aliases, separated by white space; the first line with the protocol
 * whose name or an alias is `name` exactly.
 */
function lookupService(name: string, protocol: ServiceProtocol, text: string): number | undefined {
  const space = new RegExp(`${C_SPACE}+`);
  for (const line of text.split('\n')) {
    const [service, portAndProtocol, ...aliases] = line
      .split('#', 1)[0]!
      .split(space)
      .filter((field) => field !== '');
    if (service === undefined || portAndProtocol === undefined) continue;
    const entry = /^([+-]?)([0-9]+)\/(.*)$/.exec(portAndProtocol);
    if (entry === null || entry[3] !== protocol) continue;
    if (service === name || aliases.includes(name)) return Number(strtoulValue(entry[1]!, entry[2]!) & 0xffffn);
  }
  return undefined;
}
