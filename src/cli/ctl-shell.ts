import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { ExecuteError } from '../client/errors.js';
import type { QmpClient } from '../client/qmp-client.js';
import { formatJson, parseRequest, ShorthandError, splitWords } from './qmp-shorthand.js';
import { SchemaCompleter } from './schema-completer.js';

/** Lines kept in the history file, as qmp-shell keeps. */
const HISTORY_SIZE = 1024;
/** Events kept for the next empty line; older ones are dropped (and counted). */
const EVENT_BACKLOG = 1024;

export interface ShellOptions {
  readonly input: NodeJS.ReadableStream;
  readonly output: NodeJS.WritableStream;
  /** History file; none when undefined. */
  readonly historyFile: string | undefined;
  readonly prompt?: string;
}

/**
 * The interactive shell (qmp-shell's model): one request per line, in
 * shorthand (`chardev-add id=c0 backend.type=null backend.data={}`) or as
 * raw JSON; Tab completes command names and argument names from the
 * server's query-qmp-schema; an empty line prints the events that came
 * since; `quit` is the command, `exit` or Ctrl-D leaves.
 */
export async function runShell(client: QmpClient, options: ShellOptions): Promise<number> {
  const out = (text: string): void => {
    options.output.write(text.endsWith('\n') ? text : `${text}\n`);
  };
  const schema = (await client.execute('query-qmp-schema')) as ConstructorParameters<typeof SchemaCompleter>[0];
  const completer = new SchemaCompleter(schema);
  const events = client.events({ limit: EVENT_BACKLOG });
  const history = options.historyFile === undefined ? [] : readHistory(options.historyFile);
  const rl = createInterface({
    input: options.input,
    output: options.output,
    prompt: options.prompt ?? '(qmp) ',
    history,
    historySize: HISTORY_SIZE,
    removeHistoryDuplicates: true,
    completer: (line: string) => completer.complete(line),
    terminal: (options.output as { isTTY?: boolean }).isTTY === true,
  });
  // Ctrl-C drops the line being typed, as a shell does; Ctrl-D or `exit` leaves.
  rl.on('SIGINT', () => {
    options.output.write('^C\n');
    rl.write(null, { ctrl: true, name: 'u' });
    rl.prompt();
  });
  rl.on('history', (lines: string[]) => {
    if (options.historyFile !== undefined) writeHistory(options.historyFile, lines);
  });
  const version = client.greeting?.['QMP'] as { version?: { qemu?: { major: number; minor: number; micro: number }; package?: string } } | undefined;
  const triple = version?.version?.qemu;
  const pkg = version?.version?.package ?? '';
  const server = triple === undefined ? client.address : `${pkg.startsWith('chardevd') ? 'chardevd' : 'QEMU'} ${triple.major}.${triple.minor}.${triple.micro}`;
  out(`Welcome to the QMP low-level shell!\nConnected to ${server}${pkg === '' ? '' : ` (${pkg})`}`);
  rl.prompt();
  let closed = false;
  const lost = client.disconnected.then(() => {
    if (closed) return;
    out('\nthe server closed the connection');
    rl.close();
  });
  for await (const line of rl) {
    const trimmed = line.trim();
    if (trimmed === 'exit') break;
    if (trimmed === '') {
      while (events.queued > 0) out(formatJson(await events.next(), 0));
      if (events.dropped > 0) {
        out(`(${events.dropped} older events were dropped)`);
        events.dropped = 0;
      }
    } else {
      await runLine(client, trimmed, out);
    }
    if (client.state === 'closed') break;
    rl.prompt();
  }
  closed = true;
  rl.close();
  events.close();
  void lost;
  return 0;
}

async function runLine(client: QmpClient, line: string, out: (text: string) => void): Promise<void> {
  try {
    const request = parseRequest(line.startsWith('{') ? [line] : splitWords(line));
    const result = await client.execute(request.execute, request.arguments);
    out(formatJson(result));
  } catch (error: unknown) {
    if (error instanceof ExecuteError) out(`Error: ${error.errorClass}: ${error.desc}`);
    else if (error instanceof ShorthandError) out(`Error while parsing command line: ${error.message}`);
    else if (error instanceof Error) out(`Error: ${error.message}`);
    else throw error;
  }
}

function readHistory(path: string): string[] {
  try {
    // readline wants the newest first.
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .reverse()
      .slice(0, HISTORY_SIZE);
  } catch {
    return [];
  }
}

function writeHistory(path: string, newestFirst: readonly string[]): void {
  try {
    writeFileSync(path, `${[...newestFirst].reverse().join('\n')}\n`);
  } catch {
    // A read-only home must not break the shell.
  }
}
