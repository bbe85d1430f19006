import { commandNameAt, HmpArgumentError, parseArguments, splitWords } from './command-line.js';
import { type HmpCall, HmpCommandError, type HmpCommand, HMP_COMMANDS } from './commands.js';
import { isSpace } from './expression.js';
import type { CommandObserver } from '../../qmp/command-tally.js';

/** What a command line asks for, once its name is resolved. */
interface ResolvedCommand {
  readonly command: HmpCommand;
  /** Where the arguments start (after the name and the spaces behind it). */
  readonly argsStart: number;
  /** The command's first name, after `info ` for a subcommand (`info chardev`). */
  readonly name: string;
}

/** Names of a table entry: `help|?` is `help` and `?`. */
function namesOf(command: HmpCommand): string[] {
  return command.name.split('|');
}

function matches(word: string, command: HmpCommand): boolean {
  return namesOf(command).includes(word);
}

/** QEMU sorts its tables by name at startup (sortcmdlist), so help and completion list them in that order. */
function sorted(table: readonly HmpCommand[]): HmpCommand[] {
  return [...table].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The output of one command, as human-monitor-command returns it: every "\n" sent as "\r\n" (monitor_puts). */
export function monitorText(text: string): string {
  return text.replace(/\n/g, '\r\n');
}

/**
 * Runs human monitor command lines (monitor/hmp.c handle_hmp_command):
 * finds the command, parses its arguments, runs it, and prints what QEMU
 * prints for each failure. The same instance serves every monitor
 * connection and human-monitor-command.
 */
export class HmpInterpreter {
  readonly #table: readonly HmpCommand[];
  /** QEMU prints a deprecated backend alias's warning once per process, whichever monitor uses it. */
  readonly warnedAliases = new Set<string>();

  constructor(
    table: readonly HmpCommand[] = HMP_COMMANDS,
    /** Told of every line run (the daemon's metrics): the command's first name, `ok`, `error` or `bad-arguments`. */
    private readonly observer?: CommandObserver,
  ) {
    this.#table = sorted(table);
  }

  /** Runs one line; everything it prints goes to `call.print`. Never rejects for bad input. */
  async execute(line: string, call: HmpCall): Promise<void> {
    const resolved = this.#resolve(line, call);
    if (resolved === undefined) {
      if (line.trim() !== '') this.observer?.answered(undefined, 'error');
      return;
    }
    const { command, argsStart, name } = resolved;
    let args;
    try {
      // Messages name the table entry as written, aliases included ("quit|q: ...").
      args = parseArguments(command.name, command.argsType, line, argsStart);
    } catch (error: unknown) {
      if (!(error instanceof HmpArgumentError)) throw error;
      call.print(`${error.message}\n`);
      // The command as typed, leading spaces kept and trailing ones dropped.
      let end = argsStart;
      while (end > 0 && isSpace(line[end - 1])) end--;
      call.print(`Try "help ${line.slice(0, end)}" for more information\n`);
      this.observer?.answered(name, 'bad-arguments');
      return;
    }
    try {
      await command.run!(call, args);
    } catch (error: unknown) {
      if (!(error instanceof HmpCommandError)) throw error;
      // hmp_handle_error
      call.print(`Error: ${error.message}\n`);
      this.observer?.answered(name, 'error');
      return;
    }
    this.observer?.answered(name, 'ok');
  }

  /** monitor_parse_command: the table entry, descending into `info`'s subcommands. */
  #resolve(line: string, call: HmpCall): ResolvedCommand | undefined {
    let table = this.#table;
    let pos = 0;
    const names: string[] = [];
    for (;;) {
      const name = commandNameAt(line, pos);
      if (name === undefined) return undefined;
      const command = table.find((entry) => matches(name.name, entry));
      if (command === undefined) {
        call.print(`unknown command: '${line.slice(0, name.end)}'\n`);
        return undefined;
      }
      pos = name.end;
      while (isSpace(line[pos])) pos++;
      names.push(namesOf(command)[0]!);
      if (command.subTable === undefined || pos >= line.length) return { command, argsStart: pos, name: names.join(' ') };
      table = sorted(command.subTable);
    }
  }

  /** help_cmd: one command's help line, a subtable's lines, or every line. */
  help(name: string | undefined, print: (text: string) => void): void {
    const words = name === undefined ? [] : splitWords(name);
    // A line QEMU cannot split (an unterminated quote, too many words) prints nothing.
    if (words === undefined) return;
    let table = this.#table;
    for (let i = 0; ; i++) {
      const prefix = words
        .slice(0, i)
        .map((word) => `${word} `)
        .join('');
      if (i >= words.length) {
        for (const command of table) print(`${prefix}${helpLine(command)}\n`);
        return;
      }
      const command = table.find((entry) => matches(words[i]!, entry));
      if (command === undefined) {
        print(`unknown command: '${words.slice(0, i + 1).join(' ')}'\n`);
        return;
      }
      if (command.subTable === undefined) {
        print(`${prefix}${helpLine(command)}\n`);
        return;
      }
      table = sorted(command.subTable);
    }
  }

  /**
   * Tab completion (monitor_find_completion): the candidates for the last
   * word of `line` (the text before the cursor) and where that word
   * starts. Command names complete in the first word (each alias on its
   * own), `info` subcommands in the second, and command names again after
   * `help`; a command's first argument completes to chardev ids where it
   * names a chardev.
   */
  complete(line: string, chardevIds: () => { id: string; ringbuf: boolean }[]): { start: number; candidates: string[] } {
    const words = splitWords(line);
    if (words === undefined) return { start: line.length, candidates: [] };
    if (line.length > 0 && isSpace(line[line.length - 1])) {
      if (words.length >= 16) return { start: line.length, candidates: [] };
      words.push('');
    }
    const last = words[words.length - 1] ?? '';
    return { start: line.length - last.length, candidates: this.#completeIn(this.#table, words, chardevIds) };
  }

  #completeIn(table: readonly HmpCommand[], words: string[], chardevIds: () => { id: string; ringbuf: boolean }[]): string[] {
    if (words.length <= 1) {
      const prefix = words[0] ?? '';
      return table.flatMap(namesOf).filter((name) => name.startsWith(prefix));
    }
    const command = table.find((entry) => matches(words[0]!, entry));
    if (command === undefined) return [];
    if (command.subTable !== undefined) return this.#completeIn(sorted(command.subTable), words.slice(1), chardevIds);
    const word = words[words.length - 1]!;
    switch (command.complete) {
      case 'command':
        return this.#completeIn(table, words.slice(1), chardevIds);
      case 'chardev':
      case 'ringbuf':
        // Only the first argument names a chardev.
        if (words.length !== 2) return [];
        return chardevIds()
          .filter((c) => command.complete === 'chardev' || c.ringbuf)
          .map((c) => c.id)
          .filter((id) => id.startsWith(word));
      default:
        return [];
    }
  }
}

/** help_cmd_dump_one: "NAME PARAMS -- HELP" (two spaces where there are no parameters). */
function helpLine(command: HmpCommand): string {
  return `${command.name} ${command.params} -- ${command.help}`;
}
