#!/usr/bin/env node
/**
 * chardevctl: QMP from the command line, for chardevd and for QEMU. All
 * protocol work is QmpClient's; this file only reads arguments and prints.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ChardevdError } from '../base/error.js';
import { parseQmpAddress, type QmpAddress } from '../client/address.js';
import { ExecuteError } from '../client/errors.js';
import { QmpClient } from '../client/qmp-client.js';
import { closeOpened, takeFdOptions } from './ctl-fds.js';
import { formatJson, parseRequest } from './qmp-shorthand.js';

const DEFAULT_SOCKET = 'chardevd-qmp.sock';
/** How often `tail -f` asks for new bytes. */
const TAIL_INTERVAL_MS = 200;
/** Bytes asked for per ringbuf-read; a bigger ring takes several reads. */
const TAIL_READ_BYTES = 65536;

const USAGE = `usage: chardevctl [-s SOCKET] [--tls-dir DIR] [COMMAND [ARGS...]]

  -s, --socket ADDR   QMP server: unix:PATH, PATH, HOST:PORT or tcp:HOST:PORT
                      (default $CHARDEVCTL_SOCKET, else ${DEFAULT_SOCKET})
  --tls-dir DIR       TLS to a TCP server, with the files of DIR as QEMU's
                      tls-creds-x509 reads a client's: ca-cert.pem, and
                      client-cert.pem and client-key.pem if the server asks for one

Commands:
  (none) | shell                 interactive shell: history, Tab completes commands and
                                 arguments from the server's schema
  QMP-COMMAND [key=value ...]    run one command (qmp-shell shorthand: a.b=1 nests,
                                 values are integers, true/false, JSON or strings)
      [--fd N] [--fd-file [MODE:]PATH]
                                 pass descriptors with it (getfd, add-fd; unix sockets
                                 only): N inherited (e.g. 3<FILE), or PATH opened with
                                 MODE r, w (create), rw (the default) or a (append, create)
  COMMAND ... ';' COMMAND ...    run several on one connection, in order (a getfd name
                                 and an fd set live as long as the connection)
  '{"execute": ...}'             run one request given as JSON
  events [NAME ...]              print events as JSON lines until the server closes
  hmp 'COMMAND LINE'             run a human monitor command (human-monitor-command)
  console ID                     attach the terminal to a socket-server chardev;
                                 Ctrl-] detaches
  tail [-f] ID                   print a ringbuf chardev's bytes; -f keeps following.
                                 Reads by cursor (ringbuf-read-cursor): consumes nothing.
                                 A server without it (QEMU) is read with ringbuf-read,
                                 which removes what it prints (a warning says so)
  gen-bindings --out DIR ...     write typed TypeScript bindings for a server's schema
                                 (chardevctl gen-bindings --help)
`;

class UsageError extends ChardevdError {
  readonly code = 'CLI_USAGE_INVALID';
}

/** `--tls-dir`: the client files of a QEMU tls-creds-x509 directory; the server's certificate must name the host. */
function withTls(address: QmpAddress, dir: string | undefined): QmpAddress {
  if (dir === undefined) return address;
  if (typeof address === 'string') throw new UsageError('--tls-dir is for a TCP server (tcp:HOST:PORT)');
  const read = (name: string): Buffer | undefined => (existsSync(join(dir, name)) ? readFileSync(join(dir, name)) : undefined);
  const ca = read('ca-cert.pem');
  if (ca === undefined) throw new UsageError(`--tls-dir ${dir}: no ca-cert.pem`);
  const cert = read('client-cert.pem');
  const key = read('client-key.pem');
  return { ...address, tls: { ca, ...(cert !== undefined && key !== undefined ? { cert, key } : {}) } };
}

/**
 * The gen-bindings command, imported when it runs: the QAPI generator,
 * like the shell's line editor and the console, is no part of a one-shot
 * command's start-up.
 */
let genBindingsModule: typeof import('./ctl-gen-bindings.js') | undefined;

async function main(argv: string[]): Promise<number> {
  let socket = process.env['CHARDEVCTL_SOCKET'] ?? DEFAULT_SOCKET;
  let socketGiven = false;
  let tlsDir: string | undefined;
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-s' || arg === '--socket') {
      if (argv[i + 1] === undefined) throw new UsageError(`${arg} needs an address`);
      socket = argv[++i]!;
      socketGiven = true;
    } else if (arg.startsWith('--socket=')) {
      socket = arg.slice('--socket='.length);
      socketGiven = true;
    } else if (arg === '--tls-dir') {
      if (argv[i + 1] === undefined) throw new UsageError(`${arg} needs a directory`);
      tlsDir = argv[++i]!;
    } else if (arg.startsWith('--tls-dir=')) {
      tlsDir = arg.slice('--tls-dir='.length);
    } else if (arg === '-h' || arg === '--help') {
      process.stdout.write(USAGE);
      return 0;
    } else {
      break;
    }
  }
  const command = argv[i];
  const rest = argv.slice(i + 1);
  if (command === 'gen-bindings') {
    const { GEN_BINDINGS_USAGE, genBindings } = (genBindingsModule = await import('./ctl-gen-bindings.js'));
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(GEN_BINDINGS_USAGE);
      return 0;
    }
    const written = await genBindings(socketGiven && !rest.some((a) => a === '-s' || a.startsWith('--socket')) ? ['--socket', socket, ...rest] : rest, undefined);
    for (const path of written) process.stdout.write(`${path}\n`);
    return 0;
  }
  const client = await QmpClient.connect(withTls(parseQmpAddress(socket), tlsDir));
  try {
    switch (command) {
      case undefined:
      case 'shell':
        return await (await import('./ctl-shell.js')).runShell(client, {
          input: process.stdin,
          output: process.stdout,
          historyFile: process.env['CHARDEVCTL_HISTORY'] ?? join(homedir(), '.chardevctl_history'),
        });
      case 'events':
        return await printEvents(client, rest);
      case 'hmp': {
        if (rest.length === 0) throw new UsageError("hmp needs a command line, e.g. chardevctl hmp 'info chardev'");
        const text = (await client.execute('human-monitor-command', { 'command-line': rest.join(' ') })) as string;
        process.stdout.write(text.replace(/\r\n/g, '\n'));
        return 0;
      }
      case 'console': {
        if (rest.length !== 1) throw new UsageError('usage: chardevctl console ID');
        return await (await import('./ctl-console.js')).runConsole(client, rest[0]!, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
      }
      case 'tail':
        return await tail(client, rest);
      default:
        for (const words of splitCommands([command, ...rest])) await runOne(client, words);
        return 0;
    }
  } finally {
    client.close();
  }
}

/** The commands of `A ... ';' B ...`. */
function splitCommands(argv: readonly string[]): string[][] {
  const commands: string[][] = [[]];
  for (const arg of argv) {
    if (arg === ';') commands.push([]);
    else commands.at(-1)!.push(arg);
  }
  if (commands.some((words) => words.length === 0)) throw new UsageError("';' must stand between two commands");
  return commands;
}

/** Runs one command with the descriptors its --fd options name, and prints its return value. */
async function runOne(client: QmpClient, words: readonly string[]): Promise<void> {
  const passed = takeFdOptions(words);
  try {
    const request = parseRequest(passed.args);
    const result = await client.execute(request.execute, request.arguments, passed.fds.length > 0 ? { fds: passed.fds } : undefined);
    process.stdout.write(`${formatJson(result)}\n`);
  } finally {
    closeOpened(passed);
  }
}

async function printEvents(client: QmpClient, names: string[]): Promise<number> {
  const events = client.events(names.length === 0 ? {} : { names });
  // On stderr, so that stdout stays JSON lines: from here on nothing is missed.
  process.stderr.write(`chardevctl: printing events${names.length === 0 ? '' : ` ${names.join(', ')}`} from ${client.address}\n`);
  for await (const event of events) {
    if (events.dropped > 0) {
      process.stderr.write(`chardevctl: ${events.dropped} events dropped: output is not read fast enough\n`);
      events.dropped = 0;
    }
    process.stdout.write(`${formatJson(event, 0)}\n`);
  }
  return 0;
}

/**
 * Prints what a ringbuf holds, and with -f what comes after, like tail -f.
 * It reads by cursor (ringbuf-read-cursor), so it consumes nothing: other
 * readers and ringbuf-read see the same bytes. Bytes overwritten before
 * tail got to them are reported on stderr. A server without cursor reads
 * (QEMU) is read with its destructive ringbuf-read instead, with a warning.
 * base64 keeps the bytes exact.
 */
async function tail(client: QmpClient, args: string[]): Promise<number> {
  const follow = args.includes('-f');
  const ids = args.filter((a) => a !== '-f');
  if (ids.length !== 1) throw new UsageError('usage: chardevctl tail [-f] ID');
  const device = ids[0]!;
  let cursor: number | undefined;
  let destructive = false;
  for (;;) {
    let data: string;
    if (destructive) {
      data = await client.ringbufRead({ device, size: TAIL_READ_BYTES, format: 'base64' });
    } else {
      try {
        const read = await client.ringbufReadCursor({ device, ...(cursor === undefined ? {} : { cursor }), size: TAIL_READ_BYTES, format: 'base64' });
        if (read.lost > 0) process.stderr.write(`chardevctl: ${read.lost} bytes of ${device} were overwritten before they could be read\n`);
        cursor = read.cursor;
        data = read.data;
      } catch (error: unknown) {
        if (!(error instanceof ExecuteError && error.errorClass === 'CommandNotFound')) throw error;
        process.stderr.write('chardevctl: this server has no ringbuf-read-cursor; reading with ringbuf-read, which removes what it reads\n');
        destructive = true;
        continue;
      }
    }
    if (data !== '') {
      if (!process.stdout.write(Buffer.from(data, 'base64'))) await new Promise((resolve) => process.stdout.once('drain', resolve));
      continue;
    }
    if (!follow) return 0;
    await new Promise((resolve) => setTimeout(resolve, TAIL_INTERVAL_MS));
    if (client.state === 'closed') return 0;
  }
}

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (error: unknown) => {
    if (error instanceof ExecuteError) {
      process.stderr.write(`chardevctl: ${error.command}: ${error.errorClass}: ${error.desc}\n`);
    } else if (
      // Every error chardevd raises on purpose (client, usage, console...), gen-bindings' schema errors, system errors (ENOENT...).
      error instanceof ChardevdError ||
      genBindingsModule?.isSchemaError(error) === true ||
      (error instanceof Error && 'code' in error && typeof (error as { code: unknown }).code === 'string')
    ) {
      process.stderr.write(`chardevctl: ${(error as Error).message}\n`);
    } else {
      throw error;
    }
    process.exitCode = 1;
  },
);
