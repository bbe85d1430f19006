import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { packageFile } from '../base/package-root.js';
import type { ChardevRegistry } from '../chardev/registry.js';
import type { WebTokens } from '../commands/web-tokens.js';
import type { LinkDevice } from '../device/link.js';
import type { DeviceRegistry } from '../device/registry.js';
import type { CommandTally } from '../qmp/command-tally.js';
import { type QmpListenAddress, SocketListeners } from '../qmp/socket-listeners.js';
import { chardevList } from './chardev-list.js';
import type { Chardev } from '../chardev/chardev.js';
import type { HubChardev } from '../chardev/hub.js';
import { viewTarget } from './console-target.js';
import { MadeHub } from './made-hub.js';
import { type ConnectionCount, DaemonMetrics } from './metrics.js';
import { hostAllowed, originAllowed } from './origin.js';
import type { WebConfig } from './web-option.js';
import { WEB_MAX_FRAME, WebViewer } from './web-viewer.js';

/** The most HTTP connections (page loads, viewers, metrics scrapes) open at once; beyond it a new one is closed at once. */
export const WEB_MAX_CONNECTIONS = 1024;

/** How often the chardev list is compared with what the pages last got. */
const LIST_INTERVAL_MS = 500;

/** An event stream whose reader has this much unread is closed: the page reconnects and gets the current list. */
const MAX_EVENT_BACKLOG = 1 << 20;

/** The WebSocket subprotocol of a viewer; a second one, `chardevd-token.TOKEN`, carries a token. */
const VIEWER_PROTOCOL = 'chardevd';
const TOKEN_PROTOCOL_PREFIX = 'chardevd-token.';

/** The page's files, served from the build's page folder: name -> content type. */
const PAGE_FILES: ReadonlyMap<string, string> = new Map([
  ['index.html', 'text/html; charset=utf-8'],
  ['app.js', 'text/javascript; charset=utf-8'],
  ['style.css', 'text/css; charset=utf-8'],
  ['xterm.mjs', 'text/javascript; charset=utf-8'],
  ['xterm.css', 'text/css; charset=utf-8'],
  ['addon-fit.mjs', 'text/javascript; charset=utf-8'],
  ['addon-search.mjs', 'text/javascript; charset=utf-8'],
]);

/** Where the build put the page and its assets (scripts/copy-web-assets.js). */
const PAGE_DIR = packageFile('dist/src/web/page/');

/** The page loads its own scripts and styles only, and talks to this server only. */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** What the web server needs of the daemon. */
export interface WebHost {
  readonly chardevs: ChardevRegistry;
  readonly devices: DeviceRegistry;
  readonly tokens: WebTokens;
  readonly qmpCommands: CommandTally;
  readonly hmpCommands: CommandTally;
  qmpConnections(): ConnectionCount;
  hmpConnections(): ConnectionCount;
  readonly log: (message: string) => void;
}

/**
 * The web console: one page listing the chardevs live, a terminal per
 * console over one WebSocket per viewer, and `/metrics`. The same checks
 * apply whether it listens on TCP or on a unix socket behind a reverse
 * proxy: Host must name this server (an IP address, localhost, or an
 * allowed origin's host), a WebSocket's Origin must be the page's own or
 * an allowed one, and a viewer writes only with a token.
 */
export class WebServer {
  readonly #http: Server;
  readonly #ws: WebSocketServer;
  readonly #listeners: SocketListeners;
  readonly #metrics: DaemonMetrics;
  readonly #sockets = new Set<Socket>();
  readonly #viewers = new Set<WebViewer>();
  readonly #events = new Set<ServerResponse>();
  readonly #files = new Map<string, Promise<Buffer>>();
  /** Hubs made for viewers of chardevs that had no frontend, while they have viewers. */
  readonly #made = new Map<Chardev, MadeHub>();
  readonly #madeHub = (chardev: Chardev): HubChardev | undefined => this.#made.get(chardev)?.hub;
  #viewersTotal = 0;
  #viewerNumber = 0;
  #listTimer: NodeJS.Timeout | undefined;
  #lastList = '';

  constructor(
    private readonly config: WebConfig,
    private readonly host: WebHost,
  ) {
    this.#listeners = new SocketListeners('web', host.log);
    this.#http = createServer((request, response) => this.#request(request, response));
    this.#http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => this.#upgrade(request, socket, head));
    this.#http.on('clientError', (_error, socket: Duplex) => socket.destroy());
    this.#ws = new WebSocketServer({
      noServer: true,
      maxPayload: WEB_MAX_FRAME,
      handleProtocols: (protocols) => (protocols.has(VIEWER_PROTOCOL) ? VIEWER_PROTOCOL : false),
    });
    this.#metrics = new DaemonMetrics({
      chardevs: () => host.chardevs.list(),
      qmpCommands: host.qmpCommands,
      hmpCommands: host.hmpCommands,
      qmpConnections: () => host.qmpConnections(),
      hmpConnections: () => host.hmpConnections(),
      webViewers: () => ({ open: this.#viewers.size, total: this.#viewersTotal }),
    });
  }

  /** Starts listening; resolves with the bound address (the real port when port 0 was asked). */
  listen(): Promise<QmpListenAddress> {
    return this.#listeners.open(this.config.listen, (socket) => this.#connection(socket));
  }

  #connection(socket: Socket): void {
    if (this.#sockets.size >= WEB_MAX_CONNECTIONS) {
      socket.destroy();
      return;
    }
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    this.#http.emit('connection', socket);
  }

  #request(request: IncomingMessage, response: ServerResponse): void {
    if (!hostAllowed(request.headers.host, this.config.origins)) {
      plain(response, 403, 'Host not allowed: use an IP address or localhost, or list the site in web origins (docs/web.md)\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      plain(response, 405, 'Method not allowed\n');
      return;
    }
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path === '/metrics') {
      this.#metrics.text().then(
        (text) => {
          response.writeHead(200, { 'content-type': this.#metrics.contentType, 'cache-control': 'no-store' });
          response.end(text);
        },
        (error: unknown) => plain(response, 500, `metrics failed: ${error instanceof Error ? error.message : String(error)}\n`),
      );
      return;
    }
    if (path === '/api/chardevs') {
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      response.end(this.#listText());
      return;
    }
    if (path === '/api/chardevs/events') {
      this.#eventStream(response);
      return;
    }
    const name = path === '/' ? 'index.html' : path.slice(1);
    const type = PAGE_FILES.get(name);
    if (type === undefined) {
      plain(response, 404, 'Not found\n');
      return;
    }
    this.#file(name).then(
      (data) => {
        response.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache', ...SECURITY_HEADERS });
        response.end(request.method === 'HEAD' ? undefined : data);
      },
      () => plain(response, 500, `${name} is missing from the build: run npm run build\n`),
    );
  }

  #file(name: string): Promise<Buffer> {
    let file = this.#files.get(name);
    if (file === undefined) {
      file = readFile(new URL(name, PAGE_DIR));
      file.catch(() => this.#files.delete(name));
      this.#files.set(name, file);
    }
    return file;
  }

  #listText(): string {
    return JSON.stringify(chardevList(this.host.chardevs.list(), this.host.devices.links(), this.#madeHub));
  }

  /** Server-sent events: the chardev list now, then again whenever it changed (checked every LIST_INTERVAL_MS). */
  #eventStream(response: ServerResponse): void {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    response.write(`data: ${this.#listText()}\n\n`);
    this.#events.add(response);
    response.once('close', () => {
      this.#events.delete(response);
      if (this.#events.size === 0) {
        clearInterval(this.#listTimer);
        this.#listTimer = undefined;
      }
    });
    this.#listTimer ??= setInterval(() => this.#sendList(), LIST_INTERVAL_MS);
  }

  #sendList(): void {
    const text = this.#listText();
    if (text === this.#lastList) return;
    this.#lastList = text;
    for (const response of this.#events) {
      if (response.writableLength > MAX_EVENT_BACKLOG) response.destroy();
      else response.write(`data: ${text}\n\n`);
    }
  }

  /** A viewer's WebSocket: refused with an HTTP status and a sentence before it is accepted, or joined to its console's hub. */
  #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const refuse = (status: number, text: string): void => {
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
      );
    };
    const { host, origin } = request.headers;
    if (!hostAllowed(host, this.config.origins)) return refuse(403, 'Host not allowed\n');
    if (!originAllowed(origin, host, this.config.origins)) return refuse(403, `Origin ${origin ?? ''} not allowed: list it in web origins (docs/web.md)\n`);
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const match = /^\/ws\/([^/]+)$/.exec(path);
    if (match === null) return refuse(404, 'Not found: a viewer connects to /ws/CHARDEV\n');
    let id: string;
    try {
      id = decodeURIComponent(match[1]!);
    } catch {
      return refuse(400, 'Bad chardev id\n');
    }
    const chardev = this.host.chardevs.get(id);
    if (chardev === undefined || chardev.closed) return refuse(404, `Chardev '${id}' not found\n`);
    const target = viewTarget(chardev, this.host.devices.links(), this.#madeHub);
    if ('refusal' in target) return refuse(409, `${target.refusal}\n`);
    if ('hub' in target) {
      try {
        target.hub.checkJoin();
      } catch (error: unknown) {
        return refuse(503, `${error instanceof Error ? error.message : String(error)}\n`);
      }
    }
    const protocols = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((protocol) => protocol.trim());
    const token = protocols.find((protocol) => protocol.startsWith(TOKEN_PROTOCOL_PREFIX))?.slice(TOKEN_PROTOCOL_PREFIX.length);
    if (token !== undefined && !this.host.tokens.allows(token)) return refuse(401, 'Token not valid (expired, or never made)\n');
    this.#ws.handleUpgrade(request, socket, head, (ws: WebSocket) => {
      // The chardev may have gone, been taken or its hub filled while the handshake finished.
      const now = chardev.closed ? { refusal: `Chardev '${id}' is gone` } : viewTarget(chardev, this.host.devices.links(), this.#madeHub);
      if ('refusal' in now) {
        ws.close(1011, now.refusal.slice(0, 120));
        return;
      }
      const hub = 'hub' in now ? now.hub : this.#makeHub(now.madeFor, now.tapping);
      try {
        hub.checkJoin();
      } catch (error: unknown) {
        ws.close(1013, error instanceof Error ? error.message.slice(0, 120) : 'hub is full');
        return;
      }
      // A viewer of a tapped link only watches: its keys would mix with the link's peer's.
      const writable = token !== undefined && this.#made.get(chardev)?.tapping !== true;
      const viewer = new WebViewer(`web-viewer-${++this.#viewerNumber}`, hub, id, ws, writable, () => {
        this.#viewers.delete(viewer);
        this.#unmakeIfUnviewed(chardev);
      });
      this.#viewers.add(viewer);
      this.#viewersTotal++;
    });
  }

  #makeHub(chardev: Chardev, tapping: LinkDevice | undefined): HubChardev {
    const made = new MadeHub(chardev, this.host.chardevs.context, tapping, () => this.#unmake(chardev, 'the link it watched is gone'));
    this.#made.set(chardev, made);
    return made.hub;
  }

  /** Closes the viewers of the hub made for `chardev`, which goes. */
  #unmake(chardev: Chardev, why: string): void {
    const made = this.#made.get(chardev);
    if (made === undefined) return;
    this.#made.delete(chardev);
    for (const viewer of this.#viewers) if (viewer.hub === made.hub) viewer.leave(why);
    made.dispose();
  }

  /** The last viewer of a made hub left: the chardev is free again. */
  #unmakeIfUnviewed(chardev: Chardev): void {
    const made = this.#made.get(chardev);
    if (made === undefined || made.hub.members.length > 0) return;
    this.#made.delete(chardev);
    made.dispose();
  }

  /** Stops accepting, makes every viewer leave its hub, and closes every connection. */
  async close(): Promise<void> {
    clearInterval(this.#listTimer);
    this.#listTimer = undefined;
    const closing = this.#listeners.closeAll();
    for (const viewer of this.#viewers) viewer.leave();
    this.#viewers.clear();
    for (const made of this.#made.values()) made.dispose();
    this.#made.clear();
    for (const response of this.#events) response.end();
    for (const socket of this.#sockets) socket.destroy();
    this.#ws.close();
    await Promise.all(closing);
  }
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  503: 'Service Unavailable',
};

function plain(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  response.end(text);
}
