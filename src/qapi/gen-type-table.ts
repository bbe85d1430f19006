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
  for (const entity of schema.entities) {
    if (entity.kind === 'command' && entity.argType !== undefined && evalIfCond(entity.ifcond, defines)) reach(entity.argType);
  }

  file.print('/** Argument types of every command, for the input visitor. */', 'export const qapiTypeTable: TypeTable = {');
  for (const type of reached) {
    const key = `  '${type.name}': `;
    switch (type.kind) {
      case 'enum': {
        const values = type.members.filter((m) => evalIfCond(m.ifcond, defines)).map((m) => `'${m.name}'`);
        file.print(`${key}{ kind: 'enum', values: [${values.join(', ')}] },`);
        break;
      }
      case 'array':
        file.print(`${key}{ kind: 'array', element: '${type.elementType.name}' },`);
        break;
      case 'alternate': {
        const branches = type.variants.filter((v) => evalIfCond(v.ifcond, defines)).map((v) => `'${v.type.name}'`);
        file.print(`${key}{ kind: 'alternate', branches: [${branches.join(', ')}] },`);
        break;
      }
      case 'object': {
        file.print(`${key}{`, "    kind: 'object',", '    members: [');
        for (const m of type.members) {
          if (!evalIfCond(m.ifcond, defines)) continue;
          file.print(`      { name: '${m.name}', type: '${m.type.name}'${m.optional ? ', optional: true' : ''} },`);
        }
        file.print('    ],');
        if (type.variants !== undefined) {
          file.print(`    tag: '${type.variants.tagMember.name}',`, '    variants: {');
          for (const v of type.variants.variants) {
            if (evalIfCond(v.ifcond, defines) && v.type.name !== 'q_empty') file.print(`      '${v.name}': '${v.type.name}',`);
          }
          file.print('    },');
        }
        file.print('  },');
        break;
      }
      case 'builtin':
        break;
    }
  }
  file.print('};');
  return file;
}
