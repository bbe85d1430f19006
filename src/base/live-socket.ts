import { lstatSync } from 'node:fs';
import { connect } from 'node:net';

/** How long a connection attempt may take before the socket counts as live (a full backlog does not answer). */
const PROBE_TIMEOUT_MS = 1000;

/**
 * Whether a process is listening on the unix socket at `path`: a connection
 * to it succeeds, or is neither refused nor impossible. A server socket
 * replaces whatever is at its path (QEMU unlinks it first), which would cut
 * a running daemon off from its clients while it goes on running; so
 * before unlinking, chardevd asks whether anyone still answers there.
 * Refused (a file left by a process that died) or missing means free.
 * Nothing at the path, or no socket there, needs no connection to tell
 * (the usual case at a daemon's start).
 */
export function isLiveUnixSocket(path: string): Promise<boolean> {
  if (holdsNoSocket(path)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = connect(path);
    const done = (live: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(live);
    };
    const timer = setTimeout(() => done(true), PROBE_TIMEOUT_MS);
    socket.once('connect', () => done(true));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      done(!(error.code === 'ECONNREFUSED' || error.code === 'ENOENT' || error.code === 'ENOTSOCK' || error.code === 'ENOTDIR'));
    });
  });
}

/** Nothing is at `path`, or something that is not a socket; false when that cannot be told (EACCES...). */
function holdsNoSocket(path: string): boolean {
  try {
    const found = lstatSync(path, { throwIfNoEntry: false });
    return found === undefined || !found.isSocket();
  } catch {
    return false;
  }
}

/** The words every refusal to replace a live socket ends with. */
export function liveSocketText(path: string): string {
  return `a process is listening on ${path} already (another chardevd with the same paths?); it is left alone`;
}
