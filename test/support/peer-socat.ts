import { onPath, PeerProcess } from './peer-process.js';

/** Why socat-based tests cannot run here, or undefined when they can. */
export function socatSkipReason(): string | undefined {
  return onPath('socat') ? undefined : 'socat is not installed (apt-get install socat)';
}

/**
 * Starts socat between its stdio and `address` (e.g. `UNIX-CONNECT:path`,
 * `TCP-LISTEN:0,bind=127.0.0.1`). `-d -d` makes it report its addresses on
 * stderr; `-b 65536` moves up to 64 KiB per read, like a chardev does.
 */
export function startSocat(address: string): PeerProcess {
  return PeerProcess.start('socat', ['-d', '-d', '-b', '65536', 'STDIO', address]);
}

/**
 * Waits until a listening socat (any *-LISTEN address) reports that it
 * listens, and returns the port it names ("listening on AF=2
 * 127.0.0.1:40123", "AF=10 [0000:...:0001]:40123"; Unix addresses give
 * undefined). Port 0 in the address makes the kernel choose, so no port
 * has to be guessed free.
 */
export async function socatListening(peer: PeerProcess): Promise<number | undefined> {
  const match = await peer.stderrMatch(/ N listening on AF=\d+ (.*)$/m, 'socat to listen');
  const port = /:(\d+)$/.exec(match[1] ?? '');
  return port === null ? undefined : Number(port[1]);
}
