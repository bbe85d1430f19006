import type { Disposable } from '../base/lifecycle.js';
import { closeFds } from '../base/fd-passing.js';

/**
 * The descriptors one QMP connection holds: those that arrived with its
 * input (SCM_RIGHTS) and wait for a command to claim them, and those named
 * with getfd. In QEMU received descriptors wait in the monitor's chardev
 * until a command takes them or the next message with descriptors replaces
 * them (tcp_chr_recv), and named ones belong to the monitor and outlive the
 * connection. Here the next command to run has them: what it does not claim
 * is closed when it is answered, and everything the connection still holds
 * is closed when it goes away.
 */
export class SessionFds implements Disposable {
  /** Arrived, no command run since. */
  #pending: number[] = [];
  /** The running command's to claim. */
  #current: number[] = [];
  readonly #named = new Map<string, number>();
  #disposed = false;

  /** Descriptors that came with input; those still waiting from before are closed, as QEMU replaces them. */
  arrived(fds: readonly number[]): void {
    if (this.#disposed) {
      closeFds(fds);
      return;
    }
    closeFds(this.#pending);
    this.#pending = [...fds];
  }

  /** A command starts: the descriptors waiting are its to claim. */
  commandStarted(): void {
    closeFds(this.#current);
    this.#current = this.#pending;
    this.#pending = [];
  }

  /** The command was answered: what it left is closed. */
  commandEnded(): void {
    closeFds(this.#current);
    this.#current = [];
  }

  /**
   * Takes the running command's descriptor (qemu_chr_fe_get_msgfd): the
   * first that came, the others closed; undefined when none came.
   */
  claim(): number | undefined {
    const [fd, ...rest] = this.#current;
    closeFds(rest);
    this.#current = [];
    return fd;
  }

  /** Names `fd` (getfd); a descriptor that had the name is closed. */
  setNamed(name: string, fd: number): void {
    const old = this.#named.get(name);
    this.#named.set(name, fd);
    if (old !== undefined) closeFds([old]);
  }

  /**
   * Takes the named descriptor out of the table (QEMU's monitor_get_fd):
   * the caller, a chardev, owns it now, and the connection's end does not
   * close it; undefined when there is none.
   */
  take(name: string): number | undefined {
    const fd = this.#named.get(name);
    this.#named.delete(name);
    return fd;
  }

  /** Closes the named descriptor (closefd); false when there is none. */
  closeNamed(name: string): boolean {
    const fd = this.#named.get(name);
    if (fd === undefined) return false;
    this.#named.delete(name);
    closeFds([fd]);
    return true;
  }

  /** How many descriptors the connection holds, waiting or named. */
  get count(): number {
    return this.#pending.length + this.#current.length + this.#named.size;
  }

  dispose(): void {
    this.#disposed = true;
    closeFds([...this.#pending, ...this.#current, ...this.#named.values()]);
    this.#pending = [];
    this.#current = [];
    this.#named.clear();
  }
}
