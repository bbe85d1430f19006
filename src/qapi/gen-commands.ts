import { type Defines, evalIfCond } from './conditions.js';
import { docText } from './doc-text.js';
import type { QapiCommand, QapiSchema, QapiType } from './model.js';
import { tsTypeRef } from './names.js';
import { GeneratedFile } from './printer.js';

/** Commands of the schema whose `if` holds, in schema order. */
export function enabledCommands(schema: QapiSchema, defines: Defines): QapiCommand[] {
  return schema.entities.filter((e): e is QapiCommand => e.kind === 'command' && evalIfCond(e.ifcond, defines));
}

/** Imports a type's declaration from the types file when it has one. */
export function importTypeRef(file: GeneratedFile, type: QapiType | undefined): void {
  if (type === undefined) return;
  if (type.kind === 'array') return importTypeRef(file, type.elementType);
  if (type.kind !== 'builtin') file.import('./qapi-types.gen.js', tsTypeRef(type));
}

/**
 * A `gen: false` command (QEMU's device_add) takes properties beyond its
 * declared members, so its arguments type admits any other member.
 */
export function argumentsTypeRef(command: QapiCommand): string {
  if (command.argType === undefined) return 'undefined';
  return command.gen ? tsTypeRef(command.argType) : `${tsTypeRef(command.argType)} & { readonly [property: string]: unknown }`;
}

/** A command without `returns` answers `{}` (QEMU's q_empty). */
export function returnsTypeRef(command: QapiCommand): string {
  return command.retType === undefined ? 'Record<string, never>' : tsTypeRef(command.retType);
}

/**
 * The dispatch table (QEMU's commands.py): a map from command name to its
 * argument and return types, the specs dispatch checks requests against,
 * and the handler interface a server must implement in full.
 */
export function generateCommands(schema: QapiSchema, defines: Defines, source: string): GeneratedFile {
  const file = new GeneratedFile('qapi-commands.gen.ts', source);
  file.import('../qapi-runtime/index.js', 'CommandSpec');
  const commands = enabledCommands(schema, defines);

  file.print('/** Every command: its arguments (undefined when it takes none) and its return value. */');
  file.print('export interface QmpCommands {');
  for (const command of commands) {
    importTypeRef(file, command.argType);
    importTypeRef(file, command.retType);
    file.jsDoc(docText(command.doc, command.features), '  ');
    file.print(`  '${command.name}': { arguments: ${argumentsTypeRef(command)}; returns: ${returnsTypeRef(command)} };`);
  }
  file.print('}', '');

  file.print('/** Dispatch data of every command, in schema order. */', 'export const qmpCommandSpecs: readonly CommandSpec[] = [');
  for (const command of commands) {
    const features = command.features.filter((f) => evalIfCond(f.ifcond, defines)).map((f) => `'${f.name}'`);
    const fields = [
      `name: '${command.name}'`,
      ...(command.argType !== undefined ? [`argType: '${command.argType.name}'`] : []),
      `boxed: ${command.boxed}`,
      ...(command.gen ? [] : ['gen: false']),
      `allowOob: ${command.allowOob}`,
      `allowPreconfig: ${command.allowPreconfig}`,
      `features: [${features.join(', ')}]`,
    ];
    file.print(`  { ${fields.join(', ')} },`);
  }
  file.print('];', '');

  const unchecked = commands.filter((command) => !command.gen).map((command) => `'${command.name}'`);
  file.print(
    "/** Commands whose handler checks its own arguments (schema `gen: false`, as QEMU's hand-written marshallers). */",
    `export type QmpUncheckedCommands = ${unchecked.length === 0 ? 'never' : unchecked.join(' | ')};`,
    '',
    '/** One handler per command; a server that leaves one out does not compile. */',
    'export type QmpCommandHandlers<Context> = {',
    '  [K in keyof QmpCommands]: (',
    "    args: K extends QmpUncheckedCommands ? { readonly [member: string]: unknown } : QmpCommands[K]['arguments'],",
    '    context: Context,',
    "  ) => QmpCommands[K]['returns'] | Promise<QmpCommands[K]['returns']>;",
    '};',
  );
  return file;
}
