/** A chardevd with a console behind a hub and the web console on a loopback port, and raw WebSocket viewers of it, for tests and benchmarks. */
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import WebSocket from 'ws';
import { ByteCollector, waitFor } from './peer-process.js';
import { type ServerProcess, startChardevd } from './servers.js';

/** The token the web console of startWebDaemon takes for writing. */
export const WEB_TOKEN = 'test-token-0123456789';

export interface WebDaemon {
  readonly server: ServerProcess;
  /** http://127.0.0.1:PORT */
  readonly base: string;
  readonly port: number;
  /** Where the console's guest side listens: connect to it to play the guest. */
  readonly guestPath: string;
  stop(): Promise<void>;
}

/**
 * chardevd with guest0 (a socket server) linked to the hub console0,
 * whose first member is the ring buffer console0-log, and the web console
 * on 127.0.0.1, any free port. `hubOptions` go on the hub's -chardev;
 * `extra` gives more arguments, which may name files in the daemon's directory.
 */
export async function startWebDaemon(hubOptions = '', extra: (dir: string) => string[] = () => []): Promise<WebDaemon> {
  const server = await startChardevd((dir) => [
    '-chardev',
    'ringbuf,id=console0-log,size=64K',
    '-chardev',
    `hub,id=console0,chardevs.0=console0-log${hubOptions}`,
    '-chardev',
    `socket,id=guest0,path=${join(dir, 'guest0.sock')},server=on,wait=off`,
    '-device',
    'link,id=console0-link,chardev=guest0,peer=console0',
    '-web',
    `127.0.0.1:0,token=${WEB_TOKEN}`,
    ...extra(dir),
  ]);
  let port = 0;
  await waitFor(() => {
    port = Number(/web console on http:\/\/127\.0\.0\.1:(\d+)\//.exec(server.stderr())?.[1] ?? 0);
    return port > 0;
  }, 'the web console to listen');
  return { server, base: `http://127.0.0.1:${port}`, port, guestPath: join(server.dir, 'guest0.sock'), stop: () => server.stop() };
}

/** Connects to the console's guest side and collects what the console sends it. */
export async function connectGuest(path: string): Promise<{ socket: Socket; received: ByteCollector }> {
  const socket = connect(path);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const received = new ByteCollector();
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  socket.on('error', () => {});
  return { socket, received };
}

/** A viewer as a program: a WebSocket that collects output and, unless told not to, acknowledges it. */
export class RawViewer {
  readonly output = new ByteCollector();
  readonly messages: Record<string, unknown>[] = [];
  /** Output bytes received so far. */
  received = 0;
  /** Called after each output message (a benchmark's pacing). */
  onOutput: (() => void) | undefined;

  private constructor(
    readonly socket: WebSocket,
    acking: boolean,
    keep: boolean,
  ) {
    socket.on('message', (data: Buffer, binary: boolean) => {
      if (!binary) {
        this.messages.push(JSON.parse(data.toString()) as Record<string, unknown>);
        return;
      }
      this.received += data.length;
      if (keep) this.output.push(data);
      if (acking) socket.send(JSON.stringify({ type: 'ack', bytes: data.length }));
      this.onOutput?.();
    });
    socket.on('error', () => {});
  }

  /**
   * Opens a viewer of `chardev` and waits for the daemon's hello (`hello: false` for a server that
   * sends none); rejects with the HTTP status and text of a refusal.
   * `acking: false` never acknowledges; `keep: false` counts output without keeping it.
   */
  static open(base: string, chardev: string, options: { token?: string; origin?: string; acking?: boolean; keep?: boolean; hello?: boolean } = {}): Promise<RawViewer> {
    const protocols = options.token === undefined ? ['chardevd'] : ['chardevd', `chardevd-token.${options.token}`];
    const socket = new WebSocket(`${base.replace('http', 'ws')}/ws/${chardev}`, protocols, options.origin === undefined ? {} : { origin: options.origin });
    return new Promise((resolve, reject) => {
      socket.once('open', () => {
        const viewer = new RawViewer(socket, options.acking ?? true, options.keep ?? true);
        // The hello comes in a frame of its own, which may arrive after the handshake's answer.
        if (options.hello === false) resolve(viewer);
        else socket.once('message', () => resolve(viewer));
      });
      socket.once('unexpected-response', (_request, response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        response.on('end', () => reject(new Error(`${response.statusCode}: ${text.trim()}`)));
      });
      socket.once('error', reject);
    });
  }

  /** Resolves once the WebSocket has closed, with its close code. */
  closed(): Promise<number> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve(1006);
    return new Promise((resolve) => this.socket.once('close', (code: number) => resolve(code)));
  }
}
