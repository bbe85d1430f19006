import { type Defines, evalIfCond } from './conditions.js';
import { docText, memberDocText } from './doc-text.js';
import type { QapiAlternateType, QapiEnumType, QapiObjectType, QapiSchema } from './model.js';
import { propertyKey, tsDeclName, tsTypeRef } from './names.js';
import { GeneratedFile } from './printer.js';

/**
 * TypeScript declarations for every named type of the schema (QEMU's
 * types.py). Wire member names stay verbatim; unions become discriminated
 * unions over the tag member; alternates become plain unions.
 */
export function generateTypes(schema: QapiSchema, defines: Defines, source: string): GeneratedFile {
  const file = new GeneratedFile('qapi-types.gen.ts', source);
  for (const entity of schema.entities) {
    if (!evalIfCond(entity.ifcond, defines)) continue;
    switch (entity.kind) {
      case 'enum':
        printEnum(file, entity, defines);
        break;
      case 'object':
        if (entity.name === 'q_empty') {
          file.print('/** An object without members. */', 'export type QEmpty = Record<string, never>;', '');
        } else if (entity.variants !== undefined) {
          printUnion(file, entity, defines);
        } else {
          printStruct(file, entity, defines);
        }
        break;
      case 'alternate':
        printAlternate(file, entity, defines);
        break;
      default:
        break;
    }
  }
  return file;
}

function printEnum(file: GeneratedFile, type: QapiEnumType, defines: Defines): void {
  const values = type.members.filter((m) => evalIfCond(m.ifcond, defines)).map((m) => `'${m.name}'`);
  file.jsDoc(docText(type.doc, type.features));
  file.print(`export type ${tsDeclName(type.name)} = ${values.length === 0 ? 'never' : values.join(' | ')};`, '');
}

function printStruct(file: GeneratedFile, type: QapiObjectType, defines: Defines): void {
  file.jsDoc(docText(type.doc, type.features));
  const base = type.base !== undefined && type.base.name !== 'q_empty' ? ` extends ${tsDeclName(type.base.name)}` : '';
  const members = type.localMembers.filter((m) => evalIfCond(m.ifcond, defines));
  if (members.length === 0 && base === '') {
    file.print(`export type ${tsDeclName(type.name)} = Record<string, never>;`, '');
    return;
  }
  file.print(`export interface ${tsDeclName(type.name)}${base} {`);
  for (const member of members) {
    file.jsDoc(memberDocText(type.doc, member.name, member.features), '  ');
    file.print(`  ${propertyKey(member.name)}${member.optional ? '?' : ''}: ${tsTypeRef(member.type)};`);
  }
  file.print('}', '');
}

function printUnion(file: GeneratedFile, type: QapiObjectType, defines: Defines): void {
  const { tagMember, variants } = type.variants!;
  // Unions rebuilt from introspection have their base members inline.
  const inline = type.members.filter((m) => m !== tagMember && evalIfCond(m.ifcond, defines));
  const base =
    type.base !== undefined
      ? tsDeclName(type.base.name)
      : inline.length > 0
        ? `{ ${inline.map((m) => `${propertyKey(m.name)}${m.optional ? '?' : ''}: ${tsTypeRef(m.type)}`).join('; ')} }`
        : undefined;
  const branches = variants
    .filter((v) => evalIfCond(v.ifcond, defines))
    .map((v) => {
      const parts = [...(base !== undefined ? [base] : []), `{ ${propertyKey(tagMember.name)}: '${v.name}' }`];
      if (v.type.name !== 'q_empty') parts.push(tsTypeRef(v.type));
      return `(${parts.join(' & ')})`;
    });
  file.jsDoc(docText(type.doc, type.features));
  file.print(`export type ${tsDeclName(type.name)} =`, ...branches.map((b, i) => `  | ${b}${i === branches.length - 1 ? ';' : ''}`), '');
}

function printAlternate(file: GeneratedFile, type: QapiAlternateType, defines: Defines): void {
  const branches = type.variants.filter((v) => evalIfCond(v.ifcond, defines)).map((v) => tsTypeRef(v.type));
  file.jsDoc(docText(type.doc, type.features));
  file.print(`export type ${tsDeclName(type.name)} = ${branches.join(' | ')};`, '');
}
