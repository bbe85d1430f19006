import { ChardevdError } from '../../base/error.js';
import { MONITOR_WITHOUT_DESCRIPTORS } from '../../chardev/chardev.js';
import type { ChardevRegistry } from '../../chardev/registry.js';
import type { SessionFds } from '../../qmp/session-fds.js';
import { ChardevError } from '../../chardev/chardev-error.js';
import { SUPPORTED_KINDS } from '../../chardev/create.js';
import { ChardevHelpRequest, ChardevOptionError } from '../../chardev/option-error.js';
import { chardevBackendHelp, parseChardevOption } from '../../chardev/options.js';
import { checkChardevOption } from '../../chardev/check-option.js';
import { appendOptions, ID_ERROR, ID_HINT, QemuOptsError } from '../../options/qemu-opts.js';
import { parseObjectOption } from '../../objects/object-option.js';
import type { QmpCommands, QmpUncheckedCommands } from '../../generated/qapi-commands.gen.js';
import type { HmpArguments } from './command-line.js';

/** A command failed, printed as "Error: MESSAGE"; where a QMP command it ran failed, the message is that error's `desc`. */
export class HmpCommandError extends ChardevdError {
  override readonly name = 'HmpCommandError';
  readonly code = 'HMP_COMMAND_FAILED';
}

/** The QMP commands HMP runs: every one whose arguments the schema checks (device_add, `gen: false`, checks its own). */
export type HmpQmpCommand = Exclude<keyof QmpCommands, QmpUncheckedCommands>;

/**
 * Runs a QMP command in-process, as QEMU's hmp_* functions call the qmp_*
 * ones: same argument checks, same handler, same errors as for a QMP
 * client. Resolves with what the command returns; rejects with
 * HmpCommandError carrying the QMP error's `desc`.
 */
export type QmpCall = <K extends HmpQmpCommand>(command: K, args: QmpCommands[K]['arguments']) => Promise<QmpCommands[K]['returns']>;

/** What an interactive monitor connection offers the commands that need one. */
export interface InteractiveMonitor {
  /** The line history, oldest first (info history). */
  readonly history: readonly string[];
  /** Turns the connection into a raw terminal on the chardev; throws HmpCommandError to refuse. */
  enterConsole(id: string): void;
  /** Stops reading input and prompting (monitor_suspend), for quit: the daemon is going away. */
  suspend(): void;
}

/** What a command gets while it runs. */
export interface HmpCall {
  /** Adds to the command's output; lines end with "\n" (the monitor sends "\r\n"). */
  print(text: string): void;
  /** Runs a QMP command (see QmpCall). */
  readonly qmp: QmpCall;
  readonly chardevs: ChardevRegistry;
  /** The connection the command came from; undefined for human-monitor-command. */
  readonly monitor: InteractiveMonitor | undefined;
  /** The descriptors of that connection (getfd); undefined for human-monitor-command, whose monitor has none. */
  readonly monitorFds: SessionFds | undefined;
  /** Prints help for `name` (help_cmd), or for every command. */
  help(name: string | undefined): void;
  /** QEMU prints a deprecated alias's warning once per process; this set remembers which were printed. */
  readonly warnedAliases: Set<string>;
}

/** What the arguments of a command complete to after its name (besides the name itself). */
export type HmpCompletion = 'command' | 'chardev' | 'ringbuf';

/**
 * One entry of the command table (QEMU's HMPCommand from hmp-commands.hx):
 * `name` may list aliases separated by `|`; `argsType` is the
 * `key:type` list parseArguments reads; `params` and `help` are what
 * `help` prints, QEMU's own words for QEMU's commands.
 */
export interface HmpCommand {
  readonly name: string;
  readonly argsType: string;
  readonly params: string;
  readonly help: string;
  readonly subTable?: readonly HmpCommand[];
  /** Completion for the first argument. */
  readonly complete?: HmpCompletion;
  readonly run?: (call: HmpCall, args: HmpArguments) => void | Promise<void>;
}

/** The escape that leaves `console` and returns to the prompt: Ctrl-] (0x1d), as telnet and virsh console use. */
export const CONSOLE_ESCAPE_BYTE = 0x1d;
export const CONSOLE_ESCAPE_NAME = 'Ctrl-]';
/** The same in caret notation, as telnet shows its escape character. */
export const CONSOLE_ESCAPE_CARET = '^]';

const str = (args: HmpArguments, key: string): string => args.get(key) as string;

/** The `info` subcommands (hmp-commands-info.hx), chardevd's subset. */
const INFO_COMMANDS: readonly HmpCommand[] = [
  {
    name: 'chardev',
    argsType: '',
    params: '',
    help: 'show the character devices',
    async run(call) {
      // hmp_info_chardev: one "label: filename=..." line per chardev.
      for (const info of await call.qmp('query-chardev', undefined)) call.print(`${info.label}: filename=${info.filename}\n`);
    },
  },
  {
    name: 'history',
    argsType: '',
    params: '',
    help: 'show the command line history',
    run(call) {
      // hmp_info_history prints nothing where there is no line editor (human-monitor-command).
      call.monitor?.history.forEach((line, i) => call.print(`${i}: '${line}'\n`));
    },
  },
  {
    name: 'version',
    argsType: '',
    params: '',
    help: 'show the version of QEMU',
    async run(call) {
      // hmp_info_version: "MAJOR.MINOR.MICRO" immediately followed by the package string.
      const { qemu, package: pkg } = await call.qmp('query-version', undefined);
      call.print(`${qemu.major}.${qemu.minor}.${qemu.micro}${pkg}\n`);
    },
  },
];

/** The commands of chardevd's human monitor, QEMU's where QEMU has them. */
export const HMP_COMMANDS: readonly HmpCommand[] = [
  {
    name: 'help|?',
    argsType: 'name:S?',
    params: '[cmd]',
    help: 'show the help',
    complete: 'command',
    run(call, args) {
      call.help(args.get('name') as string | undefined);
    },
  },
  {
    name: 'info',
    argsType: 'item:s?',
    params: '[subcommand]',
    help: 'show various information about the system state',
    subTable: INFO_COMMANDS,
    run(call) {
      // `info` alone is `help info` (hmp_info_help).
      call.help('info');
    },
  },
  {
    name: 'chardev-add',
    argsType: 'args:s',
    params: 'args',
    help: 'add chardev',
    run: chardevAdd,
  },
  {
    name: 'chardev-change',
    argsType: 'id:s,args:s',
    params: 'id args',
    help: 'change chardev',
    complete: 'chardev',
    run: chardevChange,
  },
  {
    name: 'chardev-remove',
    argsType: 'id:s',
    params: 'id',
    help: 'remove chardev',
    complete: 'chardev',
    async run(call, args) {
      await call.qmp('chardev-remove', { id: str(args, 'id') });
    },
  },
  {
    name: 'chardev-send-break',
    argsType: 'id:s',
    params: 'id',
    help: 'send a break on chardev',
    complete: 'chardev',
    async run(call, args) {
      await call.qmp('chardev-send-break', { id: str(args, 'id') });
    },
  },
  {
    name: 'ringbuf_write',
    argsType: 'device:s,data:s',
    params: 'device data',
    help: 'Write to a ring buffer character device',
    complete: 'ringbuf',
    async run(call, args) {
      // Always the utf8 format (hmp_ringbuf_write).
      await call.qmp('ringbuf-write', { device: str(args, 'device'), data: str(args, 'data') });
    },
  },
  {
    name: 'ringbuf_read',
    argsType: 'device:s,size:i',
    params: 'device size',
    help: 'Read from a ring buffer character device',
    complete: 'ringbuf',
    async run(call, args) {
      // The size is taken as a uint32_t, then read in utf8 format (hmp_ringbuf_read).
      const size = Number(BigInt.asUintN(32, args.get('size') as bigint));
      const text = await call.qmp('ringbuf-read', { device: str(args, 'device'), size });
      call.print(`${escapeControlCharacters(text)}\n`);
    },
  },
  {
    name: 'object_add',
    argsType: 'object:S',
    params: '[qom-type=]type,id=str[,prop=value][,...]',
    help: 'create QOM object',
    run: objectAdd,
  },
  {
    name: 'object_del',
    argsType: 'id:s',
    params: 'id',
    help: 'destroy QOM object',
    async run(call, args) {
      await call.qmp('object-del', { id: str(args, 'id') });
    },
  },
  {
    name: 'getfd',
    argsType: 'fdname:s',
    params: 'getfd name',
    help: 'receive a file descriptor via SCM rights and assign it a name',
    async run(call, args) {
      // The descriptor passed with the command line (on a unix socket); human-monitor-command's have none.
      await call.qmp('getfd', { fdname: str(args, 'fdname') });
    },
  },
  {
    name: 'closefd',
    argsType: 'fdname:s',
    params: 'closefd name',
    help: 'close a file descriptor previously passed via SCM rights',
    async run(call, args) {
      await call.qmp('closefd', { fdname: str(args, 'fdname') });
    },
  },
  {
    name: 'console',
    argsType: 'id:s',
    params: 'id',
    help: `connect this monitor to chardev 'id' as a raw terminal (${CONSOLE_ESCAPE_NAME} returns to the monitor)`,
    complete: 'chardev',
    run(call, args) {
      const id = str(args, 'id');
      if (call.monitor === undefined) throw new HmpCommandError('console needs an interactive monitor connection (-monitor or -mon), not human-monitor-command');
      call.monitor.enterConsole(id);
    },
  },
  {
    name: 'quit|q',
    argsType: '',
    params: '',
    help: 'quit the emulator',
    async run(call) {
      // hmp_quit: no further prompt or input on this monitor, then the daemon stops.
      call.monitor?.suspend();
      await call.qmp('quit', undefined);
    },
  },
];

/**
 * ringbuf_read's escaping: a backslash doubled, control characters other
 * than newline and tab, and DEL, as \uXXXX with four uppercase hex digits;
 * everything else as it is.
 */
export function escapeControlCharacters(text: string): string {
  let out = '';
  for (const c of text) {
    const code = c.codePointAt(0)!;
    if (c === '\\') out += '\\\\';
    else if ((code < 0x20 && c !== '\n' && c !== '\t') || code === 0x7f) out += `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += c;
  }
  return out;
}

/**
 * object_add OBJECT (hmp_object_add): the rest of the line in `-object`'s
 * syntax, key=value or JSON. A malformed id gets QEMU's rule as a second
 * line, as error_report_err prints its hint.
 */
async function objectAdd(call: HmpCall, args: HmpArguments): Promise<void> {
  let options;
  try {
    options = parseObjectOption(str(args, 'object'));
  } catch (error: unknown) {
    if (!(error instanceof QemuOptsError)) throw error;
    throw new HmpCommandError(error.message === ID_ERROR ? `${ID_ERROR}\n${ID_HINT}` : error.message);
  }
  await call.qmp('object-add', options);
}

/** QMP's prefix for a chardev that cannot be created; QEMU's human monitor reports the reason alone. */
const addPrefix = (id: string): string => `Failed to add chardev '${id}': `;

/**
 * chardev-add ARGS (hmp_chardev_add): the `-chardev` syntax, read in
 * QEMU's two steps. Mistakes in the option text are printed, then
 * "Error: Parsing chardev args failed"; what creating the chardev refuses
 * is printed after "Error: ". Deprecation warnings come first, without it.
 */
async function chardevAdd(call: HmpCall, args: HmpArguments): Promise<void> {
  const text = str(args, 'args');
  const checked = checkOptionText(call, text);
  if (checked === undefined) return;
  let parsed;
  try {
    parsed = parseChardevOption(text, { warnedAliases: call.warnedAliases });
  } catch (error: unknown) {
    if (!(error instanceof ChardevOptionError)) throw error;
    printWarnings(call, error.warnings.slice(checked.warnings.length));
    if (error instanceof ChardevHelpRequest && error.topic === 'backends') {
      // The list of what chardevd creates, in QEMU's layout (qemu_chr_new_from_opts prints it to the monitor).
      call.print(`${chardevBackendHelp(SUPPORTED_KINDS)}\n`);
      return;
    }
    throw new HmpCommandError(error.message);
  }
  printWarnings(call, parsed.warnings.slice(checked.warnings.length));
  if (parsed.mux) {
    // ID-base first, then ID; each taken id is worded as below.
    try {
      await call.chardevs.addMuxed(parsed.id, parsed.backend, call.monitorFds ?? MONITOR_WITHOUT_DESCRIPTORS);
    } catch (error: unknown) {
      if (error instanceof ChardevError) throw new HmpCommandError(error.message);
      throw error;
    }
    return;
  }
  // QEMU's human monitor words a duplicate as the object tree does (object_property_try_add_child).
  if (call.chardevs.get(parsed.id) !== undefined) throw new HmpCommandError(`attempt to add duplicate property '${parsed.id}' to object (type 'container')`);
  try {
    await call.qmp('chardev-add', { id: parsed.id, backend: parsed.backend });
  } catch (error: unknown) {
    if (error instanceof HmpCommandError && error.message.startsWith(addPrefix(parsed.id))) {
      throw new HmpCommandError(error.message.slice(addPrefix(parsed.id).length));
    }
    throw error;
  }
}

/**
 * chardev-change ID ARGS (hmp_chardev_change): ARGS is a `-chardev`
 * string without an id; the backend it describes replaces the chardev's.
 */
async function chardevChange(call: HmpCall, args: HmpArguments): Promise<void> {
  const id = str(args, 'id');
  const text = str(args, 'args');
  const checked = checkOptionText(call, text);
  if (checked === undefined) return;
  if (checked.id !== undefined) throw new HmpCommandError("Unexpected 'id' parameter");
  let parsed;
  try {
    // A stand-in id: QEMU reads the backend without one, and checks ID only when changing.
    parsed = parseChardevOption(appendOptions(text, 'id=x'), { warnedAliases: call.warnedAliases });
  } catch (error: unknown) {
    if (!(error instanceof ChardevOptionError)) throw error;
    printWarnings(call, error.warnings.slice(checked.warnings.length));
    throw new HmpCommandError(error.message);
  }
  printWarnings(call, parsed.warnings.slice(checked.warnings.length));
  await call.qmp('chardev-change', { id, backend: parsed.backend });
}

/**
 * The first step of reading a `-chardev` string (qemu_opts_parse_noisily):
 * undefined, after printing QEMU's messages, when the text is refused.
 */
function checkOptionText(call: HmpCall, text: string): { id: string | undefined; warnings: readonly string[] } | undefined {
  try {
    const checked = checkChardevOption(text);
    printWarnings(call, checked.warnings);
    return checked;
  } catch (error: unknown) {
    if (!(error instanceof ChardevOptionError)) throw error;
    printWarnings(call, error.warnings);
    // QEMU prints BACKEND,help's option list on its standard output, where a
    // monitor user never sees it; chardevd prints it on the monitor.
    if (error instanceof ChardevHelpRequest) {
      call.print(`${error.message}\n`);
      return undefined;
    }
    call.print(`${error.message}\n`);
    throw new HmpCommandError('Parsing chardev args failed');
  }
}

function printWarnings(call: HmpCall, warnings: readonly string[]): void {
  for (const warning of warnings) call.print(`${warning}\n`);
}
