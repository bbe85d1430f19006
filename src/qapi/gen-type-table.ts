import { type Defines, evalIfCond } from './conditions.js';
import type { QapiSchema, QapiType } from './model.js';
import { GeneratedFile } from './printer.js';

/**
 * The data the runtime input visitor checks command arguments with (the
 * role of QEMU's visit.py output): every type reachable from a command's
 * arguments, by QAPI name.
 */
export function generateTypeTable(schema: QapiSchema, defines: Defines, source: string): GeneratedFile {
  const file = new GeneratedFile('qapi-type-table.gen.ts', source);
  file.import('../qapi-runtime/index.js', 'TypeTable');
  const roots: QapiType[] = [];
  for (const entity of schema.entities) {
    if (entity.kind === 'command' && entity.argType !== undefined && evalIfCond(entity.ifcond, defines)) roots.push(entity.argType);
  }
  const reached = reachableTypes(roots, defines);
  file.print('/** Argument types of every command, for the input visitor. */', 'export const qapiTypeTable: TypeTable = {');
  for (const [name, spec] of Object.entries(typeTableOf(reached, defines))) file.print(`  '${name}': ${printSpec(spec)},`);
  file.print('};');
  return file;
}

/** The runtime's TypeSpec (src/qapi-runtime/type-table.ts), as plain data. */
type TableEntry =
  | { kind: 'enum'; values: string[] }
  | { kind: 'array'; element: string }
  | { kind: 'object'; members: { name: string; type: string; optional?: true }[]; tag?: string; variants?: { [value: string]: string } }
  | { kind: 'alternate'; branches: string[] };

/** The input visitor's table for `types`, by QAPI name. */
export function typeTableOf(types: readonly QapiType[], defines: Defines): { [name: string]: TableEntry } {
  const table: { [name: string]: TableEntry } = {};
  for (const type of types) {
    switch (type.kind) {
      case 'enum':
        table[type.name] = { kind: 'enum', values: type.members.filter((m) => evalIfCond(m.ifcond, defines)).map((m) => m.name) };
        break;
      case 'array':
        table[type.name] = { kind: 'array', element: type.elementType.name };
        break;
      case 'alternate':
        table[type.name] = { kind: 'alternate', branches: type.variants.filter((v) => evalIfCond(v.ifcond, defines)).map((v) => v.type.name) };
        break;
      case 'object': {
        const entry: TableEntry = {
          kind: 'object',
          members: type.members
            .filter((m) => evalIfCond(m.ifcond, defines))
            .map((m) => (m.optional ? { name: m.name, type: m.type.name, optional: true } : { name: m.name, type: m.type.name })),
        };
        if (type.variants !== undefined) {
          entry.tag = type.variants.tagMember.name;
          entry.variants = {};
          for (const v of type.variants.variants) if (evalIfCond(v.ifcond, defines) && v.type.name !== 'q_empty') entry.variants[v.name] = v.type.name;
        }
        table[type.name] = entry;
        break;
      }
      case 'builtin':
        break;
    }
  }
  return table;
}

function printSpec(spec: TableEntry): string {
  const list = (items: readonly string[]): string => `[${items.map((i) => `'${i}'`).join(', ')}]`;
  switch (spec.kind) {
    case 'enum':
      return `{ kind: 'enum', values: ${list(spec.values)} }`;
    case 'array':
      return `{ kind: 'array', element: '${spec.element}' }`;
    case 'alternate':
      return `{ kind: 'alternate', branches: ${list(spec.branches)} }`;
    case 'object': {
      const lines = ['{', "    kind: 'object',", '    members: ['];
      for (const m of spec.members) lines.push(`      { name: '${m.name}', type: '${m.type}'${m.optional ? ', optional: true' : ''} },`);
      lines.push('    ],');
      if (spec.tag !== undefined) {
        lines.push(`    tag: '${spec.tag}',`, '    variants: {');
        for (const [value, type] of Object.entries(spec.variants ?? {})) lines.push(`      '${value}': '${type}',`);
        lines.push('    },');
      }
      lines.push('  }');
      return lines.join('\n');
    }
  }
}

/** Every non-builtin type reachable from `roots`, in order of first use. */
export function reachableTypes(roots: readonly QapiType[], defines: Defines): QapiType[] {
  const reached: QapiType[] = [];
  const seen = new Set<string>();
  const reach = (type: QapiType): void => {
    if (type.kind === 'builtin' || seen.has(type.name)) return;
    seen.add(type.name);
    reached.push(type);
    if (type.kind === 'array') reach(type.elementType);
    if (type.kind === 'alternate') for (const v of type.variants) if (evalIfCond(v.ifcond, defines)) reach(v.type);
    if (type.kind === 'object') {
      for (const m of type.members) if (evalIfCond(m.ifcond, defines)) reach(m.type);
      for (const v of type.variants?.variants ?? []) if (evalIfCond(v.ifcond, defines)) reach(v.type);
    }
  };
  for (const root of roots) reach(root);
  return reached;
}
