import { readFileSync, statSync } from 'node:fs';
import type { CST, Document, Node } from 'yaml';
import { ChardevdError } from '../base/error.js';
import { describeSystemError } from '../chardev/chardev-error.js';
import { ChardevHelpRequest, ChardevOptionError } from '../chardev/option-error.js';
import { parseChardevOption } from '../chardev/options.js';
import { qapiTypeTable } from '../generated/qapi-type-table.gen.js';
import type { ChardevAddArguments, DemuxService, ObjectOptions } from '../generated/qapi-types.gen.js';
import { parseObjectOption, validateObjectOptions } from '../objects/object-option.js';
import { parseDemuxServiceOption } from '../device/demux-service-option.js';
import { InputValidator, QapiInputError } from '../qapi-runtime/index.js';
import { ID_ERROR, isWellFormedId, QemuOptsError } from '../options/qemu-opts.js';
import { JsonDouble } from '../qobject/json-double.js';
import type { JsonObject, JsonValue } from '../qobject/json-value.js';
import { checkChardevOption } from '../chardev/check-option.js';
import type { StartupChardev } from './config-chardev.js';
import { type MonitorConfig, parseMonitorOption } from './monitor-option.js';
import { parseQmpOption, type QmpOption } from './qmp-option.js';
import { type DeviceRequest, deviceRequestFromArguments, parseDeviceOption, type StartupDevice } from '../device/device-option.js';
import { parseWebOption, type WebConfig, webConfig, WebOptionError } from '../web/web-option.js';
import { yaml } from './yaml-module.js';

/**
 * The daemon's config file: YAML (and so JSON, which YAML contains), with
 * the same objects as the command line and QMP, read by the same parsers:
 *
 *   objects:             # TLS credentials and authorization, made first
 *     - tls-creds-x509,id=tls0,dir=/etc/chardevd/pki,endpoint=server   # -object syntax, or
 *     - { qom-type: authz-simple, id: auth0, identity: "CN=admin" }   # object-add's arguments
 *   qmp:                 # QMP listeners, each in -qmp syntax
 *     - unix:chardevd-qmp.sock,server=on,wait=off
 *     - chardev:qmon     # QMP on a chardev of this file (-mon qmon,mode=control)
 *   hmp:                 # human monitors, each in -monitor syntax
 *     - unix:chardevd-hmp.sock,server=on,wait=off
 *     - chardev:serial0  # a monitor on a chardev of this file
 *   chardevs:            # created in this order, before the listeners open
 *     - ringbuf,id=log0,size=1M                      # -chardev syntax, or
 *     - { id: console0, backend: { type: ringbuf, data: { size: 65536 } } }   # chardev-add's arguments
 *   devices:             # created after the chardevs
 *     - link,id=l0,chardev=guest0,peer=console0       # -device syntax, or
 *     - { driver: link, id: l0, chardev: guest0, peer: console0 }   # device_add's arguments
 *   demux-services:      # added to demux devices after the devices
 *     - dm0,name=echo,connect=unix:echo.sock         # -demux-service syntax, or
 *     - { device: dm0, name: echo, connect: 'unix:echo.sock' }   # demux-service-add's arguments
 *   web:                 # the web console and /metrics: -web syntax, or
 *     { listen: unix:chardevd-web.sock, token: ..., origins: [https://console.example.com], perm: '0660' }
 *
 * Every message names the file, the line and the item, then gives the
 * text the same input gets from the command line or from chardev-add.
 */

/** A QMP listener as the daemon takes it (DaemonOptions.qmp). */
export interface QmpListenerConfig {
  readonly option: QmpOption;
  readonly pretty: boolean;
  /** The `-qmp` value as given, which query-config lists. */
  readonly text: string;
}

export interface DaemonConfig {
  readonly objects: readonly StartupObject[];
  readonly qmp: readonly QmpListenerConfig[];
  /** Human monitors (`hmp:`) and QMP monitors on chardevs (`qmp: - chardev:ID`), in the file's order of each list. */
  readonly monitors: readonly MonitorConfig[];
  readonly chardevs: readonly StartupChardev[];
  readonly devices: readonly StartupDevice[];
  readonly demuxServices: readonly StartupDemuxService[];
  /** The web console, when the file has `web`. */
  readonly web?: WebConfig | undefined;
}

/** An object to create at startup (-object, a config file's `objects`). */
export interface StartupObject {
  /** What its messages start with (`FILE:LINE: objects[N]`); none for -object, whose failures QEMU prints bare. */
  readonly origin?: string | undefined;
  readonly options: ObjectOptions;
}

/** A demux service the daemon adds at startup, after the devices. */
export interface StartupDemuxService {
  readonly service: DemuxService;
  /** What messages start with: `-demux-service TEXT`, or `FILE:LINE: demux-services[N]`. */
  readonly origin: string;
}

/** A config file the daemon cannot use; the message is what the user sees after "chardevd: ". */
export class ConfigError extends ChardevdError {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
}

/** The largest config file read; a bigger one is refused before it is read. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

const TOP_LEVEL_KEYS = ['objects', 'qmp', 'hmp', 'chardevs', 'devices', 'demux-services', 'web'] as const;

/**
 * The deepest nesting of collections read; a config file needs a handful
 * of levels. YAML builds its nodes recursively, and from several hundred
 * levels on it runs out of stack (and says only that), so deeper
 * documents are refused before it builds them.
 */
const MAX_NESTING = 64;

/** Built on first use: linking the type table is work a command line without a config file does not need. */
let validator: InputValidator | undefined;

/** Reads and checks a config file; warnings (deprecated option spellings) go to `warn`. */
export function readConfigFile(path: string, warn: (message: string) => void): DaemonConfig {
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > MAX_CONFIG_BYTES) throw new ConfigError(`${path}: config file too large (${size} bytes; the limit is ${MAX_CONFIG_BYTES})`);
    text = readFileSync(path, 'utf8');
  } catch (error: unknown) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`${path}: cannot read config file: ${describeSystemError(error)}`);
  }
  return parseConfig(text, path, warn);
}

/** Checks a config file's text; `fileName` starts every message. */
export function parseConfig(text: string, fileName: string, warn: (message: string) => void): DaemonConfig {
  const lines = new (yaml().LineCounter)();
  const deep = tooDeep(text);
  if (deep !== undefined) throw new ConfigError(`${fileName}:${deep.line}:${deep.col}: collections nested deeper than ${MAX_NESTING} levels`);
  const doc = yaml().parseDocument(text, { intAsBigInt: true, prettyErrors: false, lineCounter: lines, uniqueKeys: true });
  const where = (node: Node | null | undefined): string => {
    const offset = node?.range?.[0];
    return offset === undefined ? fileName : `${fileName}:${lines.linePos(offset).line}`;
  };
  /**
   * A string item YAML read from several lines, shown as it was read: a
   * next item indented further than its `-` is no item, it continues the
   * string (`- a,id=x` then `   - b,id=y` reads as "a,id=x - b,id=y").
   */
  const joined = (node: Node): string => {
    const [start, end] = node.range ?? [];
    if (!yaml().isScalar(node) || typeof node.value !== 'string' || start === undefined || end === undefined) return '';
    const first = lines.linePos(start).line;
    const last = lines.linePos(end).line;
    if (first === last) return '';
    return `\nYAML read lines ${first}-${last} as one string: ${JSON.stringify(node.value)} (a line indented further than its item's "-" continues it)`;
  };
  // Warnings too (an unknown tag, a YAML version directive): a config file must say one thing only.
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem !== undefined) {
    const pos = lines.linePos(problem.pos[0]);
    throw new ConfigError(`${fileName}:${pos.line}:${pos.col}: ${problem.message}`);
  }
  const root = doc.contents;
  // An empty file (or one with comments only) configures nothing.
  if (root === null || (yaml().isScalar(root) && root.value === null)) return { objects: [], qmp: [], monitors: [], chardevs: [], devices: [], demuxServices: [] };
  if (!yaml().isMap(root)) throw new ConfigError(`${where(root)}: expected a mapping with the keys ${TOP_LEVEL_KEYS.join(', ')}`);

  let objectsNode: Node | undefined;
  let qmpNode: Node | undefined;
  let hmpNode: Node | undefined;
  let chardevsNode: Node | undefined;
  let devicesNode: Node | undefined;
  let demuxNode: Node | undefined;
  let webNode: Node | undefined;
  for (const pair of root.items) {
    const keyNode = pair.key as Node | null;
    const key = yaml().isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
    if (key === 'objects') objectsNode = resolved(pair.value, doc);
    else if (key === 'qmp') qmpNode = resolved(pair.value, doc);
    else if (key === 'hmp') hmpNode = resolved(pair.value, doc);
    else if (key === 'chardevs') chardevsNode = resolved(pair.value, doc);
    else if (key === 'devices') devicesNode = resolved(pair.value, doc);
    else if (key === 'demux-services') demuxNode = resolved(pair.value, doc);
    else if (key === 'web') webNode = resolved(pair.value, doc);
    else throw new ConfigError(`${where(keyNode)}: unknown key '${key}' (the keys are ${TOP_LEVEL_KEYS.join(', ')})`);
  }

  const objectIds = new Set<string>();
  const objects = listItems(objectsNode, 'objects', doc, where).map(({ node, line }, index): StartupObject => {
    const item = objectItem(node, doc, `${line}: objects[${index}]`, joined(node));
    // What QEMU says of a second -object with the same id.
    if (objectIds.has(item.options.id)) throw new ConfigError(`${item.origin}: attempt to add duplicate property '${item.options.id}' to object (type 'container')`);
    objectIds.add(item.options.id);
    return item;
  });

  const qmp: QmpListenerConfig[] = [];
  const qmpMonitors: MonitorConfig[] = [];
  listItems(qmpNode, 'qmp', doc, where).forEach(({ node, line }, index) => {
    const location = `${line}: qmp[${index}]`;
    if (!yaml().isScalar(node) || typeof node.value !== 'string') {
      throw new ConfigError(`${location}: expected a string in -qmp syntax, such as "unix:chardevd-qmp.sock,server=on,wait=off" or "chardev:qmon"`);
    }
    if (node.value.startsWith('chardev:')) {
      qmpMonitors.push({ origin: location, target: { type: 'chardev', id: node.value.slice('chardev:'.length), mode: 'control', pretty: false } });
      return;
    }
    try {
      qmp.push({ option: parseQmpOption(node.value), pretty: false, text: node.value });
    } catch (error: unknown) {
      if (error instanceof QemuOptsError) throw new ConfigError(`${location}: ${error.message}${joined(node)}`);
      throw error;
    }
  });

  const hmp = listItems(hmpNode, 'hmp', doc, where).map(({ node, line }, index): MonitorConfig => {
    const location = `${line}: hmp[${index}]`;
    if (!yaml().isScalar(node) || typeof node.value !== 'string') {
      throw new ConfigError(`${location}: expected a string in -monitor syntax, such as "unix:chardevd-hmp.sock,server=on,wait=off" or "chardev:serial0"`);
    }
    try {
      const target = parseMonitorOption(node.value);
      // As given, for query-config.
      return { origin: location, target: target.type === 'listener' ? { ...target, text: node.value } : target };
    } catch (error: unknown) {
      if (error instanceof QemuOptsError) throw new ConfigError(`${location}: ${error.message}${joined(node)}`);
      throw error;
    }
  });

  const ids = new Set<string>();
  const chardevs = listItems(chardevsNode, 'chardevs', doc, where).map(({ node, line }, index) => {
    const item = chardevItem(node, doc, `${line}: chardevs[${index}]`, warn, joined(node));
    if (item.id !== undefined) {
      // The command line's word for it (QEMU's QemuOpts); QMP would say "Chardev with id 'ID' already exists".
      if (ids.has(item.id)) throw new ConfigError(`${item.origin}: Duplicate ID '${item.id}' for chardev`);
      ids.add(item.id);
    }
    return item;
  });
  const devices = listItems(devicesNode, 'devices', doc, where).map(({ node, line }, index) => deviceItem(node, doc, `${line}: devices[${index}]`, joined(node)));
  const demuxServices = listItems(demuxNode, 'demux-services', doc, where).map(({ node, line }, index) =>
    demuxServiceItem(node, doc, `${line}: demux-services[${index}]`, joined(node)),
  );
  const web = webNode === undefined ? undefined : webItem(webNode, doc, where(webNode));
  return { objects, qmp, monitors: [...hmp, ...qmpMonitors], chardevs, devices, demuxServices, ...(web === undefined ? {} : { web }) };
}

/** `web`: a -web string, or { listen, token, origins }. */
function webItem(node: Node, doc: Document, line: string): WebConfig | undefined {
  const location = `${line}: web`;
  if (yaml().isScalar(node) && node.value === null) return undefined;
  try {
    if (yaml().isScalar(node) && typeof node.value === 'string') return parseWebOption(node.value);
    if (!yaml().isMap(node)) throw new WebOptionError('expected a -web string ("127.0.0.1:8080") or { listen: ..., token: ..., origins: [...] }');
    const { listen, token, origins, perm, ...rest } = toJs(node, doc, location) as Record<string, unknown>;
    const unknown = Object.keys(rest)[0];
    if (unknown !== undefined) throw new WebOptionError(`unknown key '${unknown}' (the keys are listen, token, origins, perm)`);
    if (perm !== undefined && typeof perm !== 'string') throw new WebOptionError("'perm' must be a string, such as '0660' (quoted: YAML reads 0660 as a number)");
    if (typeof listen !== 'string') throw new WebOptionError("'listen' must be a string: HOST:PORT or unix:PATH");
    if (token !== undefined && typeof token !== 'string') throw new WebOptionError("'token' must be a string");
    if (origins !== undefined && !(Array.isArray(origins) && origins.every((origin) => typeof origin === 'string'))) {
      throw new WebOptionError("'origins' must be a list of strings");
    }
    return webConfig({ listen, token, origins, perm });
  } catch (error: unknown) {
    if (error instanceof WebOptionError) throw new ConfigError(`${location}: ${error.message}`);
    throw error;
  }
}

/** Where the first collection nested deeper than MAX_NESTING starts, or undefined; walks YAML's syntax tree without recursion. */
function tooDeep(text: string): { line: number; col: number } | undefined {
  const lines = new (yaml().LineCounter)();
  const pending: { token: CST.Token | null | undefined; depth: number }[] = [];
  for (const token of new (yaml().Parser)(lines.addNewLine).parse(text)) pending.push({ token, depth: 0 });
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { token, depth } = next;
    if (token?.type === 'document') pending.push({ token: token.value, depth });
    if (token?.type !== 'block-map' && token?.type !== 'block-seq' && token?.type !== 'flow-collection') continue;
    if (depth >= MAX_NESTING) return lines.linePos(token.offset);
    for (const item of token.items) pending.push({ token: item.key, depth: depth + 1 }, { token: item.value, depth: depth + 1 });
  }
  return undefined;
}

/** A node's JavaScript value; aliases that expand too far (a "billion laughs" document) are refused, as YAML refuses them. */
function toJs(node: Node, doc: Document, location: string): unknown {
  try {
    return node.toJS(doc);
  } catch (error: unknown) {
    // yaml's toJS throws a ReferenceError once aliases expand past its maxAliasCount.
    if (error instanceof ReferenceError) throw new ConfigError(`${location}: ${error.message}`);
    throw error;
  }
}

/** One item of `objects`: a `-object` string (key=value or JSON) or object-add's arguments; `joined` ends a string's error messages. */
function objectItem(node: Node, doc: Document, location: string, joined: string): StartupObject {
  let options: ObjectOptions;
  try {
    if (yaml().isScalar(node) && typeof node.value === 'string') options = parseObjectOption(node.value);
    else if (yaml().isMap(node)) {
      const value = toJsonValue(toJs(node, doc, location), (what) => {
        throw new ConfigError(`${location}: ${what} has no JSON form, and object-add's arguments are JSON`);
      });
      options = validateObjectOptions(value as JsonObject);
    } else {
      throw new ConfigError(
        `${location}: expected a -object string (tls-creds-x509,id=tls0,dir=DIR,endpoint=server) or object-add's arguments ({ qom-type: authz-simple, id: auth0, identity: "CN=admin" })`,
      );
    }
  } catch (error: unknown) {
    if (error instanceof QemuOptsError) throw new ConfigError(`${location}: ${error.message}${joined}`);
    throw error;
  }
  return { origin: `${location} (id '${options.id}')`, options };
}

/** One item of `devices`: a `-device` string or device_add's arguments; `joined` ends a string's error messages. */
function deviceItem(node: Node, doc: Document, location: string, joined: string): StartupDevice {
  let request: DeviceRequest;
  if (yaml().isScalar(node) && typeof node.value === 'string') {
    try {
      request = parseDeviceOption(node.value);
    } catch (error: unknown) {
      if (error instanceof QemuOptsError) throw new ConfigError(`${location}: ${error.message}${joined}`);
      throw error;
    }
  } else if (yaml().isMap(node)) {
    const value = toJsonValue(toJs(node, doc, location), (what) => {
      throw new ConfigError(`${location}: ${what} has no JSON form, and device_add's arguments are JSON`);
    });
    request = deviceRequestFromArguments(value as JsonObject);
    if (request.id !== undefined && !isWellFormedId(request.id)) throw new ConfigError(`${location}: ${ID_ERROR}`);
  } else {
    throw new ConfigError(
      `${location}: expected a -device string (link,id=l0,chardev=guest0,peer=console0) or device_add's arguments ({ driver: link, id: l0, chardev: guest0, peer: console0 })`,
    );
  }
  return { ...request, origin: request.id === undefined ? location : `${location} (id '${request.id}')` };
}

/** One item of `demux-services`: a `-demux-service` string or demux-service-add's arguments. */
function demuxServiceItem(node: Node, doc: Document, location: string, joined: string): StartupDemuxService {
  if (yaml().isScalar(node) && typeof node.value === 'string') {
    try {
      return { service: parseDemuxServiceOption(node.value), origin: location };
    } catch (error: unknown) {
      if (error instanceof QemuOptsError) throw new ConfigError(`${location}: ${error.message}${joined}`);
      throw error;
    }
  }
  if (yaml().isMap(node)) {
    const value = toJsonValue(toJs(node, doc, location), (what) => {
      throw new ConfigError(`${location}: ${what} has no JSON form, and demux-service-add's arguments are JSON`);
    });
    try {
      validator ??= new InputValidator(qapiTypeTable);
      return { service: validator.validateArguments('DemuxService', value as JsonObject) as DemuxService, origin: location };
    } catch (error: unknown) {
      if (error instanceof QapiInputError) throw new ConfigError(`${location}: ${error.message}`);
      throw error;
    }
  }
  throw new ConfigError(`${location}: expected a -demux-service string (dm0,name=echo,connect=unix:echo.sock) or demux-service-add's arguments`);
}

/** The items of a top-level list, aliases resolved, each with where it is written; an absent or empty value is an empty list. */
function listItems(node: Node | undefined, key: string, doc: Document, where: (node: Node | null | undefined) => string): { node: Node; line: string }[] {
  if (node === undefined || (yaml().isScalar(node) && node.value === null)) return [];
  if (!yaml().isSeq(node)) throw new ConfigError(`${where(node)}: '${key}' must be a list`);
  return (node.items as Node[]).map((item) => ({ node: resolved(item, doc) ?? item, line: where(item) }));
}

/** The node an alias (`*name`) stands for; other nodes as they are. */
function resolved(node: Node | null, doc: Document): Node | undefined {
  if (node === null) return undefined;
  return yaml().isAlias(node) ? (node.resolve(doc) ?? node) : node;
}

/** One item of `chardevs`: a `-chardev` string or chardev-add's arguments; `joined` ends a string's error messages. */
function chardevItem(node: Node, doc: Document, location: string, warn: (message: string) => void, joined: string): StartupChardev {
  if (yaml().isScalar(node) && typeof node.value === 'string') {
    const text = node.value;
    let checked;
    try {
      checked = checkChardevOption(text);
    } catch (error: unknown) {
      if (error instanceof ChardevHelpRequest) throw new ConfigError(`${location}: help is for the command line: run chardevd -chardev help`);
      if (!(error instanceof ChardevOptionError)) throw error;
      for (const warning of error.warnings) warn(`${location}: ${warning}`);
      throw new ConfigError(`${location}: ${error.message}${joined}`);
    }
    if (checked.id === undefined && isBackendHelp(text)) throw new ConfigError(`${location}: help is for the command line: run chardevd -chardev help`);
    const origin = checked.id === undefined ? location : `${location} (id '${checked.id}')`;
    for (const warning of checked.warnings) warn(`${origin}: ${warning}`);
    return { form: 'option', origin, text, id: checked.id, checkedWarnings: checked.warnings.length };
  }
  if (yaml().isMap(node)) {
    const js = toJs(node, doc, location);
    const rawId = (js as { id?: unknown }).id;
    const origin = typeof rawId === 'string' ? `${location} (id '${rawId}')` : location;
    const value = toJsonValue(js, (what) => {
      throw new ConfigError(`${origin}: ${what} has no JSON form, and chardev-add's arguments are JSON`);
    });
    let args: ChardevAddArguments;
    try {
      validator ??= new InputValidator(qapiTypeTable);
      args = validator.validateArguments('q_obj_chardev-add-arg', value as JsonObject) as ChardevAddArguments;
    } catch (error: unknown) {
      if (error instanceof QapiInputError) throw new ConfigError(`${origin}: ${error.message}${nullTypeHint(value)}${yamlBooleanHint(error.message, value)}`);
      throw error;
    }
    return { form: 'object', origin, id: args.id, backend: args.backend };
  }
  // YAML reads a bare `null` or `~` (and an empty item) as no value at all.
  const nothing = yaml().isScalar(node) && node.value === null ? ' (YAML reads this item as null: quote a string)' : '';
  throw new ConfigError(
    `${location}: expected a -chardev string (ringbuf,id=console0) or chardev-add's arguments ({ id: console0, backend: { type: ringbuf, data: {} } })${nothing}`,
  );
}

/** `type: null` is YAML's null, not the backend named "null": say so next to QMP's type error. */
function nullTypeHint(value: JsonValue): string {
  const backend = (value as JsonObject)['backend'];
  const isNullType = backend !== undefined && backend !== null && typeof backend === 'object' && !Array.isArray(backend) && (backend as JsonObject)['type'] === null;
  return isNullType ? " (YAML reads a bare null as no value: write type: 'null')" : '';
}

/**
 * `server: on` is the string 'on' in YAML 1.2, which the yaml package
 * reads (on/off and yes/no were booleans only in YAML 1.1): say so next to
 * QMP's type error.
 */
function yamlBooleanHint(message: string, value: JsonValue): string {
  const path = /^Invalid parameter type for '([^']+)', expected: boolean$/.exec(message)?.[1];
  if (path === undefined) return '';
  let member: JsonValue | undefined = value;
  for (const key of path.split('.')) member = isPlainObject(member) ? member[key] : undefined;
  return typeof member === 'string' && /^(on|off|yes|no|y|n)$/i.test(member) ? ` (YAML 1.2 reads ${member} as a string, not a boolean: write true or false)` : '';
}

function isPlainObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof JsonDouble);
}

/** `help` as the backend: the list of backends, which QEMU prints only when it reaches that -chardev. */
function isBackendHelp(text: string): boolean {
  try {
    parseChardevOption(text);
    return false;
  } catch (error: unknown) {
    return error instanceof ChardevHelpRequest && error.topic === 'backends';
  }
}

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/**
 * YAML's JavaScript value as QMP's JSON parser would give it, so that the
 * QAPI validator answers as for chardev-add: integers exact (YAML is read
 * with integers as bigints), an integral float such as `1.0` a double,
 * which an integer member refuses, and an integer beyond 64 bits a double
 * too, as QEMU's parser makes it.
 */
function toJsonValue(value: unknown, unsupported: (what: string) => never): JsonValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') {
    if (value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(value);
    if (value >= INT64_MIN && value <= UINT64_MAX) return value;
    return new JsonDouble(Number(value));
  }
  if (typeof value === 'number') return Number.isInteger(value) ? new JsonDouble(value) : value;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map((element) => toJsonValue(element, unsupported));
  const prototype: unknown = typeof value === 'object' ? Object.getPrototypeOf(value) : undefined;
  if (prototype === Object.prototype || prototype === null) {
    // A null prototype, so that a `__proto__` key is an ordinary member, as in QMP.
    const object: JsonObject = Object.create(null) as JsonObject;
    for (const [key, member] of Object.entries(value)) object[key] = toJsonValue(member, unsupported);
    return object;
  }
  // What a YAML tag such as !!set or !!binary makes.
  return unsupported(value instanceof Set ? 'a YAML set' : value instanceof Uint8Array ? 'YAML binary data' : `a YAML ${typeof value}`);
}
