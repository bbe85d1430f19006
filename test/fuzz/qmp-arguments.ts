import fc from 'fast-check';
import { qmpCommandSpecs } from '../../src/generated/qapi-commands.gen.js';
import { qapiTypeTable } from '../../src/generated/qapi-type-table.gen.js';
import { hostileText, keywordToken, numberToken, sometimes, utf8 } from './json-tokens.js';

/**
 * Arguments for real commands, read from the schema's type table: mostly
 * of the right shape, with values of the wrong type, out of range or
 * hostile in between, and members that do not exist. Every value is JSON
 * text (a byte string, see json-tokens.ts).
 *
 * What the commands would do to the machine is kept in bounds: backends
 * that open files, devices, sockets or the process's own stdio are never
 * asked for with the right shape, log files cannot be created, and the
 * human monitor runs only commands that leave the daemon running.
 */

/** Backends that touch nothing outside the process (the others open files, devices, sockets or stdio). */
const SAFE_BACKENDS = new Set([
  'null',
  'mux',
  'hub',
  'msmouse',
  'wctablet',
  'braille',
  'testdev',
  'spicevmc',
  'spiceport',
  'qemu-vdagent',
  'dbus',
  'vc',
  'ringbuf',
  'memory',
]);
const UNSAFE_BACKENDS = new Set(['file', 'serial', 'parallel', 'pipe', 'socket', 'udp', 'pty', 'stdio', 'console', 'tty', 'parport']);

/** Chardev ids the fuzzed daemon has (see qmp-harness.ts), and some it has not. */
export const CHARDEV_IDS = ['r0', 'h0', 'n0', 'm0'];
const ids: fc.Arbitrary<string> = fc.oneof({ arbitrary: fc.constantFrom(...CHARDEV_IDS, 'x1', 'l0'), weight: 3 }, { arbitrary: hostileText, weight: 1 });

/** Human monitor lines that neither quit nor create chardevs (chardev-add could open any file). */
const hmpLine: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('info chardev', 'info version', 'info history', 'info', 'info nosuch', 'help', '?', 'help info', '', ' ', 'nosuch', 'chardev-remove'),
  fc.tuple(fc.constantFrom('ringbuf_write', 'ringbuf_read', 'chardev-remove', 'chardev-send-break', 'console', 'info chardev', 'help'), ids, hostileText).map(
    // One line only: a newline could start a second command.
    ([command, id, arg]) => `${command} ${id} ${arg}`.replace(/[\r\n]/g, ' '),
  ),
);

const jsonString = (text: fc.Arbitrary<string>): fc.Arbitrary<string> => text.map((s) => utf8(JSON.stringify(s)));

/** Any small JSON value: what a member of the wrong type gets. */
export const anyJson: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    // Never by chance the name of a backend kept out (a discriminator can get this value).
    jsonString(hostileText.filter((text) => !UNSAFE_BACKENDS.has(text))),
    numberToken,
    keywordToken,
    fc.array(tie('value'), { maxLength: 3 }).map((items) => `[${items.join(', ')}]`),
    fc.array(fc.tuple(jsonString(hostileText), tie('value')), { maxLength: 3 }).map((pairs) => `{${pairs.map(([k, v]) => `${k}: ${v}`).join(', ')}}`),
  ),
})).value;

const integers: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('0', '1', '-1', '3', '1024', '65536', '1073741824', '2147483648', '4611686018427387904', '18446744073709551615', '1.0', '1e3'),
  fc.integer({ min: -100, max: 70000 }).map(String),
  numberToken,
);

/** Members whose values must stay harmless or should hit what exists. */
function specialMember(name: string | undefined): fc.Arbitrary<string> | undefined {
  switch (name) {
    case 'command-line':
      return jsonString(hmpLine);
    case 'logfile':
      // Never a file that can be created: no such directory, or a NUL byte Node refuses.
      return jsonString(fc.constantFrom('', '/nonexistent-chardevd-fuzz/log', '/nonexistent-chardevd-fuzz/a\u0000b', '\u0000'));
    case 'id':
    case 'device':
    case 'chardev':
    case 'hub':
    case 'member':
    case 'peer':
      return jsonString(ids);
    case 'chardevs':
      return fc.array(jsonString(ids), { maxLength: 4 }).map((items) => `[${items.join(', ')}]`);
    default:
      return undefined;
  }
}

const cache = new Map<string, fc.Arbitrary<string>>();

/** JSON text for a value of QAPI type `type` (the member's name picks special values), now and then of the wrong type. */
function valueOf(type: string, member: string | undefined, depth: number): fc.Arbitrary<string> {
  const key = `${type}/${member ?? ''}/${depth}`;
  let arbitrary = cache.get(key);
  if (arbitrary === undefined) {
    const right = specialMember(member) ?? rightValueOf(type, depth);
    arbitrary = fc.oneof({ arbitrary: right, weight: 12 }, { arbitrary: anyJson, weight: 1 });
    cache.set(key, arbitrary);
  }
  return arbitrary;
}

function rightValueOf(type: string, depth: number): fc.Arbitrary<string> {
  switch (type) {
    case 'str':
      return jsonString(hostileText);
    case 'int':
    case 'int8':
    case 'int16':
    case 'int32':
    case 'int64':
    case 'uint8':
    case 'uint16':
    case 'uint32':
    case 'uint64':
    case 'size':
      return integers;
    case 'number':
      return numberToken;
    case 'bool':
      return fc.constantFrom('true', 'false');
    case 'null':
      return fc.constant('null');
    case 'any':
      return anyJson;
    case 'QType':
      return jsonString(fc.constantFrom('none', 'qnull', 'qnum', 'qstring', 'qdict', 'qlist', 'qbool', 'qint'));
    default:
      break;
  }
  const spec = qapiTypeTable[type];
  if (spec === undefined || depth > 6) return anyJson;
  switch (spec.kind) {
    case 'enum': {
      const values = type === 'ChardevBackendKind' ? spec.values.filter((v) => SAFE_BACKENDS.has(v)) : spec.values;
      return jsonString(
        fc.oneof({ arbitrary: fc.constantFrom(...values), weight: 5 }, { arbitrary: fc.constantFrom('', 'NULL', 'ringbuf ', 'memory\u0000', 'nosuch'), weight: 1 }),
      );
    }
    case 'array':
      return fc.array(valueOf(spec.element, undefined, depth + 1), { maxLength: 4 }).map((items) => `[${items.join(', ')}]`);
    case 'alternate':
      return fc.oneof(...spec.branches.map((branch) => valueOf(branch, undefined, depth + 1)));
    case 'object':
      return objectOf(type, depth);
  }
}

/** An object of a QAPI struct or union: each member present or not, in any order, now and then an unknown one. */
function objectOf(type: string, depth: number): fc.Arbitrary<string> {
  const spec = qapiTypeTable[type];
  if (spec === undefined || spec.kind !== 'object') return anyJson;
  const members = spec.members.map(({ name, type: memberType, optional }) =>
    fc
      .tuple(fc.integer({ min: 0, max: 9 }), valueOf(memberType, name, depth + 1))
      .map(([roll, value]) => (roll < (optional === true ? 5 : 9) ? `${JSON.stringify(name)}: ${value}` : undefined)),
  );
  const extra = sometimes(
    fc.tuple(jsonString(fc.constantFrom('nosuch', 'data', 'type', 'id', '', 'chardev', 'peer')), anyJson).map(([k, v]) => `${k}: ${v}`),
    12,
  );
  const base = fc.tuple(fc.tuple(...members), extra);
  const render = (parts: (string | undefined | null)[], order: number): string => {
    const present = parts.filter((p): p is string => typeof p === 'string');
    // QAPI takes members in any order; rotating them tries some.
    const rotated = present.map((_, i) => present[(i + order) % present.length]!);
    return `{${rotated.join(', ')}}`;
  };
  if (spec.tag === undefined || spec.variants === undefined) {
    return fc.tuple(base, fc.nat(8)).map(([[parts, more], order]) => render([...parts, more], order));
  }
  // A union: the discriminator's value picks the branch's members.
  const variants = spec.variants;
  const tags = Object.keys(variants).filter((tag) => type !== 'ChardevBackend' || SAFE_BACKENDS.has(tag));
  return fc.constantFrom(...tags).chain((tag) => {
    const branch = objectOf(variants[tag]!, depth + 1).map((text) => text.slice(1, -1));
    const tagMember = `${JSON.stringify(spec.tag)}: `;
    return fc.tuple(base, branch, fc.nat(8), fc.nat(9)).map(([[parts, more], members, order, keep]) =>
      // Now and then the discriminator keeps the value of its own (another backend, the wrong type).
      render([...parts.map((p) => (p?.startsWith(tagMember) === true && keep > 0 ? `${tagMember}${JSON.stringify(tag)}` : p)), members, more], order),
    );
  });
}

const commandSpecs = new Map(qmpCommandSpecs.map((spec) => [spec.name, spec]));

/** Arguments for `command`: its own argument type's shape, or none, or the wrong type altogether. */
export function argumentsFor(command: string): fc.Arbitrary<string> {
  const argType = commandSpecs.get(command)?.argType;
  const shaped = argType === undefined ? fc.constant('{}') : objectOf(argType, 0);
  return fc.oneof({ arbitrary: shaped, weight: 8 }, { arbitrary: anyJson, weight: 1 });
}
