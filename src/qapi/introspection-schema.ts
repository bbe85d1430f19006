import { pascalCase } from './names.js';
import type {
  QapiAlternateType,
  QapiArrayType,
  QapiBuiltinType,
  QapiCommand,
  QapiEntity,
  QapiEnumType,
  QapiEvent,
  QapiFeature,
  QapiJsonType,
  QapiObjectMember,
  QapiObjectType,
  QapiSchema,
  QapiType,
} from './model.js';

/** One entry of a `query-qmp-schema` reply, loosely typed: it comes from a live server. */
export interface SchemaInfoEntry {
  readonly name: string;
  readonly 'meta-type': string;
  readonly features?: readonly string[];
  readonly [member: string]: unknown;
}

/** A reply that does not have the SchemaInfo shape. */
export class IntrospectionError extends Error {
  override readonly name = 'IntrospectionError';
}

/** Introspection names every integer type `int`; the wire type of a built-in is its json-type. */
const BUILTIN_JSON: { readonly [name: string]: QapiJsonType } = {
  str: 'string',
  int: 'int',
  number: 'number',
  bool: 'boolean',
  null: 'null',
  any: 'value',
};

const base = { info: undefined, doc: undefined, ifcond: undefined, implicit: false } as const;

function features(entry: { features?: unknown }): QapiFeature[] {
  return Array.isArray(entry.features) ? entry.features.map((name) => ({ name: String(name), ifcond: undefined })) : [];
}

const isMasked = (name: string): boolean => /^\d+$/.test(name);

/**
 * QEMU masks the names of types in its introspection (`"123"`): only
 * commands, events and built-ins keep theirs. Readable names are derived
 * from where a type is first met, walking the commands and events in reply
 * order: a command's arguments become `ChardevAddArguments`, its return
 * `QueryStatusResult`, an event's data `ShutdownEventData`, a member's type
 * `<Owner stem><Member>` (`ChardevAddBackend`), a union branch
 * `<Owner><Case>`, an alternate's branch `<Owner>Branch<N>`. The same QEMU
 * always gives the same names; a clash gets a numeric suffix.
 */
export function readableTypeNames(reply: readonly SchemaInfoEntry[], byName: ReadonlyMap<string, SchemaInfoEntry>): Map<string, string> {
  const names = new Map<string, string>();
  const taken = new Set<string>();
  for (const entry of reply) if (!isMasked(entry.name)) taken.add(entry.name);
  const queue: { type: string; name: string }[] = [];
  const assign = (type: unknown, name: string): void => {
    if (typeof type !== 'string') return;
    const array = /^\[(.*)\]$/.exec(type);
    if (array) return assign(array[1], name);
    if (!isMasked(type) || names.has(type) || !byName.has(type)) return;
    let unique = name;
    for (let n = 2; taken.has(unique); n++) unique = `${name}${n}`;
    taken.add(unique);
    names.set(type, unique);
    queue.push({ type, name: unique });
  };
  for (const entry of reply) {
    const stem = pascalCase(entry.name);
    if (entry['meta-type'] === 'command') {
      assign(entry['arg-type'], `${stem}Arguments`);
      assign(entry['ret-type'], `${stem}Result`);
    } else if (entry['meta-type'] === 'event') {
      assign(entry['arg-type'], `${stem}EventData`);
    }
  }
  while (queue.length > 0) {
    const { type, name } = queue.shift()!;
    const entry = byName.get(type)!;
    const stem = name.replace(/(Arguments|Result|EventData)$/, '');
    if (entry['meta-type'] === 'object') {
      for (const m of (entry['members'] ?? []) as { name: string; type: string }[]) assign(m.type, `${stem}${pascalCase(m.name)}`);
      for (const v of (entry['variants'] ?? []) as { case: string; type: string }[]) assign(v.type, `${stem}${pascalCase(v.case)}`);
    } else if (entry['meta-type'] === 'alternate') {
      for (const [i, m] of ((entry['members'] ?? []) as { type: string }[]).entries()) assign(m.type, `${stem}Branch${i}`);
    }
  }
  return names;
}

/**
 * Rebuilds a schema model from a `query-qmp-schema` reply, so that the
 * generators can write types and a client for exactly the server that
 * answered (any QEMU, or chardevd). Masked type names ("123") get
 * readable ones (see readableTypeNames); the empty argument type of commands without arguments goes
 * away again.
 */
export function schemaFromIntrospection(reply: readonly SchemaInfoEntry[]): QapiSchema {
  const byName = new Map<string, SchemaInfoEntry>();
  for (const entry of reply) {
    if (typeof entry !== 'object' || entry === null || typeof entry.name !== 'string' || typeof entry['meta-type'] !== 'string') {
      throw new IntrospectionError(`not a SchemaInfo: ${JSON.stringify(entry)}`);
    }
    byName.set(entry.name, entry);
  }
  const types = new Map<string, QapiType>();
  const entities: QapiEntity[] = [];

  const readable = readableTypeNames(reply, byName);
  const typeName = (name: string): string => readable.get(name) ?? (/^\d+$/.test(name) ? `Type${name}` : name);

  const resolve = (name: string): QapiType => {
    const known = types.get(name);
    if (known !== undefined) return known;
    const builtin = BUILTIN_JSON[name];
    if (builtin !== undefined) {
      const type: QapiBuiltinType = { ...base, kind: 'builtin', name, jsonType: builtin, features: [] };
      types.set(name, type);
      return type;
    }
    const array = /^\[(.*)\]$/.exec(name);
    if (array) {
      const type: QapiArrayType = { ...base, kind: 'array', name: `${array[1]}List`, elementType: resolve(array[1]!), features: [], implicit: true };
      types.set(name, type);
      return type;
    }
    const entry = byName.get(name);
    if (entry === undefined) throw new IntrospectionError(`type ${name} is referenced but not described`);
    switch (entry['meta-type']) {
      case 'enum': {
        const members = Array.isArray(entry['members'])
          ? (entry['members'] as { name: string; features?: unknown }[]).map((m) => ({ name: m.name, ifcond: undefined, features: features(m) }))
          : ((entry['values'] ?? []) as string[]).map((v) => ({ name: v, ifcond: undefined, features: [] }));
        const type: QapiEnumType = { ...base, kind: 'enum', name: typeName(name), members, prefix: undefined, features: features(entry) };
        types.set(name, type);
        entities.push(type);
        return type;
      }
      case 'object': {
        const members: QapiObjectMember[] = [];
        const object: QapiObjectType & { members: QapiObjectMember[]; localMembers: QapiObjectMember[] } = {
          ...base,
          kind: 'object',
          name: typeName(name),
          base: undefined,
          localMembers: members,
          members,
          variants: undefined,
          features: features(entry),
        };
        // Registered before its members resolve: types may refer to themselves.
        types.set(name, object);
        for (const m of (entry['members'] ?? []) as { name: string; type: string; default?: unknown; features?: unknown }[]) {
          members.push({ name: m.name, type: resolve(m.type), optional: 'default' in m, ifcond: undefined, features: features(m), info: undefined });
        }
        const tag = entry['tag'];
        if (typeof tag === 'string') {
          const tagMember = members.find((m) => m.name === tag);
          if (tagMember === undefined) throw new IntrospectionError(`union ${name} has no member ${tag}`);
          const variants = ((entry['variants'] ?? []) as { case: string; type: string }[]).map((v) => ({
            name: v.case,
            type: resolve(v.type),
            ifcond: undefined,
            info: undefined,
          }));
          (object as { variants: QapiObjectType['variants'] }).variants = { tagMember, variants };
        }
        entities.push(object);
        return object;
      }
      case 'alternate': {
        const alternate: QapiAlternateType & { variants: QapiAlternateType['variants'][number][] } = {
          ...base,
          kind: 'alternate',
          name: typeName(name),
          variants: [],
          features: features(entry),
        };
        types.set(name, alternate);
        for (const [i, m] of ((entry['members'] ?? []) as { type: string }[]).entries()) {
          alternate.variants.push({ name: `branch${i}`, type: resolve(m.type), ifcond: undefined, info: undefined });
        }
        entities.push(alternate);
        return alternate;
      }
      default:
        throw new IntrospectionError(`${name} is a ${entry['meta-type']}, not a type`);
    }
  };

  /** Commands without arguments name an empty object type; the model has none. */
  const argType = (name: unknown): QapiObjectType | undefined => {
    if (typeof name !== 'string') throw new IntrospectionError(`bad arg-type ${JSON.stringify(name)}`);
    const type = resolve(name);
    if (type.kind !== 'object') throw new IntrospectionError(`arg-type ${name} is not an object type`);
    return type.members.length === 0 && type.variants === undefined ? undefined : type;
  };

  for (const entry of reply) {
    if (entry['meta-type'] === 'command') {
      const args = argType(entry['arg-type']);
      const ret = resolve(String(entry['ret-type']));
      const command: QapiCommand = {
        ...base,
        kind: 'command',
        name: entry.name,
        argType: args,
        retType: ret.kind === 'object' && ret.members.length === 0 && ret.variants === undefined ? undefined : ret,
        boxed: args?.variants !== undefined,
        allowOob: entry['allow-oob'] === true,
        allowPreconfig: false,
        coroutine: false,
        gen: true,
        successResponse: true,
        features: features(entry),
      };
      entities.push(command);
    } else if (entry['meta-type'] === 'event') {
      const args = argType(entry['arg-type']);
      const event: QapiEvent = { ...base, kind: 'event', name: entry.name, argType: args, boxed: args?.variants !== undefined, features: features(entry) };
      entities.push(event);
    }
  }
  const lookup = new Map<string, QapiEntity>();
  for (const entity of entities) lookup.set(entity.name, entity);
  return {
    entities,
    documentation: entities,
    files: [],
    lookup: (name) => lookup.get(name),
  };
}
