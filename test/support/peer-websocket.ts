import { WebSocket } from 'ws';
import { type BytePeer, ByteCollector } from './peer-process.js';

const WAIT_MS = 5_000;
/** The frame size for long sends, so that a payload travels as many frames, as a terminal's would. */
const FRAME = 64 * 1024;

/**
 * A WebSocket client as a peer: socat speaks no WebSocket, so the `ws`
 * package plays the browser's part. It offers the `binary` subprotocol,
 * which QEMU's websocket chardev requires, and sends binary frames.
 */
export class WebSocketPeer implements BytePeer {
  #input = new ByteCollector();
  closed = false;
  /** Text frames received; a chardev should send none. */
  textFrames = 0;
  closeCode: number | undefined;
  #wake: (() => void) | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      // A chardev's bytes always travel in binary frames (QEMU's websocket channel sends no text frames).
      if (!isBinary) this.textFrames++;
      this.#input.push(data);
      this.#wake?.();
    });
    ws.on('close', (code) => {
      this.closed = true;
      this.closeCode = code;
      this.#wake?.();
    });
    ws.on('error', () => {});
  }

  /** Connects to `url` and completes the handshake; fails with the reason, bounded. */
  static connect(url: string, timeoutMs = WAIT_MS): Promise<WebSocketPeer> {
    const ws = new WebSocket(url, ['binary'], { handshakeTimeout: timeoutMs });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new WebSocketPeer(ws)));
      ws.once('error', (error) => reject(new Error(`WebSocket handshake with ${url} failed: ${error.message}`)));
      ws.once('unexpected-response', (_request, response) => reject(new Error(`WebSocket handshake with ${url} refused: HTTP ${response.statusCode}`)));
    });
  }

  get received(): Buffer {
    return this.#input.bytes;
  }

  async write(data: Buffer | string): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    let offset = 0;
    do {
      const frame = bytes.subarray(offset, offset + FRAME);
      await new Promise<void>((resolve, reject) => {
        this.ws.send(frame, { binary: true }, (error) => (error === undefined || error === null ? resolve() : reject(error)));
      });
      offset += FRAME;
    } while (offset < bytes.length);
  }

  /** Starts the closing handshake (code 1000), as a browser tab being closed does. */
  async close(): Promise<void> {
    this.ws.close(1000);
  }

  async until(done: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what}; WebSocket ${this.closed ? `closed (${this.closeCode})` : 'open'}, received ${this.received.length} bytes`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 50));
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  terminate(): void {
    this.ws.terminate();
  }
}
