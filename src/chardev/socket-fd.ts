import * as fs from 'node:fs';
import type { MonitorDescriptors } from './chardev.js';
import { ChardevError } from './chardev-error.js';

/**
 * QEMU 7.2's socket_get_fd (util/qemu-sockets.c): the descriptor of a
 * socket address of type `fd`, now the caller's. In a monitor (a QMP or
 * human monitor command, QEMU's monitor_cur()) `str` is a name given with
 * getfd, taken from the monitor's table whether or not it is then used
 * (monitor_get_fd); elsewhere (the command line) it is a descriptor number
 * the daemon inherited, read by qemu_strtoi. A descriptor that is not a
 * socket is refused, and closed if it came from a monitor (QEMU closes it
 * in both cases; chardevd does not close one of its own descriptors the
 * command line named, since it is about to exit anyway).
 */
export function takeSocketFd(str: string, monitor: MonitorDescriptors | undefined): number {
  let fd: number;
  if (monitor !== undefined) {
    const named = monitor.take(str);
    if (named === undefined) throw new ChardevError(`File descriptor named '${str}' has not been found`);
    fd = named;
  } else {
    fd = startupFdNumber(str);
  }
  if (!isSocket(fd)) {
    if (monitor !== undefined) fs.closeSync(fd);
    throw new ChardevError(`File descriptor '${str}' is not a socket`);
  }
  return fd;
}

/**
 * qemu_strtoi in base 10 as QEMU reads `fd=` outside a monitor: white
 * space and a sign may lead, nothing may follow. A number beyond an int
 * fails with ERANGE, which the text then names, even with characters
 * after it.
 */
function startupFdNumber(str: string): number {
  const number = /^[ \t\n\v\f\r]*([+-]?[0-9]+)/.exec(str);
  const value = number === null ? undefined : BigInt(number[1]!);
  if (value !== undefined && BigInt.asIntN(32, value) !== value) throw new ChardevError(`Unable to parse FD number ${str}: Numerical result out of range`);
  if (value === undefined || number![0].length !== str.length) throw new ChardevError(`Unable to parse FD number ${str}`);
  return Number(value);
}

/** QEMU's fd_is_socket; a descriptor that is not open is no socket. */
function isSocket(fd: number): boolean {
  try {
    return fs.fstatSync(fd).isSocket();
  } catch {
    return false;
  }
}

/** What kind of stream socket a descriptor is, as Node can serve it; undefined for any other socket (datagram, netlink). */
export type StreamSocketKind = { readonly kind: 'unix'; readonly path: string; readonly abstract: boolean } | { readonly kind: 'tcp' };

/**
 * The kind of the socket `fd`, found by its inode in the kernel's tables
 * (/proc/self/net): Node reads only stream sockets, unix or TCP, and its
 * unix servers cannot say the path they listen on (getsockname).
 */
export function streamSocketKind(fd: number): StreamSocketKind | undefined {
  let inode: string;
  try {
    inode = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/self/fd/${fd}`))?.[1] ?? '';
  } catch {
    return undefined;
  }
  for (const line of readTable('unix')) {
    // Num RefCount Protocol Flags Type St Inode [Path]; type 0001 is SOCK_STREAM.
    const fields = line.trim().split(/\s+/);
    if (fields[6] !== inode) continue;
    if (fields[4] !== '0001') return undefined;
    const name = fields.slice(7).join(' ');
    return { kind: 'unix', path: name.startsWith('@') ? name.slice(1) : name, abstract: name.startsWith('@') };
  }
  // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
  const tcp = [...readTable('tcp'), ...readTable('tcp6')].some((line) => line.trim().split(/\s+/)[9] === inode);
  return tcp ? { kind: 'tcp' } : undefined;
}

function readTable(name: string): string[] {
  try {
    return fs.readFileSync(`/proc/self/net/${name}`, 'utf8').split('\n').slice(1);
  } catch {
    return [];
  }
}
