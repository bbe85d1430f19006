/**
 * Told of every command a monitor answered: `command` is its name, or
 * undefined for a request that named no command the monitor has (so that
 * a client's made-up names cannot grow the tally); `outcome` is `ok` or
 * what the failure was (a QMP error class, or the human monitor's kind).
 */
export interface CommandObserver {
  answered(command: string | undefined, outcome: string): void;
}

/** Commands answered, counted by name and outcome (the `/metrics` page reads it). */
export class CommandTally implements CommandObserver {
  readonly #counts = new Map<string, number>();

  answered(command: string | undefined, outcome: string): void {
    const key = `${command ?? ''}\n${outcome}`;
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }

  /** Each name and outcome seen, with its count; an unknown command's name is ''. */
  *entries(): IterableIterator<{ command: string; outcome: string; count: number }> {
    for (const [key, count] of this.#counts) {
      const newline = key.indexOf('\n');
      yield { command: key.slice(0, newline), outcome: key.slice(newline + 1), count };
    }
  }
}
