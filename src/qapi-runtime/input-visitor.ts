import { ChardevdError } from '../base/error.js';
import { isJsonObject, type JsonValue } from '../qobject/json-value.js';
import { JsonDouble } from '../qobject/json-double.js';
import { firstUnvisitedMember } from './ghash-order.js';
import { qdictOrder } from '../qobject/qdict-order.js';
import type { AlternateSpec, ArraySpec, BuiltinTypeName, ObjectSpec, TypeSpec, TypeTable } from './type-table.js';
import { BUILTIN_TYPES } from './type-table.js';

/**
 * An argument QEMU's input visitor would refuse. The message is the QMP
 * error description, verbatim (qapi/qobject-input-visitor.c,
 * qapi/qapi-visit-core.c); the wire class is always GenericError.
 */
export class QapiInputError extends ChardevdError {
  override readonly name = 'QapiInputError';
  readonly code = 'QAPI_INPUT_INVALID';
}

/** QType values (qapi/common.json), the only enum the runtime knows by itself. */
const QTYPE_VALUES: ReadonlySet<string> = new Set(['none', 'qnull', 'qnum', 'qstring', 'qdict', 'qlist', 'qbool']);

/** Integer ranges QEMU checks after reading an int64/uint64 (visit_type_intN). */
const INT_RANGES: { readonly [name: string]: readonly [bigint, bigint] } = {
  int8: [-0x80n, 0x7fn],
  int16: [-0x8000n, 0x7fffn],
  int32: [-0x80000000n, 0x7fffffffn],
  uint8: [0n, 0xffn],
  uint16: [0n, 0xffffn],
  uint32: [0n, 0xffffffffn],
};

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/**
 * A position in the value being visited, for QEMU's error names: members
 * append `.name`, list elements `[index]` (qobject-input-visitor.c full_name_nth).
 */
interface Path {
  readonly parent: Path | undefined;
  readonly segment: string;
}

function fullName(path: Path | undefined, name: string | null): string {
  let text = name ?? '';
  for (let p = path; p !== undefined; p = p.parent) text = p.segment + (text.startsWith('[') || text === '' ? text : `.${text}`);
  return text === '' ? '<anonymous>' : text;
}

type Linked = LinkedBuiltin | LinkedEnum | LinkedArray | LinkedObject | LinkedAlternate;
interface LinkedBuiltin {
  readonly kind: 'builtin';
  readonly name: BuiltinTypeName;
}
interface LinkedEnum {
  readonly kind: 'enum';
  readonly values: ReadonlySet<string>;
}
interface LinkedArray {
  readonly kind: 'array';
  element: Linked;
}
interface LinkedMember {
  readonly name: string;
  type: Linked;
  readonly optional: boolean;
}
interface LinkedObject {
  readonly kind: 'object';
  readonly members: LinkedMember[];
  readonly tag: string | undefined;
  readonly variants: Map<string, LinkedObject>;
}
interface LinkedAlternate {
  readonly kind: 'alternate';
  readonly name: string;
  readonly branches: Linked[];
}

/** The JSON integer a QEMU QNum holds as int64/uint64, or undefined for doubles. */
function integerOf(value: JsonValue): bigint | undefined {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  return undefined;
}

/**
 * Checks QMP arguments against the generated type table and returns a fresh
 * value holding only schema members, the way QEMU's generated visitors fill a
 * C struct: members in schema order, missing / wrong-type errors in that
 * order, then an unvisited member as "unexpected" (the one QEMU would pick,
 * see ghash-order.ts).
 */
export class InputValidator {
  readonly #table: TypeTable;
  /** Types linked so far: a type is linked when a command first needs it, not all at construction (about 2 ms of the daemon's start-up). */
  readonly #linked = new Map<string, Linked>();

  constructor(table: TypeTable) {
    this.#table = table;
    for (const name of BUILTIN_TYPES) this.#linked.set(name, { kind: 'builtin', name });
  }

  /** Validates the top-level `arguments` object of a command (absent = `{}`). */
  validateArguments(typeName: string, args: { [key: string]: JsonValue } | undefined): unknown {
    const type = this.#resolve(typeName);
    if (type.kind !== 'object') throw new TypeError(`argument type ${typeName} is not an object type`);
    return this.#visitObject(type, args ?? {}, undefined);
  }

  #resolve(name: string): Linked {
    const linked = this.#linked.get(name);
    if (linked !== undefined) return linked;
    if (!Object.hasOwn(this.#table, name)) throw new TypeError(`unknown QAPI type ${name}`);
    const spec = this.#table[name]!;
    const type = this.#shell(name, spec);
    // Kept before its members are linked, so that a recursive reference resolves to it.
    this.#linked.set(name, type);
    this.#fill(type, spec);
    return type;
  }

  #shell(name: string, spec: TypeSpec): Linked {
    switch (spec.kind) {
      case 'enum':
        return { kind: 'enum', values: new Set(spec.values) };
      case 'array':
        return { kind: 'array', element: this.#linked.get('any')! };
      case 'object':
        return { kind: 'object', members: [], tag: spec.tag, variants: new Map() };
      case 'alternate':
        return { kind: 'alternate', name, branches: [] };
    }
  }

  #fill(target: Linked, spec: TypeSpec): void {
    if (target.kind === 'array') {
      target.element = this.#resolve((spec as ArraySpec).element);
    } else if (target.kind === 'object') {
      const object = spec as ObjectSpec;
      for (const m of object.members) target.members.push({ name: m.name, type: this.#resolve(m.type), optional: m.optional === true });
      for (const [value, typeName] of Object.entries(object.variants ?? {})) {
        const branch = this.#resolve(typeName);
        if (branch.kind !== 'object') throw new TypeError(`union branch ${typeName} is not an object type`);
        target.variants.set(value, branch);
      }
    } else if (target.kind === 'alternate') {
      for (const b of (spec as AlternateSpec).branches) target.branches.push(this.#resolve(b));
    }
  }

  #visit(type: Linked, value: JsonValue, name: string | null, path: Path | undefined): unknown {
    switch (type.kind) {
      case 'builtin':
        return this.#visitBuiltin(type.name, value, name, path);
      case 'enum':
        return this.#visitEnum(type.values, value, name, path);
      case 'array': {
        if (!Array.isArray(value)) throw invalidType(path, name, 'array');
        const listPath: Path = { parent: path, segment: name ?? '' };
        return value.map((element, index) => this.#visit(type.element, element, null, { parent: listPath, segment: `[${index}]` }));
      }
      case 'object': {
        if (!isJsonObject(value)) throw invalidType(path, name, 'object');
        return this.#visitObject(type, value, name === null ? path : { parent: path, segment: name });
      }
      case 'alternate':
        return this.#visitAlternate(type, value, name, path);
    }
  }

  #visitObject(type: LinkedObject, value: { [key: string]: JsonValue }, path: Path | undefined): unknown {
    const out: { [key: string]: unknown } = {};
    const visited: string[] = [];
    this.#visitMembers(type.members, value, path, out, visited);
    if (type.tag !== undefined) {
      const branch = type.variants.get(out[type.tag] as string);
      if (branch !== undefined) this.#visitMembers(branch.members, value, path, out, visited);
    }
    const keys = Object.keys(value);
    if (keys.length > visited.length) {
      const unexpected = firstUnvisitedMember(qdictOrder(keys), visited)!;
      throw new QapiInputError(`Parameter '${fullName(path, unexpected)}' is unexpected`);
    }
    return out;
  }

  #visitMembers(members: readonly LinkedMember[], value: { [key: string]: JsonValue }, path: Path | undefined, out: { [key: string]: unknown }, visited: string[]): void {
    for (const member of members) {
      const memberValue = Object.hasOwn(value, member.name) ? value[member.name] : undefined;
      if (memberValue === undefined) {
        if (member.optional) continue;
        throw new QapiInputError(`Parameter '${fullName(path, member.name)}' is missing`);
      }
      visited.push(member.name);
      out[member.name] = this.#visit(member.type, memberValue, member.name, path);
    }
  }

  #visitAlternate(type: LinkedAlternate, value: JsonValue, name: string | null, path: Path | undefined): unknown {
    const branch = type.branches.find((b) => acceptsJsonType(b, value));
    // qapi-visit.c of an alternate: a value of a JSON type no branch takes
    // names the alternate type, with the member's own name only.
    if (branch === undefined) throw new QapiInputError(`Invalid parameter type for '${name ?? 'null'}', expected: ${type.name}`);
    return this.#visit(branch, value, name, path);
  }

  #visitEnum(values: ReadonlySet<string>, value: JsonValue, name: string | null, path: Path | undefined): string {
    if (typeof value !== 'string') throw invalidType(path, name, 'string');
    // qapi-visit-core.c input_type_enum names the member only, not its path.
    if (!values.has(value)) throw new QapiInputError(`Parameter '${name ?? 'null'}' does not accept value '${value}'`);
    return value;
  }

  #visitBuiltin(builtin: BuiltinTypeName, value: JsonValue, name: string | null, path: Path | undefined): unknown {
    switch (builtin) {
      case 'str':
        if (typeof value !== 'string') throw invalidType(path, name, 'string');
        return value;
      case 'bool':
        if (typeof value !== 'boolean') throw invalidType(path, name, 'boolean');
        return value;
      case 'null':
        if (value !== null) throw invalidType(path, name, 'null');
        return null;
      case 'any':
        return value;
      case 'number':
        if (value instanceof JsonDouble) return value.value;
        if (typeof value === 'number') return value;
        if (typeof value === 'bigint') return Number(value);
        throw invalidType(path, name, 'number');
      case 'QType':
        return this.#visitEnum(QTYPE_VALUES, value, name, path);
      case 'int':
      case 'int64':
      case 'int8':
      case 'int16':
      case 'int32': {
        const n = integerOf(value);
        if (n === undefined || n < INT64_MIN || n > INT64_MAX) throw invalidType(path, name, 'integer');
        return checkRange(builtin, n, name);
      }
      case 'uint64':
      case 'size':
      case 'uint8':
      case 'uint16':
      case 'uint32': {
        const n = integerOf(value);
        if (n === undefined || n < INT64_MIN || n > UINT64_MAX) throw invalidType(path, name, 'integer');
        // qobject_input_type_uint64 accepts negative int64 values "for
        // backward compatibility" and reinterprets them as uint64.
        return checkRange(builtin, n < 0n ? n + 2n ** 64n : n, name);
      }
    }
  }
}

function checkRange(builtin: BuiltinTypeName, n: bigint, name: string | null): number {
  const range = INT_RANGES[builtin];
  if (range !== undefined && (n < range[0] || n > range[1])) {
    throw new QapiInputError(`Parameter '${name ?? 'null'}' expects ${builtin}`);
  }
  return Number(n);
}

function invalidType(path: Path | undefined, name: string | null, expected: string): QapiInputError {
  return new QapiInputError(`Invalid parameter type for '${fullName(path, name)}', expected: ${expected}`);
}

/** Which alternate branch a value selects: by JSON type, as QEMU's QType switch. */
function acceptsJsonType(type: Linked, value: JsonValue): boolean {
  switch (type.kind) {
    case 'enum':
      return typeof value === 'string';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isJsonObject(value);
    case 'alternate':
      return false;
    case 'builtin':
      switch (type.name) {
        case 'str':
        case 'QType':
          return typeof value === 'string';
        case 'bool':
          return typeof value === 'boolean';
        case 'null':
          return value === null;
        case 'any':
          return true;
        case 'number':
          return typeof value === 'number' || typeof value === 'bigint' || value instanceof JsonDouble;
        default:
          return typeof value === 'number' || typeof value === 'bigint';
      }
  }
}
