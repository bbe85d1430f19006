import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const WAIT_MS = 5_000;
/** How long stop() waits for a killed process to be reaped. */
const STOP_MS = 2_000;

/** Whether `name` is an executable on PATH (what `which` answers), so a test can skip with the reason. */
export function onPath(name: string): boolean {
  return (process.env['PATH'] ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, name)));
}

/** Retries `check` every `pollMs` until it holds; fails after a bound, naming `what`. */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000, pollMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/**
 * The other end of a byte stream as a test sees it: what it received so
 * far, a way to send, and a way to hang up. Implemented by external
 * programs (PeerProcess over their stdio) and by in-process clients for
 * protocols no installed program speaks (WebSocketPeer).
 */
export interface BytePeer {
  /** Everything received so far. */
  readonly received: Buffer;
  /** Sends `data`; settles once it was handed to the transport. */
  write(data: Buffer | string): Promise<void>;
  /** Hangs up the way the program does on end of input. */
  close(): Promise<void>;
  /** Waits until `done()` holds; fails after a bound with `what` and the peer's state in the message. */
  until(done: () => boolean, what: string, timeoutMs?: number): Promise<void>;
}

/** Collected chunks, joined only when looked at. */
export class ByteCollector {
  #chunks: Buffer[] = [];
  #joined = Buffer.alloc(0);

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
  }

  get bytes(): Buffer {
    if (this.#chunks.length > 0) {
      this.#joined = Buffer.concat([this.#joined, ...this.#chunks]);
      this.#chunks = [];
    }
    return this.#joined;
  }
}

/**
 * An external program started by a test, talking over its stdin and
 * stdout (socat's STDIO address). stdout is collected as bytes, stderr
 * as text (socat -d -d reports its addresses there). It is only ever
 * signalled by its own PID, and stop() reaps it.
 */
export class PeerProcess implements BytePeer {
  readonly pid: number;
  stderr = '';
  /** Exit status and signal once it has exited and its output is all read. */
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly exited: Promise<void>;
  #output = new ByteCollector();
  #spawnError: Error | undefined;
  #reaped = false;
  #wake: (() => void) | undefined;

  private constructor(
    readonly child: ChildProcess,
    readonly description: string,
  ) {
    this.pid = child.pid!;
    child.stdout!.on('data', (chunk: Buffer) => {
      this.#output.push(chunk);
      this.#wake?.();
    });
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      this.stderr += text;
      this.#wake?.();
    });
    // Writing to a peer that died is part of several tests; EPIPE must not escape.
    child.stdin!.on('error', () => {});
    child.on('error', (error) => {
      this.#spawnError ??= error;
      this.#wake?.();
    });
    // Once reaped, the PID may belong to someone else: never signal it again.
    child.once('exit', () => {
      this.#reaped = true;
    });
    // 'close', not 'exit': it comes once stdout is drained too, so `received` is final.
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        this.exit = { code, signal };
        this.#wake?.();
        resolve();
      });
    });
  }

  /** Starts `command` with piped stdio; throws at once if it cannot be started (ENOENT). */
  static start(command: string, args: readonly string[]): PeerProcess {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    if (child.pid === undefined) {
      // The 'error' event still comes; it must find a listener.
      child.on('error', () => {});
      throw new Error(`could not start ${command}; is it installed?`);
    }
    return new PeerProcess(child, `${command} ${args.join(' ')}`);
  }

  get received(): Buffer {
    return this.#output.bytes;
  }

  get running(): boolean {
    return this.exit === undefined && this.#spawnError === undefined;
  }

  write(data: Buffer | string): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    return new Promise((resolve, reject) => {
      this.child.stdin!.write(bytes, (error) => (error === null || error === undefined ? resolve() : reject(error)));
    });
  }

  /** Closes the program's stdin: socat then shuts its connection down and exits. */
  async close(): Promise<void> {
    this.child.stdin!.end();
  }

  /** Sends `signal` to this process, by its PID, if it still runs. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.#reaped || !this.running) return;
    try {
      process.kill(this.pid, signal);
    } catch (error: unknown) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }

  /** Kills the process if needed and waits, bounded, until it is reaped. */
  async stop(): Promise<void> {
    this.kill('SIGKILL');
    if (this.#spawnError !== undefined) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise((resolve) => (timer = setTimeout(resolve, STOP_MS)))]);
    clearTimeout(timer);
  }

  /** What went wrong so far, for failure messages. */
  state(): string {
    const output = this.received;
    const tail = JSON.stringify(output.subarray(Math.max(0, output.length - 80)).toString('latin1'));
    const status =
      this.#spawnError !== undefined
        ? `failed to start (${this.#spawnError.message})`
        : this.exit === undefined
          ? 'running'
          : `exited ${this.exit.code ?? this.exit.signal}`;
    const stderr = this.stderr.trim().split('\n').slice(-4).join(' | ');
    return `${this.description} [pid ${this.pid}, ${status}] received ${output.length} bytes ending ${tail}; stderr: ${stderr}`;
  }

  async until(done: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${this.state()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 50));
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Waits until stderr matches `pattern` and returns the match; fails early if the process ends first. */
  async stderrMatch(pattern: RegExp, what: string, timeoutMs = WAIT_MS): Promise<RegExpExecArray> {
    let match: RegExpExecArray | null = null;
    await this.until(() => (match = pattern.exec(this.stderr)) !== null || !this.running, what, timeoutMs);
    if (match === null) throw new Error(`${what}: the process ended first; ${this.state()}`);
    return match;
  }

  /** Waits, bounded, until the process has exited. */
  async waitForExit(what: string, timeoutMs = WAIT_MS): Promise<void> {
    await this.until(() => !this.running, what, timeoutMs);
  }
}
