import { type Defines, evalIfCond } from './conditions.js';
import type { QapiFeature, QapiSchema, QapiType } from './model.js';
import { GeneratedFile } from './printer.js';

type Tree = { [key: string]: string | boolean | null | Tree | Tree[] | string[] };

/**
 * `query-qmp-schema` data in QEMU's SchemaInfo shape, built the way
 * scripts/qapi/introspect.py builds it: commands and events in schema
 * order, then every type they use, in order of first use. Type names are
 * masked as decimal numbers (clients must look at commands and events, not
 * type names); all integer types collapse to `int`; arrays are `[<elem>]`.
 */
export function generateIntrospection(schema: QapiSchema, defines: Defines, source: string): GeneratedFile {
  const file = new GeneratedFile('qapi-introspect.gen.ts', source);
  const trees = buildSchemaInfo(schema, defines);
  const schemaInfo = schema.lookup('SchemaInfo');
  const elementType = schemaInfo !== undefined && schemaInfo.kind === 'object' ? 'SchemaInfo' : 'unknown';
  if (elementType === 'SchemaInfo') file.import('./qapi-types.gen.js', 'SchemaInfo');
  file.print('/** The reply of `query-qmp-schema`. */', `export const qmpSchemaInfo: readonly ${elementType}[] = [`);
  for (const tree of trees) file.print(`  ${JSON.stringify(tree)},`);
  file.print('];');
  return file;
}

export function buildSchemaInfo(schema: QapiSchema, defines: Defines): Tree[] {
  const trees: Tree[] = [];
  const used: QapiType[] = [];
  const names = new Map<string, string>();
  const enabled = (item: { ifcond: Parameters<typeof evalIfCond>[0] }): boolean => evalIfCond(item.ifcond, defines);

  const maskedName = (name: string): string => {
    let masked = names.get(name);
    if (masked === undefined) {
      masked = String(names.size);
      names.set(name, masked);
    }
    return masked;
  };

  const lookupBuiltin = (name: string): QapiType => {
    const type = schema.lookup(name);
    if (type === undefined || type.kind === 'command' || type.kind === 'event') throw new Error(`built-in type ${name} missing`);
    return type;
  };

  // QEMU predefines an array type for every built-in; `[int]` stands for every integer array.
  const int = lookupBuiltin('int');
  const intList: QapiType = (schema.lookup('intList') as QapiType | undefined) ?? {
    kind: 'array',
    name: 'intList',
    elementType: int,
    info: undefined,
    doc: undefined,
    ifcond: undefined,
    features: [],
    implicit: true,
  };

  const useType = (original: QapiType): string => {
    let type = original;
    if (jsonTypeOf(type) === 'int') type = lookupBuiltin('int');
    else if (type.kind === 'array' && jsonTypeOf(type.elementType) === 'int') type = intList;
    if (!used.includes(type)) used.push(type);
    if (type.kind === 'builtin') return type.name;
    if (type.kind === 'array') return `[${useType(type.elementType)}]`;
    return maskedName(type.name);
  };

  const withFeatures = (tree: Tree, features: readonly QapiFeature[]): Tree => {
    const list = features.filter(enabled).map((f) => f.name);
    if (list.length > 0) tree['features'] = list;
    return tree;
  };

  for (const entity of schema.entities) {
    if (!enabled(entity)) continue;
    if (entity.kind === 'command') {
      const tree: Tree = {
        name: entity.name,
        'meta-type': 'command',
        'arg-type': useType(entity.argType ?? emptyType(schema)),
        'ret-type': useType(entity.retType ?? emptyType(schema)),
      };
      if (entity.allowOob) tree['allow-oob'] = true;
      trees.push(withFeatures(tree, entity.features));
    } else if (entity.kind === 'event') {
      trees.push(withFeatures({ name: entity.name, 'meta-type': 'event', 'arg-type': useType(entity.argType ?? emptyType(schema)) }, entity.features));
    }
  }

  // Visiting a type may use further types; `used` grows while we walk it.
  for (let i = 0; i < used.length; i++) {
    const type = used[i]!;
    switch (type.kind) {
      case 'builtin':
        trees.push({ name: type.name, 'meta-type': 'builtin', 'json-type': type.jsonType });
        break;
      case 'enum': {
        const members = type.members.filter(enabled);
        trees.push(
          withFeatures(
            {
              name: maskedName(type.name),
              'meta-type': 'enum',
              members: members.map((m) => withFeatures({ name: m.name }, m.features)),
              values: members.map((m) => m.name),
            },
            type.features,
          ),
        );
        break;
      }
      case 'array':
        trees.push({ name: `[${useType(type.elementType)}]`, 'meta-type': 'array', 'element-type': useType(type.elementType) });
        break;
      case 'object': {
        const tree: Tree = {
          name: maskedName(type.name),
          'meta-type': 'object',
          members: type.members.filter(enabled).map((m) => {
            const member: Tree = { name: m.name, type: useType(m.type) };
            if (m.optional) member['default'] = null;
            return withFeatures(member, m.features);
          }),
        };
        if (type.variants !== undefined) {
          tree['tag'] = type.variants.tagMember.name;
          tree['variants'] = type.variants.variants.filter(enabled).map((v) => ({ case: v.name, type: useType(v.type) }));
        }
        trees.push(withFeatures(tree, type.features));
        break;
      }
      case 'alternate':
        trees.push(
          withFeatures(
            {
              name: maskedName(type.name),
              'meta-type': 'alternate',
              members: type.variants.filter(enabled).map((v) => ({ type: useType(v.type) })),
            },
            type.features,
          ),
        );
        break;
    }
  }
  return trees;
}

function emptyType(schema: QapiSchema): QapiType {
  const empty = schema.lookup('q_empty');
  if (empty === undefined || empty.kind !== 'object') throw new Error('q_empty missing from the schema');
  return empty;
}

function jsonTypeOf(type: QapiType): string {
  if (type.kind === 'builtin') return type.jsonType;
  if (type.kind === 'enum') return 'string';
  if (type.kind === 'array') return 'array';
  if (type.kind === 'object') return 'object';
  return 'value';
}
