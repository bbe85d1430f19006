import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { onPath } from './peer-process.js';

const run = promisify(execFile);

/** A serial terminal program that can open a pty chardev's /dev/pts/N. */
export interface TerminalProgram {
  readonly name: string;
  command(path: string): string;
  /** What to type to make it quit (tmux send-keys arguments). */
  readonly quitKeys: readonly string[];
}

/** The first terminal program installed, with a command line that opens `path` at 115200 baud. */
export function terminalProgram(): TerminalProgram | undefined {
  const programs: TerminalProgram[] = [
    { name: 'tio', command: (path) => `tio -b 115200 ${path}`, quitKeys: ['C-t', 'q'] },
    { name: 'picocom', command: (path) => `picocom -b 115200 ${path}`, quitKeys: ['C-a', 'C-x'] },
    { name: 'screen', command: (path) => `screen ${path} 115200`, quitKeys: ['C-a', '\\', 'y'] },
  ];
  return programs.find((program) => onPath(program.name));
}

/**
 * A tmux server of the test's own, on a socket in the test's temporary
 * directory (`tmux -S`), so that nothing else's sessions are touched and
 * kill() ends exactly this server. It exits by itself when its last
 * session ends; a later newSession() starts it again.
 */
export class TmuxServer {
  readonly socket: string;
  /** PIDs of the server processes this object started, for kill(). */
  readonly #pids = new Set<number>();

  constructor(dir: string) {
    this.socket = join(dir, 'tmux.sock');
  }

  async tmux(...args: string[]): Promise<string> {
    const { stdout } = await run('tmux', ['-S', this.socket, '-f', '/dev/null', ...args], {
      // A UTF-8 locale, so that the pane shows non-ASCII output as characters.
      env: { ...process.env, TERM: 'xterm', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' },
      timeout: 5_000,
    });
    return stdout;
  }

  /** Starts a detached 100x30 session running `command`. */
  async newSession(command: string): Promise<void> {
    await this.tmux('new-session', '-d', '-x', '100', '-y', '30', command);
    const pid = Number((await this.tmux('display-message', '-p', '#{pid}')).trim());
    if (Number.isInteger(pid) && pid > 0) this.#pids.add(pid);
  }

  /** The visible text of the pane. */
  capture(): Promise<string> {
    return this.tmux('capture-pane', '-p');
  }

  async sendKeys(...keys: string[]): Promise<void> {
    await this.tmux('send-keys', ...keys);
  }

  /** Types `text` literally. */
  async type(text: string): Promise<void> {
    await this.tmux('send-keys', '-l', text);
  }

  /** Ends the server: kill-server, then, should it still run, its PID. */
  async kill(): Promise<void> {
    await this.tmux('kill-server').catch(() => {});
    for (const pid of this.#pids) {
      try {
        process.kill(pid, 0);
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    this.#pids.clear();
  }
}
