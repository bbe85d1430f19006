import { ChardevdError } from '../base/error.js';
import { ChardevHelpRequest, ChardevOptionError } from '../chardev/option-error.js';
import { checkChardevOption } from '../chardev/check-option.js';
import type { StartupChardev } from '../daemon/config-chardev.js';
import { type DaemonConfig, type QmpListenerConfig, readConfigFile, type StartupDemuxService } from '../daemon/config.js';
import { parseDemuxServiceOption } from '../device/demux-service-option.js';
import { cStrtol } from '../options/c-strtol.js';
import { ID_ERROR, ID_HINT, QemuOptsError } from '../options/qemu-opts.js';
import type { StartupObject } from '../daemon/config.js';
import { parseObjectOption } from '../objects/object-option.js';
import { type MonitorConfig, parseMonOption } from '../daemon/monitor-option.js';
import { listenerOption } from '../daemon/qmp-option.js';
import { CompatChardevError, compatChardevOption } from '../options/compat-chardev.js';
import { demuxPropertiesHelp, deviceModelsHelp, linkPropertiesHelp, parseDeviceOption, type StartupDevice } from '../device/device-option.js';
import { parseWebOption, type WebConfig, WebOptionError } from '../web/web-option.js';

/** What the chardevd command line asks for. */
export type DaemonArgs =
  | {
      readonly action: 'run';
      /** Config files' objects first, then the command line's, each in the order given. */
      readonly objects: readonly StartupObject[];
      /** Config files' listeners first, then the command line's, each in the order given. */
      readonly qmp: readonly QmpListenerConfig[];
      /** Config files' chardevs first, then the command line's, each in the order given. */
      readonly chardevs: readonly StartupChardev[];
      /** Config files' devices first, then the command line's, created after every chardev. */
      readonly devices: readonly StartupDevice[];
      /** Config files' demux services first, then the command line's, added after every device. */
      readonly demuxServices: readonly StartupDemuxService[];
      /** Config files' monitors first, then the command line's, each in the order given. */
      readonly monitors: readonly MonitorConfig[];
      /** `-echr`: the byte that starts a mux escape command, when given. */
      readonly muxEscapeChar: number | undefined;
      /** `-config-save FILE`: the file kept equal to the running configuration, when given. */
      readonly configSave: string | undefined;
      /** `-web` (or the last config file's `web`): the web console and /metrics, when given. */
      readonly web: WebConfig | undefined;
    }
  | { readonly action: 'help' }
  | { readonly action: 'version' }
  /** `-chardev BACKEND,help`, `-device help`: print `text` on standard output and exit with `exitStatus`, as QEMU does. */
  | { readonly action: 'print'; readonly text: string; readonly exitStatus: number };

/** A command-line mistake; the message is what the user sees after "chardevd: ". */
export class UsageError extends ChardevdError {
  override readonly name = 'UsageError';
  readonly code = 'CLI_USAGE_INVALID';
}

export const USAGE = `usage: chardevd [options]

Options (QEMU's spellings; one or two leading dashes):
  -qmp unix:PATH,server=on[,wait=off]     QMP listener on a unix socket
  -qmp tcp:[HOST]:PORT,server=on[,wait=off][,ipv4=on|ipv6=on][,tls-creds=ID[,tls-authz=ID]]
                                          QMP listener on TCP (port 0: any free port),
                                          with TLS when tls-creds names -object credentials
  -qmp DEV                                QMP on a chardev in QEMU's legacy syntax, e.g.
                                          unix:PATH (connects out), stdio, telnet::PORT,server=on
  -qmp-pretty DEV                         the same, with multi-line replies
  -monitor unix:PATH,server=on[,wait=off] human monitor (HMP) listener on a unix socket
  -monitor tcp:[HOST]:PORT,server=on[,wait=off][,tls-creds=ID[,tls-authz=ID]]
                                          human monitor listener on TCP
  -monitor DEV                            human monitor on a chardev in legacy syntax
                                          (stdio, unix:PATH to connect out, ...)
  -monitor chardev:ID                     human monitor on a chardev made with -chardev
  -mon [chardev=]ID[,mode=readline]       the same, in -mon syntax
  -mon [chardev=]ID,mode=control[,pretty=on]
                                          QMP on a chardev made with -chardev: a new
                                          session each time the chardev opens
  -object TYPE,id=ID[,PROP=VALUE...]     create an object, as QEMU's -object: tls-creds-x509,
                                          tls-creds-psk, tls-creds-anon, authz-simple, authz-list
  -object '{"qom-type":TYPE,"id":ID,...}' the same in JSON (authz-list's rules need it)
  -chardev BACKEND,id=ID[,OPTION=VALUE...]
                                          create a chardev at startup, as QEMU's -chardev
                                          (e.g. ringbuf,id=console0,size=64K)
  -chardev help                           list the backends
  -chardev BACKEND,help                   list the options
  -device link,id=ID,chardev=A,peer=B     join chardevs A and B back to back: what one
                                          receives the other sends, both ways
  -device demux,id=ID,chardev=C[,vsock=PATH]
                                          run the demux protocol over chardev C: many
                                          channels by service name (docs/demux.md);
                                          vsock=PATH: a Firecracker hybrid vsock socket
  -demux-service DEV,name=NAME[,port=N],connect=ADDR|listen=ADDR|chardev=ID
                                          a service of demux device DEV: channels to it
                                          connect to ADDR (unix:PATH or tcp:HOST:PORT),
                                          connections to ADDR open channels to NAME on
                                          the peer, or one channel joins chardev ID
  -device help                            list the device models
  -echr NUMBER                            the mux escape key as a character code
                                          (default 1, Ctrl-A; 0x14 is Ctrl-T)
  -web [HOST]:PORT[,token=TOKEN][,origin=ORIGIN]...
  -web unix:PATH[,token=TOKEN][,origin=ORIGIN]...[,perm=MODE]
                                          the web console (a page with the chardevs and
                                          a terminal per console) and /metrics; HOST
                                          defaults to 127.0.0.1; viewers are read-only
                                          unless they give TOKEN or one from QMP's
                                          web-token-add; ORIGIN (https://NAME) lets a
                                          reverse proxy's site in (docs/web.md)
  -config FILE                            read listeners, chardevs and devices from a
                                          YAML or JSON file (keys: objects, qmp, hmp,
                                          chardevs, devices, demux-services, web)
  -config-save FILE                       keep FILE equal to the running configuration:
                                          written at startup and after every change
                                          (chardev-add, device_add, ...), so that
                                          -config FILE brings the changes back
  -h, -help                               print this help
  -version                                print the version

Config files come first, then the command line, each in the order given.
Chardevs are created in that order, then the devices, before any QMP
listener opens; if one cannot be created, chardevd says why and exits
with status 1.
Every listener (QMP and monitor) serves any number of clients at once. Without wait=off,
startup waits for the first client of that listener, as QEMU does.
A unix listener's socket file is mode 0600 whatever the umask: add perm=MODE (octal, e.g.
perm=0660) for other bits. A TCP listener takes anyone who can connect (no TLS yet).
`;

/**
 * Why a `run` would serve nothing, or undefined. QEMU without options
 * still runs a machine; chardevd without a listener, a chardev or a device
 * would only wait for a signal, so it says what to give instead. A
 * QEMU-style `-qmp stdio` or `-monitor` counts: it is a listener.
 */
export function nothingToServe(args: DaemonArgs & { readonly action: 'run' }): string | undefined {
  if (args.qmp.length > 0 || args.monitors.length > 0 || args.chardevs.length > 0 || args.devices.length > 0 || args.demuxServices.length > 0 || args.web !== undefined)
    return undefined;
  return 'nothing to serve: give -qmp, -monitor, -mon, -chardev, -web or -config FILE (chardevd --help lists them)';
}

/**
 * Parses QEMU-style options (`-qmp X` or `--qmp X`, `--qmp=X`). A
 * `-chardev` gets QEMU's command-line checks here (option names and
 * values, duplicate ids) with QEMU's texts and warnings; the rest of it is
 * checked when the daemon creates the chardev, as QEMU does.
 */
export function parseDaemonArgs(argv: readonly string[], warn: (message: string) => void, say: (line: string) => void = warn): DaemonArgs {
  const configs: DaemonConfig[] = [];
  const objects: StartupObject[] = [];
  const qmp: QmpListenerConfig[] = [];
  const monitors: MonitorConfig[] = [];
  const chardevs: StartupChardev[] = [];
  const chardevIds = new Set<string>();
  const devices: StartupDevice[] = [];
  const demuxServices: StartupDemuxService[] = [];
  let muxEscapeChar: number | undefined;
  let configSave: string | undefined;
  let web: WebConfig | undefined;
  /** QEMU numbers the chardevs of -qmp and -monitor compat_monitor0, 1, ... counting every one (monitor_parse). */
  let monitorIndex = 0;

  /**
   * A `-chardev` string: QEMU's command-line checks and warnings now, the
   * rest when the daemon creates it. A compat chardev (from -qmp or
   * -monitor, whose id is known before its options are read) is checked
   * for a duplicate id first, prints no warnings, as QEMU's legacy parser
   * does not, and its errors end with QEMU's "parse error: ..." line.
   */
  const addChardev = (origin: string, text: string, compat?: { readonly id: string; readonly filename: string }): DaemonArgs | undefined => {
    const fail = (message: string): never => {
      throw new UsageError(compat === undefined ? `${origin}: ${message}` : `${origin}: ${message}\n${origin}: parse error: ${compat.filename}`);
    };
    const duplicate = (id: string): string => `Duplicate ID '${id}' for chardev`;
    if (compat !== undefined && chardevIds.has(compat.id)) fail(duplicate(compat.id));
    let checked;
    try {
      checked = checkChardevOption(text);
    } catch (error: unknown) {
      if (!(error instanceof ChardevOptionError)) throw error;
      if (compat === undefined) for (const warning of error.warnings) warn(`${origin}: ${warning}`);
      // QEMU prints the option list and exits right away (status 1).
      if (error instanceof ChardevHelpRequest) return { action: 'print', text: `${error.message}\n`, exitStatus: error.exitStatus };
      return fail(error.message);
    }
    if (checked.id !== undefined) {
      // QEMU checks the id before the options, so a duplicate prints no warnings of its own.
      if (chardevIds.has(checked.id)) return fail(duplicate(checked.id));
      chardevIds.add(checked.id);
    }
    if (compat === undefined) for (const warning of checked.warnings) warn(`${origin}: ${warning}`);
    chardevs.push({ form: 'option', origin, text, id: checked.id, checkedWarnings: checked.warnings.length });
    return undefined;
  };

  /**
   * `-qmp`, `-qmp-pretty`, `-monitor`: a unix or TCP server with nothing
   * but listener options becomes one of chardevd's listeners (any number
   * of clients at once); `chardev:ID` a monitor on that chardev; anything
   * else QEMU's way, a chardev `compat_monitorN` from the legacy syntax
   * (a client socket connecting out, stdio, a telnet server...) with the
   * monitor on it.
   */
  const monitorOption = (name: string, text: string, mode: 'readline' | 'control', pretty: boolean): DaemonArgs | undefined => {
    const origin = `-${name} ${text}`;
    const label = `compat_monitor${monitorIndex++}`;
    if (text.startsWith('chardev:')) {
      monitors.push({ origin, target: { type: 'chardev', id: text.slice('chardev:'.length), mode, pretty } });
      return undefined;
    }
    let listener;
    try {
      listener = listenerOption(text);
    } catch (error: unknown) {
      if (error instanceof QemuOptsError) throw new UsageError(`${origin}: ${error.message}`);
      throw error;
    }
    if (listener !== undefined) {
      if (mode === 'control') qmp.push({ option: listener, pretty, text });
      else monitors.push({ origin, target: { type: 'listener', option: listener, text } });
      return undefined;
    }
    let chardevText;
    try {
      chardevText = compatChardevOption(label, text);
    } catch (error: unknown) {
      if (!(error instanceof CompatChardevError)) throw error;
      throw new UsageError(`${error.detail === undefined ? '' : `${origin}: ${error.detail}\n`}${origin}: parse error: ${text}`);
    }
    const help = addChardev(origin, chardevText, { id: label, filename: text });
    if (help === undefined) monitors.push({ origin, target: { type: 'chardev', id: label, mode, pretty } });
    return help;
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-')) throw new UsageError(`${arg}: invalid option (options start with '-')`);
    const eq = arg.indexOf('=');
    const name = (eq >= 0 ? arg.slice(0, eq) : arg).replace(/^--?/, '');
    const inlineValue = eq >= 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      const v = inlineValue ?? argv[++i];
      if (v === undefined) throw new UsageError(`-${name}: requires an argument`);
      return v;
    };
    switch (name) {
      case 'h':
      case 'help':
        return { action: 'help' };
      case 'version':
        return { action: 'version' };
      case 'qmp':
      case 'qmp-pretty': {
        const help = monitorOption(name, value(), 'control', name === 'qmp-pretty');
        if (help !== undefined) return help;
        break;
      }
      case 'monitor': {
        const text = value();
        // QEMU's -monitor none asks for no monitor (and takes no number).
        if (text === 'none') break;
        const help = monitorOption(name, text, 'readline', false);
        if (help !== undefined) return help;
        break;
      }
      case 'mon': {
        const text = value();
        try {
          monitors.push({ origin: `-mon ${text}`, target: parseMonOption(text) });
        } catch (error: unknown) {
          if (error instanceof QemuOptsError) throw new UsageError(`-mon ${text}: ${error.message}`);
          throw error;
        }
        break;
      }
      case 'object': {
        const text = value();
        try {
          objects.push({ options: parseObjectOption(text) });
        } catch (error: unknown) {
          if (error instanceof QemuOptsError) throw new UsageError(`-object ${text}: ${error.message}${error.message === ID_ERROR ? `\n${ID_HINT}` : ''}`);
          throw error;
        }
        break;
      }
      case 'chardev': {
        const text = value();
        const help = addChardev(`-chardev ${text}`, text);
        if (help !== undefined) return help;
        break;
      }
      case 'device': {
        const text = value();
        if (text === 'help') return { action: 'print', text: deviceModelsHelp(), exitStatus: 0 };
        let request;
        try {
          request = parseDeviceOption(text);
        } catch (error: unknown) {
          if (error instanceof QemuOptsError) throw new UsageError(`-device ${text}: ${error.message}`);
          throw error;
        }
        if (request.properties.get('help') === 'on') {
          const driver = request.properties.get('driver') ?? '';
          if (driver !== 'link' && driver !== 'demux') throw new UsageError(`-device ${text}: '${driver}' is not a valid device model name`);
          return { action: 'print', text: driver === 'link' ? linkPropertiesHelp() : demuxPropertiesHelp(), exitStatus: 0 };
        }
        if (request.id !== undefined) {
          // QEMU's check while reading the command line, with its text.
          if (devices.some((device) => device.id === request.id)) throw new UsageError(`-device ${text}: Duplicate ID '${request.id}' for device`);
        }
        devices.push({ ...request, origin: `-device ${text}` });
        break;
      }
      case 'demux-service': {
        const text = value();
        try {
          demuxServices.push({ service: parseDemuxServiceOption(text), origin: `-demux-service ${text}` });
        } catch (error: unknown) {
          if (error instanceof QemuOptsError) throw new UsageError(`-demux-service ${text}: ${error.message}`);
          throw error;
        }
        break;
      }
      case 'echr': {
        // QEMU reads it with strtol into an int and only complains, on
        // standard output, when no number is there, which leaves 0 (NUL).
        const { value: code, digits } = cStrtol(value());
        if (!digits) say('Bad argument to echr');
        muxEscapeChar = Number(BigInt.asIntN(32, code));
        break;
      }
      case 'config':
        configs.push(readConfigFile(value(), warn));
        break;
      case 'web': {
        const text = value();
        try {
          // The last one given counts, as for QEMU's single-valued options.
          web = parseWebOption(text);
        } catch (error: unknown) {
          if (error instanceof WebOptionError) throw new UsageError(`-web ${text}: ${error.message}`);
          throw error;
        }
        break;
      }
      case 'config-save':
        // The last one given counts, as for QEMU's single-valued options.
        configSave = value();
        break;
      default:
        throw new UsageError(`-${name}: invalid option`);
    }
  }
  const all = [...configs.flatMap((config) => config.chardevs), ...chardevs];
  const firstOrigin = new Map<string, string>();
  for (const item of all) {
    if (item.id === undefined) continue;
    const first = firstOrigin.get(item.id);
    if (first !== undefined) throw new UsageError(`${item.origin}: Duplicate ID '${item.id}' for chardev (first defined by ${first})`);
    firstOrigin.set(item.id, item.origin);
  }
  const allDevices = [...configs.flatMap((config) => config.devices), ...devices];
  const firstDevice = new Map<string, string>();
  for (const device of allDevices) {
    if (device.id === undefined) continue;
    const first = firstDevice.get(device.id);
    if (first !== undefined) throw new UsageError(`${device.origin}: Duplicate ID '${device.id}' for device (first defined by ${first})`);
    firstDevice.set(device.id, device.origin);
  }
  const allObjects = [...configs.flatMap((config) => config.objects), ...objects];
  const objectIds = new Set<string>();
  for (const object of allObjects) {
    // QEMU creates them in order and fails on the second: it says so in object-add's words.
    if (objectIds.has(object.options.id)) {
      const where = object.origin === undefined ? '' : `${object.origin}: `;
      throw new UsageError(`${where}attempt to add duplicate property '${object.options.id}' to object (type 'container')`);
    }
    objectIds.add(object.options.id);
  }
  return {
    action: 'run',
    objects: allObjects,
    qmp: [...configs.flatMap((config) => config.qmp), ...qmp],
    chardevs: all,
    devices: allDevices,
    demuxServices: [...configs.flatMap((config) => config.demuxServices), ...demuxServices],
    monitors: [...configs.flatMap((config) => config.monitors), ...monitors],
    muxEscapeChar,
    configSave,
    web: web ?? [...configs].reverse().find((config) => config.web !== undefined)?.web,
  };
}
