import type { WebSocket } from 'ws';
import { Chardev } from '../chardev/chardev.js';
import type { HubChardev } from '../chardev/hub.js';
import { HubMember } from '../chardev/hub-member.js';

/**
 * Output a viewer may have sent and not yet acknowledged. Beyond it the
 * viewer's chardev asks its hub to wait, and the hub queues for it (at
 * most the hub's queue-size, losing the oldest bytes beyond): a tab that
 * renders slowly, or not at all, holds at most this much in flight.
 */
export const WEB_VIEWER_WINDOW = 256 << 10;

/** The largest frame a viewer may send (keys, acknowledgements); a bigger one closes it with 1009. */
export const WEB_MAX_FRAME = 64 << 10;

/**
 * What may wait in a viewer's WebSocket for its TCP connection. The
 * window keeps it far below for a viewer that acknowledges only what it
 * read; one that acknowledges output it never reads (or sends frame after
 * frame that each get an error back, never reading them) reaches it and
 * is disconnected, rather than growing the daemon's memory.
 */
export const WEB_MAX_BUFFERED = 4 << 20;

/**
 * What the page and the daemon say to each other over a viewer's
 * WebSocket. Binary frames are terminal bytes: output to the page, keys
 * from it. Text frames are JSON:
 *   daemon -> page: { type: 'hello', chardev, hub, writable }
 *                   { type: 'dropped', bytes, total }   output lost while the page was behind
 *                   { type: 'error', message }
 *   page -> daemon: { type: 'ack', bytes }              output rendered
 */
type ServerMessage =
  | { type: 'hello'; chardev: string; hub: string; writable: boolean }
  | { type: 'dropped'; bytes: number; total: number }
  | { type: 'error'; message: string };

/**
 * A web viewer as its hub sees it: a member chardev whose backend is the
 * WebSocket. Writing stops (returns false) while more than
 * WEB_VIEWER_WINDOW bytes are unacknowledged, so the hub keeps the rest
 * in the member's own queue and drops its oldest bytes when it is full,
 * as for any viewer that does not read (docs/hub.md). Keys from the page
 * are the member's input, which the hub hands to its frontend.
 */
class ViewerChardev extends Chardev {
  /** Lossy as a socket viewer is; the kind query-chardev's member list would show for one. */
  readonly kind = 'socket';
  #unacked = 0;
  #waiting = false;
  #droppedTold = 0;

  constructor(
    id: string,
    private readonly socket: WebSocket,
  ) {
    super(id);
  }

  get filename(): string {
    return this.id;
  }

  async open(): Promise<void> {
    this.setOpen(true);
  }

  /** Keys typed in the page. */
  type(data: Buffer): void {
    this.receive(data);
  }

  /** The hub's frontend is full: stop reading the page's keys (TCP pushes back on the browser). */
  protected override pauseInput(): void {
    this.socket.pause();
  }

  protected override resumeInput(): void {
    this.socket.resume();
  }

  protected writeToBackend(data: Buffer): boolean {
    const member = this.frontend;
    // What the hub dropped while this viewer was behind, told before the output that follows the gap.
    if (member instanceof HubMember && member.dropped > this.#droppedTold) {
      send(this.socket, { type: 'dropped', bytes: member.dropped - this.#droppedTold, total: member.dropped });
      this.#droppedTold = member.dropped;
    }
    this.socket.send(data, { binary: true });
    overflowed(this.socket);
    this.#unacked += data.length;
    if (this.#unacked < WEB_VIEWER_WINDOW) return true;
    this.#waiting = true;
    return false;
  }

  /** The page rendered `bytes`: once half the window is free, the hub may send again. */
  acknowledged(bytes: number): void {
    this.#unacked = Math.max(0, this.#unacked - bytes);
    if (this.#waiting && this.#unacked <= WEB_VIEWER_WINDOW / 2) {
      this.#waiting = false;
      this.drained();
    }
  }

  protected async closeBackend(): Promise<void> {}
}

/** One browser tab (or program) viewing a console: a member of the console's hub for as long as its WebSocket is open. */
export class WebViewer {
  readonly #chardev: ViewerChardev;
  #left = false;

  /**
   * Joins `hub` at once with a replay of its whole history; the hub has
   * been checked to take one more member (checkJoin).
   */
  constructor(
    readonly id: string,
    readonly hub: HubChardev,
    /** The chardev the page asked for (the hub itself, or the chardev linked to it). */
    chardevId: string,
    private readonly socket: WebSocket,
    readonly writable: boolean,
    onClosed: () => void,
  ) {
    this.#chardev = new ViewerChardev(id, socket);
    void this.#chardev.open();
    send(socket, { type: 'hello', chardev: chardevId, hub: hub.id, writable });
    socket.on('message', (data: Buffer, isBinary: boolean) => this.#message(data, isBinary));
    socket.on('close', () => {
      this.leave();
      onClosed();
    });
    socket.on('error', () => socket.terminate());
    hub.join(this.#chardev, hub.historySize);
  }

  #message(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      if (this.writable) this.#chardev.type(data);
      else
        send(this.socket, { type: 'error', message: 'this viewer is read-only: writing needs a token (web-token-add), and a chardev watched on a link takes no keys' });
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(data.toString('utf8'));
    } catch {
      message = undefined;
    }
    const bytes = (message as { type?: unknown; bytes?: unknown } | undefined)?.bytes;
    if ((message as { type?: unknown } | undefined)?.type === 'ack' && typeof bytes === 'number' && Number.isSafeInteger(bytes) && bytes >= 0) {
      this.#chardev.acknowledged(bytes);
      return;
    }
    send(this.socket, { type: 'error', message: 'unknown message: text frames are {"type":"ack","bytes":N}' });
  }

  /** Leaves the hub; the WebSocket goes too, closed with `why`. */
  leave(why = 'chardevd is stopping'): void {
    if (this.#left) return;
    this.#left = true;
    this.hub.leave(this.#chardev);
    void this.#chardev.close();
    if (this.socket.readyState === this.socket.OPEN) this.socket.close(1001, why);
  }
}

function send(socket: WebSocket, message: ServerMessage): void {
  if (socket.readyState !== socket.OPEN) return;
  socket.send(JSON.stringify(message));
  overflowed(socket);
}

/** Disconnects a viewer whose connection holds more than WEB_MAX_BUFFERED unsent. */
function overflowed(socket: WebSocket): void {
  if (socket.bufferedAmount > WEB_MAX_BUFFERED) socket.terminate();
}
