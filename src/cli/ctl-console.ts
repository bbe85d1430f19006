import { connect, type Socket } from 'node:net';
import { ChardevdError } from '../base/error.js';
import type { QmpAddress } from '../client/address.js';
import type { QmpClient } from '../client/qmp-client.js';

/** Ctrl-], telnet's and virsh console's escape. */
export const DEFAULT_ESCAPE = 0x1d;

/** The chardev cannot be attached to; the message says why. */
export class ConsoleError extends ChardevdError {
  override readonly name = 'ConsoleError';
  readonly code = 'CLI_CONSOLE_FAILED';
}

/**
 * Where to connect for a chardev's console, from its query-chardev
 * `filename`. Only socket servers can be attached from outside:
 * `unix:PATH,server=on`, `tcp:HOST:PORT,server=on` (`disconnected:` in
 * front while no client is connected; ` <-> PEER` behind while one is).
 */
export function consoleAddress(id: string, filename: string): { address: QmpAddress; busy: boolean; telnet: boolean } {
  const busy = !filename.startsWith('disconnected:');
  const bare = filename.replace(/^disconnected:/, '').replace(/ <-> .*$/, '');
  const options = bare.split(',').slice(1);
  if (!options.includes('server=on')) {
    throw new ConsoleError(`chardev '${id}' is not a socket server (its filename is '${filename}'); console attaches to socket chardevs with server=on`);
  }
  const main = bare.split(',')[0]!;
  const unix = /^unix:(.+)$/.exec(main);
  if (unix) return { address: unix[1]!, busy, telnet: false };
  const inet = /^(tcp|telnet|tn3270):(.+):(\d+)$/.exec(main);
  if (inet) return { address: { host: inet[2]!.replace(/^\[(.*)\]$/, '$1'), port: Number(inet[3]) }, busy, telnet: inet[1] !== 'tcp' };
  throw new ConsoleError(`chardev '${id}' has an address console cannot connect to: '${filename}'`);
}

export interface ConsoleOptions {
  readonly stdin: NodeJS.ReadStream;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WritableStream;
  readonly escape?: number;
}

/**
 * `chardevctl console ID`: looks the chardev up over QMP, closes the QMP
 * connection, connects to the chardev's socket, and joins it to the
 * terminal in raw mode until the escape key (Ctrl-]) or the far end
 * closes; the terminal mode is restored either way. The peer is whatever
 * the chardev's frontend is (a guest's serial port, QEMU's monitor).
 */
export async function runConsole(client: QmpClient, id: string, options: ConsoleOptions): Promise<number> {
  const info = (await client.queryChardev()).find((chardev) => chardev.label === id);
  client.close();
  if (info === undefined) throw new ConsoleError(`chardev '${id}' not found`);
  const { address, busy, telnet } = consoleAddress(id, info.filename);
  const escape = options.escape ?? DEFAULT_ESCAPE;
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = typeof address === 'string' ? connect(address) : connect(address.port, address.host);
    s.once('connect', () => resolve(s));
    s.once('error', (error) => reject(new ConsoleError(`connecting to chardev '${id}': ${error.message}`)));
  });
  const escapeName = `^${String.fromCharCode(escape + 0x40)}`;
  options.stderr.write(`[attached to chardev '${id}'; escape is ${escapeName}]\r\n`);
  if (busy) options.stderr.write(`[another client is connected; a QEMU socket chardev serves one at a time, so this one waits for it]\r\n`);
  if (telnet) options.stderr.write(`[a telnet chardev: its option negotiation bytes are passed through]\r\n`);
  const { stdin, stdout } = options;
  const wasRaw = stdin.isTTY ? stdin.isRaw : false;
  if (stdin.isTTY) stdin.setRawMode(true);
  return new Promise<number>((resolve) => {
    let done = false;
    const finish = (message: string, status: number): void => {
      if (done) return;
      done = true;
      stdin.off('data', onInput);
      if (stdin.isTTY) stdin.setRawMode(wasRaw);
      stdin.pause();
      socket.destroy();
      for (const signal of ['SIGTERM', 'SIGHUP'] as const) process.off(signal, onSignal);
      options.stderr.write(`\r\n[${message}]\r\n`);
      resolve(status);
    };
    const onInput = (chunk: Buffer): void => {
      const at = chunk.indexOf(escape);
      if (at < 0) {
        socket.write(chunk);
        return;
      }
      if (at > 0) socket.write(chunk.subarray(0, at));
      finish('detached', 0);
    };
    const onSignal = (): void => finish('terminated', 1);
    for (const signal of ['SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
    socket.on('data', (chunk: Buffer) => stdout.write(chunk));
    socket.on('error', (error) => finish(`connection error: ${error.message}`, 1));
    socket.on('close', () => finish(`chardev '${id}' closed the connection`, 0));
    stdin.on('data', onInput);
    stdin.resume();
  });
}
