import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';

/**
 * Replays QMP transcripts byte for byte against a server and compares the
 * replies of two servers (QEMU 7.2 and chardevd), for the differential tests.
 */

const WAIT_MS = 10_000;

export interface Transcript {
  readonly name: string;
  /**
   * Raw input, as Latin-1 strings so that any byte can be written. Each step
   * is followed by a sync request, except those marked `{ partial }` (the
   * first pieces of a message split across writes). `$DIR` stands for the
   * server's own temporary directory.
   */
  readonly steps: readonly (string | { readonly partial: string })[];
}

export const NEGOTIATE = '{"execute":"qmp_capabilities"}';

/** One connection that collects CRLF-terminated lines. */
export class Connection {
  readonly lines: string[] = [];
  /** The pieces of the line not yet ended, joined once it ends: a long reply costs one pass, not one per read. */
  #pending: string[] = [];
  #waiter: (() => void) | undefined;
  #requests = 0;
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => {
      this.#collect(text);
      this.#waiter?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.#waiter?.();
    });
    socket.on('error', () => {});
  }

  /** Splits what arrived at CRLF, searching only the new text. */
  #collect(text: string): void {
    let from = 0;
    // A CRLF split between two reads: the line ended with the CR of the previous read.
    const last = this.#pending.at(-1);
    if (text.startsWith('\n') && last?.endsWith('\r')) {
      this.#pending[this.#pending.length - 1] = last.slice(0, -1);
      this.#endLine();
      from = 1;
    }
    for (let end = text.indexOf('\r\n', from); end >= 0; end = text.indexOf('\r\n', from)) {
      this.#pending.push(text.slice(from, end));
      this.#endLine();
      from = end + 2;
    }
    if (from < text.length) this.#pending.push(text.slice(from));
  }

  #endLine(): void {
    this.lines.push(this.#pending.join(''));
    this.#pending = [];
  }

  /** Collects the lines of a socket already connected (one a server process connected to). */
  static of(socket: Socket): Connection {
    return new Connection(socket);
  }

  static open(path: string): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      socket.once('connect', () => resolve(new Connection(socket))).once('error', reject);
    });
  }

  /** A connection to the QMP socket at `path`, past capabilities negotiation. */
  static async negotiated(path: string): Promise<Connection> {
    const connection = await Connection.open(path);
    const reply = await connection.execute('qmp_capabilities');
    if (!('return' in reply)) throw new Error(`qmp_capabilities failed: ${JSON.stringify(reply)}`);
    return connection;
  }

  /** Sends one command and returns its parsed reply, found by a fresh `id` (events and other replies stay in `lines`). */
  async execute(command: string, args?: object): Promise<Record<string, unknown>> {
    const id = `${command}-${++this.#requests}`;
    this.socket.write(JSON.stringify(args === undefined ? { execute: command, id } : { execute: command, arguments: args, id }));
    let reply: Record<string, unknown> | undefined;
    await this.until(
      (lines) =>
        lines.some((line) => {
          if (!line.includes(id)) return false;
          const parsed = JSON.parse(line) as Record<string, unknown>;
          if (parsed['id'] !== id) return false;
          reply = parsed;
          return true;
        }),
      `the reply to ${command}`,
    );
    if (reply === undefined) throw new Error(`the connection closed before the reply to ${command}`);
    return reply;
  }

  /** Waits until a line satisfies `done`, or the connection closes; bounded. */
  async until(done: (lines: readonly string[]) => boolean, what: string): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while (!done(this.lines) && !this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.lines.slice(-5))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}

/** Sends every step, each followed by a sync request, and returns every line received. */
export async function play(path: string, transcript: Transcript, dir = ''): Promise<string[]> {
  return playOn(await Connection.open(path), transcript, dir);
}

/** play() on a connection already made; the connection is closed afterwards. */
export async function playOn(connection: Connection, transcript: Transcript, dir = ''): Promise<string[]> {
  try {
    await connection.until((lines) => lines.length >= 1, 'the greeting');
    for (const [i, step] of transcript.steps.entries()) {
      if (typeof step !== 'string') {
        connection.socket.write(Buffer.from(step.partial.replaceAll('$DIR', dir), 'latin1'));
        continue;
      }
      connection.socket.write(Buffer.from(step.replaceAll('$DIR', dir), 'latin1'));
      const sync = `"id": "sync-${i}"`;
      // Answered in either mode: before negotiation as CommandNotFound, with the id.
      connection.socket.write(`{"execute":"query-version","id":"sync-${i}"}`);
      await connection.until((lines) => lines.some((l) => l.includes(sync)), `the reply to sync-${i} after ${JSON.stringify(step.slice(0, 60))}`);
    }
    return dir === '' ? connection.lines.slice() : connection.lines.map((line) => line.replaceAll(dir, '$DIR'));
  } finally {
    connection.socket.destroy();
  }
}

export function normalise(line: string): string {
  return line
    .replace(/\{"qemu": \{"micro": \d+, "minor": \d+, "major": \d+\}, "package": "[^"]*"\}/g, '<version>')
    .replace(/"timestamp": \{"seconds": \d+, "microseconds": \d+\}/g, '"timestamp": <time>')
    .replace(/^\{"return": \[.*\], "id": "(list-[a-z]+)"\}$/, '{"return": <list>, "id": "$1"}');
}

export function compare(ours: readonly string[], theirs: readonly string[]): void {
  const a = ours.map(normalise);
  const b = theirs.map(normalise);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] === b[i]) continue;
    const sameMembers = a[i] !== undefined && b[i] !== undefined && [...a[i]!].sort().join('') === [...b[i]!].sort().join('');
    assert.fail(`reply ${i} differs${sameMembers ? ' (only in member order)' : ''}:\n  chardevd: ${a[i]}\n  QEMU:     ${b[i]}`);
  }
}

/**
 * Replies to `{"execute":"query-chardev","id":"query"}` in a comparable
 * form: entries sorted by label and members by name (QEMU lists them in
 * hash order), without the chardevs `drop` names.
 */
export function sortQueryChardev(lines: readonly string[], drop: (label: string) => boolean = () => false): string[] {
  return lines.map((line) => {
    const query = /^\{"return": (\[.*\]), "id": "query"\}$/.exec(line);
    if (query === null) return line;
    const entries = (JSON.parse(query[1]!) as { label: string }[]).filter((entry) => !drop(entry.label));
    entries.sort((a, b) => (a.label < b.label ? -1 : 1));
    return `{"return": ${JSON.stringify(entries.map((e) => Object.fromEntries(Object.entries(e).sort())))}, "id": "query"}`;
  });
}
