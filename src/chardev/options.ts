import type {
  ChardevBackend,
  ChardevBackendKind,
  ChardevCommon,
  ChardevFile,
  ChardevHub,
  ChardevSocket,
  ChardevUdp,
  ChardevVC,
  InetSocketAddress,
  SocketAddressLegacy,
} from '../generated/qapi-types.gen.js';
import { ID_ERROR, ID_HINT, isWellFormedId, parseOnOff, QemuOptsError } from '../options/qemu-opts.js';
import { parseQemuSize } from '../options/qemu-size.js';
import { HUB_MEMBER_LIMIT } from './hub.js';

/**
 * The `-chardev` option syntax of QEMU 7.2, read into the same QAPI
 * ChardevBackend that QMP chardev-add takes, so that creating the chardev
 * afterwards gives QEMU's answers for both paths.
 *
 * QEMU handles `-chardev TEXT` in two steps, and the errors come in that
 * order:
 *  1. while reading the command line (util/qemu-option.c opts_parse): the
 *     id is checked, then every option in turn against the option list
 *     `qemu_chardev_opts` (unknown names, booleans, numbers, sizes);
 *  2. when the chardevs are created (chardev/char.c qemu_chr_new_from_opts):
 *     help, the missing id, the missing or unknown backend, then the
 *     backend's own `parse` function, which builds the QAPI object.
 * What the backend's `open` refuses (a ringbuf size that is not a power of
 * two, a socket `wait` on a client, ...) is not checked here: the object is
 * returned exactly as QEMU's parse builds it, and the chardev layer refuses
 * it with QEMU's text, as it does for chardev-add.
 */

/** A `-chardev` value QEMU would refuse; the message is QEMU's text without the "-chardev TEXT: " location prefix. */
export class ChardevOptionError extends Error {
  override readonly name: string = 'ChardevOptionError';

  constructor(
    message: string,
    /** Warnings QEMU prints before the error, as in ParsedChardevOption.warnings. */
    readonly warnings: readonly string[] = [],
  ) {
    super(message);
  }
}

/**
 * `-chardev help` (the backend list) or `-chardev BACKEND,help` (the
 * option list). QEMU prints the text on standard output and exits, with
 * status 0 for the backend list and 1 for the option list.
 */
export class ChardevHelpRequest extends ChardevOptionError {
  override readonly name: string = 'ChardevHelpRequest';

  constructor(
    readonly topic: 'backends' | 'options',
    /** What to print: for 'backends' the kinds this parser knows; a caller that creates fewer prints chardevBackendHelp(itsKinds). */
    text: string,
    warnings: readonly string[],
  ) {
    super(text, warnings);
  }

  get exitStatus(): number {
    return this.topic === 'backends' ? 0 : 1;
  }
}

export interface ParsedChardevOption {
  readonly id: string;
  readonly backend: ChardevBackend;
  /**
   * `mux=on`: QEMU creates the backend with id `ID-base` and a mux chardev
   * `ID` on top of it (qemu_chr_new_from_opts).
   */
  readonly mux: boolean;
  /**
   * Deprecation warnings QEMU prints for the text, in its order and words,
   * each starting with "warning: " as QEMU prints it after the location
   * prefix; a second line ("Please use ...") follows a newline.
   */
  readonly warnings: string[];
}

export interface ParseChardevOptionSettings {
  /**
   * QEMU prints an alias's deprecation warning once per process
   * (chardev_alias_table's deprecation_warning_printed). Pass the same set
   * to every call to get that; the aliases already warned about are kept in it.
   */
  readonly warnedAliases?: Set<string>;
}

type OptionType = 'str' | 'bool' | 'num' | 'size';

/**
 * QEMU 7.2's `qemu_chardev_opts` (chardev/char.c) in its order, then
 * chardevd's extensions. Every backend accepts every name, as in QEMU:
 * a backend just ignores what it does not read.
 */
const OPTION_TYPES: ReadonlyMap<string, OptionType> = new Map<string, OptionType>([
  ['backend', 'str'],
  ['path', 'str'],
  ['host', 'str'],
  ['port', 'str'],
  ['fd', 'str'],
  ['localaddr', 'str'],
  ['localport', 'str'],
  ['to', 'num'],
  ['ipv4', 'bool'],
  ['ipv6', 'bool'],
  ['wait', 'bool'],
  ['server', 'bool'],
  ['delay', 'bool'],
  ['nodelay', 'bool'],
  ['reconnect', 'num'],
  ['telnet', 'bool'],
  ['tn3270', 'bool'],
  ['tls-creds', 'str'],
  ['tls-authz', 'str'],
  ['websocket', 'bool'],
  ['width', 'num'],
  ['height', 'num'],
  ['cols', 'num'],
  ['rows', 'num'],
  ['mux', 'bool'],
  ['signal', 'bool'],
  ['name', 'str'],
  ['debug', 'num'],
  ['size', 'size'],
  ['chardev', 'str'],
  ['append', 'bool'],
  ['logfile', 'str'],
  ['logappend', 'bool'],
  ['mouse', 'bool'],
  ['clipboard', 'bool'],
  // Linux only in QEMU; `tight` defaults to on (def_value_str).
  ['tight', 'bool'],
  ['abstract', 'bool'],
  // chardevd's extensions (schema feature chardevd-extension). QEMU 7.2
  // refuses them as "Invalid parameter"; input-path and reconnect-ms are the
  // spellings of later QEMU versions (8.1 and 9.2).
  ['logsize', 'size'],
  ['logbackups', 'num'],
  ['input-path', 'str'],
  ['reconnect-ms', 'num'],
  ['clients', 'num'],
  // The hub backend is QEMU 10.0's, which names its members chardevs.0 to
  // chardevs.3; chardevd takes up to chardevs.255 (HUB_MEMBER_LIMIT, see
  // optionType). backpressure, queue-size and history are chardevd's.
  ['chardevs.0', 'str'],
  ['chardevs.1', 'str'],
  ['chardevs.2', 'str'],
  ['chardevs.3', 'str'],
  ['backpressure', 'bool'],
  ['queue-size', 'size'],
  ['history', 'size'],
]);

/** An option's type; `chardevs.N` beyond QEMU's four are accepted up to the hub member limit. */
function optionType(name: string): OptionType | undefined {
  const listed = OPTION_TYPES.get(name);
  if (listed !== undefined) return listed;
  const member = /^chardevs\.(0|[1-9][0-9]{0,3})$/.exec(name);
  return member !== null && Number(member[1]) < HUB_MEMBER_LIMIT ? 'str' : undefined;
}

/** Options whose absence reads as a value (QemuOptDesc def_value_str). */
const OPTION_DEFAULTS: ReadonlyMap<string, string> = new Map([['tight', 'on']]);

/** Deprecated backend names (chardev/char.c chardev_alias_table, Linux build). */
const ALIASES: ReadonlyMap<string, ChardevBackendKind> = new Map<string, ChardevBackendKind>([
  ['parport', 'parallel'],
  ['tty', 'serial'],
]);

/**
 * The backend names Debian's QEMU 7.2 finds a `chardev-NAME` class for,
 * modules included (braille, spicevmc, spiceport and dbus are loadable
 * modules there). `console` is Windows only, so QEMU on Linux does not know it.
 */
const DRIVERS: ReadonlySet<string> = new Set<ChardevBackendKind>([
  'file',
  'serial',
  'parallel',
  'pipe',
  'socket',
  'udp',
  'pty',
  'null',
  'mux',
  'hub',
  'msmouse',
  'wctablet',
  'braille',
  'testdev',
  'stdio',
  'spicevmc',
  'spiceport',
  'qemu-vdagent',
  'dbus',
  'vc',
  'ringbuf',
  'memory',
]);

/** Abstract chardev classes: QEMU names them but cannot create them (char_get_class). */
const ABSTRACT_DRIVERS: ReadonlySet<string> = new Set(['fd', 'spice']);

const UINT32_MAX = 0xffffffffn;

const ID_ERROR_WITH_HINT = `${ID_ERROR}\n${ID_HINT}`;

/** QEMU's help listing for `-chardev help`, given the backend names to list. */
export function chardevBackendHelp(kinds: readonly string[]): string {
  return `Available chardev backend types: ${kinds.map((kind) => `\n  ${kind}`).join('')}`;
}

/**
 * QEMU's listing for `-chardev BACKEND,help` (qemu_opts_print_help): every
 * option with its type, sorted by the printed line; chardevd's extensions
 * are listed too, since chardevd accepts them.
 */
export function chardevOptionsHelp(): string {
  const typeText: { readonly [T in OptionType]: string } = { str: 'str', bool: 'bool (on/off)', num: 'num', size: 'size' };
  const lines = [...OPTION_TYPES].map(([name, type]) => `  ${name}=<${typeText[type]}>`);
  lines.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return ['chardev options:', ...lines].join('\n');
}

/** Parses one `-chardev` value; throws ChardevOptionError with QEMU's text where QEMU refuses it. */
export function parseChardevOption(text: string, settings: ParseChardevOptionSettings = {}): ParsedChardevOption {
  const warnings: string[] = [];
  const fail = (message: string): ChardevOptionError => new ChardevOptionError(message, [...warnings]);

  // Step 1: the command line (opts_parse). The id is looked up first, with
  // the plain tokenizer (no implied backend name, so `ringbuf,,id=a` has id
  // "a" although the backend then swallows ",id=a"); the first `id` wins.
  const id = scanId(text);
  if (id !== undefined && !isWellFormedId(id)) throw fail(ID_ERROR_WITH_HINT);

  const opts = new ParsedOpts();
  let implied: string | undefined = 'backend';
  for (let pos = 0; pos < text.length; ) {
    const token = nextToken(text, pos, implied);
    pos = token.next;
    implied = undefined;
    if (token.shortForm !== undefined) warnings.push(shortFormWarning(token.name, token.value, token.shortForm));
    if (token.help) throw new ChardevHelpRequest('options', chardevOptionsHelp(), [...warnings]);
    // opts_do_parse skips id options: the id is the QemuOpts' own.
    if (token.name === 'id') continue;
    opts.add(validateOption(token.name, token.value, warnings, fail));
  }

  // Step 2: creation (qemu_chr_new_from_opts, qemu_chr_parse_opts).
  let name = opts.get('backend');
  const alias = name === undefined ? undefined : ALIASES.get(name);
  if (name !== undefined && alias !== undefined) {
    if (settings.warnedAliases?.has(name) !== true) {
      warnings.push(`warning: The alias '${name}' is deprecated, use '${alias}' instead`);
      settings.warnedAliases?.add(name);
    }
    name = alias;
  }
  if (name === 'help' || name === '?') throw new ChardevHelpRequest('backends', chardevBackendHelp([...DRIVERS]), [...warnings]);
  if (id === undefined) throw fail('chardev: no id specified');
  if (name === undefined) throw fail(`chardev: "${id}" missing backend`);
  if (ABSTRACT_DRIVERS.has(name)) {
    // Debian's 7.2 build prints "non-abstract"; the 7.2.0 tarball's text lacks the "non-".
    throw fail("Parameter 'driver' expects a non-abstract device type");
  }
  if (!DRIVERS.has(name)) throw fail(`'${name}' is not a valid char driver name`);

  const backend = parseBackend(name as ChardevBackendKind, opts, fail);
  return { id, backend, mux: opts.getBool('mux', false), warnings };
}

interface Token {
  readonly name: string;
  readonly value: string;
  /** Set for a bare word such as `server` or `nowait`: "" or "no", the prefix QEMU stripped. */
  readonly shortForm: '' | 'no' | undefined;
  /** A bare `help` or `?`. */
  readonly help: boolean;
  /** Where the next option starts. */
  readonly next: number;
}

/**
 * One option from `text` at `pos`, as util/qemu-option.c get_opt_name_value
 * reads it. A name ends at the first `=` or `,` and has no escapes; only
 * values (and the implied first value) turn `,,` into a comma. So
 * `a,,b=c` is the bare word `a`, then an empty bare word, then `b=c`:
 * splitQemuOpts, which unescapes the whole text first, reads it as one
 * option `a,b=c`, which is why it is not used here.
 */
function nextToken(text: string, pos: number, implied: string | undefined): Token {
  let end = pos;
  while (end < text.length && text[end] !== '=' && text[end] !== ',') end++;
  let name: string;
  let value: string;
  let shortForm: Token['shortForm'];
  let help = false;
  let p: number;
  if (text[end] !== '=') {
    if (implied !== undefined) {
      name = implied;
      [value, p] = readValue(text, pos);
    } else {
      // A bare word is a boolean: `word` is word=on, `noword` is word=off.
      const word = text.slice(pos, end);
      p = end;
      if (word.startsWith('no')) {
        name = word.slice(2);
        value = 'off';
        shortForm = 'no';
      } else {
        name = word;
        value = 'on';
        help = word === 'help' || word === '?';
        shortForm = help ? undefined : '';
      }
    }
  } else {
    name = text.slice(pos, end);
    [value, p] = readValue(text, end + 1);
  }
  if (text[p] === ',') p++;
  return { name, value, shortForm, help, next: p };
}

/** A value up to the first single comma, `,,` standing for one comma (get_opt_value). */
function readValue(text: string, pos: number): [string, number] {
  let value = '';
  let p = pos;
  for (;;) {
    const comma = text.indexOf(',', p);
    if (comma < 0) return [value + text.slice(p), text.length];
    if (text[comma + 1] !== ',') return [value + text.slice(p, comma), comma];
    value += text.slice(p, comma + 1);
    p = comma + 2;
  }
}

/** opts_parse_id: the first `id` option's value, read without an implied first name. */
function scanId(text: string): string | undefined {
  for (let pos = 0; pos < text.length; ) {
    const token = nextToken(text, pos, undefined);
    if (token.name === 'id') return token.value;
    pos = token.next;
  }
  return undefined;
}

/** QEMU 6.0's deprecation warning for a bare boolean word (get_opt_name_value). */
function shortFormWarning(name: string, value: string, prefix: '' | 'no'): string {
  // `delay` is the negation of `nodelay`, so QEMU names the replacement by nodelay.
  const replacement = name === 'delay' ? `nodelay=${prefix === 'no' ? 'on' : 'off'}` : `${name}=${value}`;
  return `warning: short-form boolean option '${prefix}${name}' deprecated\nPlease use ${replacement} instead`;
}

interface ParsedOpt {
  readonly name: string;
  readonly text: string;
  readonly bool?: boolean;
  readonly uint?: bigint;
}

/** opt_validate: the option must be in the list, and its value must parse as the listed type. */
function validateOption(name: string, value: string, warnings: string[], fail: (message: string) => ChardevOptionError): ParsedOpt {
  const type = optionType(name);
  if (type === undefined) throw fail(`Invalid parameter '${name}'`);
  try {
    switch (type) {
      case 'str':
        return { name, text: value };
      case 'bool':
        return { name, text: value, bool: parseOnOff(name, value) };
      case 'num':
        return { name, text: value, uint: parseOptionNumber(name, value) };
      case 'size':
        return { name, text: value, uint: parseQemuSize(name, value, (message) => warnings.push(`warning: ${message}`)) };
    }
  } catch (error: unknown) {
    if (error instanceof QemuOptsError) throw fail(error.message);
    throw error;
  }
}

/**
 * A number option (util/qemu-option.c parse_option_number): strtoull in
 * base 0, so hex `0x10` and octal `010` too, leading white space and a
 * sign allowed, a negative number wrapping modulo 2^64 as strtoull does,
 * and nothing may follow. qemu-opts.ts has no number parser, hence this one.
 */
function parseOptionNumber(name: string, value: string): bigint {
  const match = /^[ \t\n\v\f\r]*([+-]?)(?:0[xX]([0-9a-fA-F]+)|0([0-7]*)|([1-9][0-9]*))$/.exec(value);
  if (match === null) throw new QemuOptsError(`Parameter '${name}' expects a number`);
  const [, sign, hex, octal, decimal] = match;
  const magnitude = hex !== undefined ? BigInt(`0x${hex}`) : octal !== undefined ? BigInt(`0o${octal || '0'}`) : BigInt(decimal ?? '0');
  if (magnitude > 2n ** 64n - 1n) throw new QemuOptsError(`Value '${value}' is too large for parameter '${name}'`);
  return sign === '-' ? BigInt.asUintN(64, -magnitude) : magnitude;
}

/** The options of one QemuOpts; a repeated name's last value wins (qemu_opt_find searches backwards). */
class ParsedOpts {
  readonly #opts: ParsedOpt[] = [];

  add(opt: ParsedOpt): void {
    this.#opts.push(opt);
  }

  /** qemu_opt_find: given explicitly (a default does not count). */
  has(name: string): boolean {
    return this.#find(name) !== undefined;
  }

  /** qemu_opt_get: the text, or the list's default. */
  get(name: string): string | undefined {
    return this.#find(name)?.text ?? OPTION_DEFAULTS.get(name);
  }

  getBool(name: string, fallback: boolean): boolean {
    const opt = this.#find(name);
    if (opt !== undefined) return opt.bool!;
    const text = OPTION_DEFAULTS.get(name);
    return text === undefined ? fallback : parseOnOff(name, text);
  }

  /** qemu_opt_get_number / qemu_opt_get_size: a uint64. */
  getUint(name: string, fallback: bigint): bigint {
    return this.#find(name)?.uint ?? fallback;
  }

  #find(name: string): ParsedOpt | undefined {
    for (let i = this.#opts.length - 1; i >= 0; i--) {
      const opt = this.#opts[i]!;
      if (opt.name === name) return opt;
    }
    return undefined;
  }
}

/** A uint64 stored into a C int64_t, as QEMU's parse functions do. */
function asInt64(value: bigint): number {
  return Number(BigInt.asIntN(64, value));
}

/** A uint64 stored into a C int (ringbuf size, vc geometry): the low 32 bits, signed. */
function asCInt(value: bigint): number {
  return Number(BigInt.asIntN(32, value));
}

/** A chardevd uint32 member; out of range is what the QMP input visitor says for the same member. */
function asUint32(name: string, value: bigint, fail: (message: string) => ChardevOptionError): number {
  if (value > UINT32_MAX) throw fail(`Parameter '${name}' expects uint32`);
  return Number(value);
}

/**
 * qemu_chr_parse_common: logfile when given, logappend always (false by
 * default); plus chardevd's log rotation members when given.
 */
function parseCommon(opts: ParsedOpts, fail: (message: string) => ChardevOptionError): ChardevCommon {
  const common: ChardevCommon = {};
  const logfile = opts.get('logfile');
  if (logfile !== undefined) common.logfile = logfile;
  common.logappend = opts.getBool('logappend', false);
  // A number, as the QMP input visitor gives a 'size' member (exact up to 2^53).
  if (opts.has('logsize')) common.logsize = Number(opts.getUint('logsize', 0n));
  if (opts.has('logbackups')) common.logbackups = asUint32('logbackups', opts.getUint('logbackups', 0n), fail);
  return common;
}

/** The backend's `parse` function of QEMU 7.2 (or qemu_chr_parse_common alone for backends without one). */
function parseBackend(kind: ChardevBackendKind, opts: ParsedOpts, fail: (message: string) => ChardevOptionError): ChardevBackend {
  switch (kind) {
    case 'file': {
      // char-file.c qemu_chr_parse_file_out; `in` from input-path is QEMU 8.1's.
      const path = opts.get('path');
      if (path === undefined) throw fail('chardev: file: no filename given');
      const input = opts.get('input-path');
      const data: ChardevFile = { ...parseCommon(opts, fail), ...(input !== undefined ? { in: input } : {}), out: path, append: opts.getBool('append', false) };
      return { type: 'file', data };
    }
    case 'pipe':
    case 'serial':
    case 'parallel': {
      // char-pipe.c, char-serial.c, char-parallel.c: path is the device.
      const device = opts.get('path');
      if (device === undefined) throw fail(`chardev: ${kind === 'serial' ? 'serial/tty' : kind}: no device path given`);
      return { type: kind, data: { ...parseCommon(opts, fail), device } };
    }
    case 'stdio':
      return { type: 'stdio', data: { ...parseCommon(opts, fail), signal: opts.getBool('signal', true) } };
    case 'ringbuf':
    case 'memory': {
      // char-ringbuf.c keeps the size in an int: 4G reads as 0 (the
      // default), 2G as a negative size that the open then refuses.
      const size = asCInt(opts.getUint('size', 0n));
      return { type: kind, data: { ...parseCommon(opts, fail), ...(size !== 0 ? { size } : {}) } };
    }
    case 'mux': {
      const chardev = opts.get('chardev');
      if (chardev === undefined) throw fail('chardev: mux: no chardev given');
      return { type: 'mux', data: { ...parseCommon(opts, fail), chardev } };
    }
    case 'hub': {
      // char-hub.c qemu_chr_parse_hub: chardevs.0, chardevs.1, ... up to the first one missing.
      const chardevs: string[] = [];
      for (let i = 0; i < HUB_MEMBER_LIMIT; i++) {
        const member = opts.get(`chardevs.${i}`);
        if (member === undefined) break;
        chardevs.push(member);
      }
      const data: ChardevHub = { ...parseCommon(opts, fail), chardevs };
      if (opts.has('backpressure')) data.backpressure = opts.getBool('backpressure', false);
      if (opts.has('queue-size')) data['queue-size'] = Number(opts.getUint('queue-size', 0n));
      if (opts.has('history')) data.history = Number(opts.getUint('history', 0n));
      return { type: 'hub', data };
    }
    case 'udp':
      return { type: 'udp', data: parseUdp(opts, fail) };
    case 'socket':
      return { type: 'socket', data: parseSocket(opts, fail) };
    case 'vc': {
      // ui/console.c qemu_chr_parse_vc: each number through a C int, 0 meaning absent.
      const data: ChardevVC = parseCommon(opts, fail);
      for (const member of ['width', 'height', 'cols', 'rows'] as const) {
        const value = asCInt(opts.getUint(member, 0n));
        if (value !== 0) data[member] = value;
      }
      return { type: 'vc', data };
    }
    case 'spicevmc': {
      const name = opts.get('name');
      if (name === undefined) throw fail('chardev: spice channel: no name given');
      return { type: 'spicevmc', data: { ...parseCommon(opts, fail), type: name } };
    }
    case 'spiceport': {
      const name = opts.get('name');
      if (name === undefined) throw fail('chardev: spice port: no name given');
      return { type: 'spiceport', data: { ...parseCommon(opts, fail), fqdn: name } };
    }
    case 'dbus': {
      const name = opts.get('name');
      if (name === undefined) throw fail('chardev: dbus: no name given');
      return { type: 'dbus', data: { ...parseCommon(opts, fail), name } };
    }
    case 'qemu-vdagent':
      // ui/vdagent.c: both members explicit, mouse on and clipboard off by default.
      return { type: 'qemu-vdagent', data: { ...parseCommon(opts, fail), mouse: opts.getBool('mouse', true), clipboard: opts.getBool('clipboard', false) } };
    case 'pty':
    case 'null':
    case 'msmouse':
    case 'wctablet':
    case 'braille':
    case 'testdev':
    case 'console': // never reached (not in DRIVERS on Linux), listed for exhaustiveness
      // No parse function: qemu_chr_parse_opts fills only the common
      // members. (QEMU labels that object with type "null" and takes the
      // real kind from the class; the object here carries the real kind.)
      return { type: kind, data: parseCommon(opts, fail) };
  }
}

/** char-udp.c qemu_chr_parse_udp. */
function parseUdp(opts: ParsedOpts, fail: (message: string) => ChardevOptionError): ChardevUdp {
  const host = opts.get('host');
  const port = opts.get('port');
  const localaddr = opts.get('localaddr');
  const localport = opts.get('localport');
  if (port === undefined || port === '') throw fail('chardev: udp: remote port not specified');
  const remote: InetSocketAddress = { host: host === undefined || host === '' ? 'localhost' : host, port };
  if (opts.has('ipv4')) remote.ipv4 = opts.getBool('ipv4', false);
  if (opts.has('ipv6')) remote.ipv6 = opts.getBool('ipv6', false);
  const data: ChardevUdp = { ...parseCommon(opts, fail), remote: { type: 'inet', data: remote } };
  // A local address exists when either half is given non-empty; the other
  // half is then "" (any address) or "0" (any port).
  const hasLocalAddr = localaddr !== undefined && localaddr !== '';
  const hasLocalPort = localport !== undefined && localport !== '';
  if (hasLocalAddr || hasLocalPort) {
    data.local = { type: 'inet', data: { host: hasLocalAddr ? localaddr : '', port: hasLocalPort ? localport : '0' } };
  }
  return data;
}

/**
 * char-socket.c qemu_chr_parse_socket. From the command line `server` is
 * always explicit (false by default, where QMP's default is true), and
 * `wait` is explicit whenever given or when serving (true by default).
 */
function parseSocket(opts: ParsedOpts, fail: (message: string) => ChardevOptionError): ChardevSocket {
  const path = opts.get('path');
  const host = opts.get('host');
  const port = opts.get('port');
  const fd = opts.get('fd');
  if ([path, fd, host].filter((given) => given !== undefined).length > 1) {
    throw fail("None or one of 'path', 'fd' or 'host' option required.");
  }
  if (host !== undefined && port === undefined) throw fail('chardev: socket: no port given');
  const common = parseCommon(opts, fail);
  if (opts.has('delay') && opts.has('nodelay')) {
    throw fail("'delay' and 'nodelay' are mutually exclusive");
  }

  let addr: SocketAddressLegacy;
  if (path !== undefined) {
    // CONFIG_LINUX: abstract and tight are always set.
    addr = { type: 'unix', data: { path, abstract: opts.getBool('abstract', false), tight: opts.getBool('tight', true) } };
  } else if (host !== undefined && port !== undefined) {
    const inet: InetSocketAddress = { host, port };
    // InetSocketAddress.to is a uint16: QEMU keeps the number's low 16 bits.
    if (opts.has('to')) inet.to = Number(BigInt.asUintN(16, opts.getUint('to', 0n)));
    if (opts.has('ipv4')) inet.ipv4 = opts.getBool('ipv4', false);
    if (opts.has('ipv6')) inet.ipv6 = opts.getBool('ipv6', false);
    addr = { type: 'inet', data: inet };
  } else {
    // Neither path nor host: an fd address, whose string QEMU leaves NULL
    // when fd= is absent too. "" is the QAPI value that fails the same way
    // ("Unable to parse FD number " with nothing after it).
    addr = { type: 'fd', data: { str: fd ?? '' } };
  }

  const data: ChardevSocket = { ...common, addr };
  const tlsCreds = opts.get('tls-creds');
  if (tlsCreds !== undefined) data['tls-creds'] = tlsCreds;
  const tlsAuthz = opts.get('tls-authz');
  if (tlsAuthz !== undefined) data['tls-authz'] = tlsAuthz;
  data.server = opts.getBool('server', false);
  if (opts.has('wait') || data.server) data.wait = opts.getBool('wait', true);
  if (opts.has('delay') || opts.has('nodelay')) {
    data.nodelay = !opts.getBool('delay', true) || opts.getBool('nodelay', false);
  }
  for (const member of ['telnet', 'tn3270', 'websocket'] as const) {
    if (opts.has(member)) data[member] = opts.getBool(member, false);
  }
  if (opts.has('reconnect')) data.reconnect = asInt64(opts.getUint('reconnect', 0n));
  if (opts.has('reconnect-ms')) data['reconnect-ms'] = asInt64(opts.getUint('reconnect-ms', 0n));
  if (opts.has('clients')) data.clients = asUint32('clients', opts.getUint('clients', 0n), fail);
  return data;
}
