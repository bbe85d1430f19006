import type { Defines } from './conditions.js';
import { docText } from './doc-text.js';
import { argumentsTypeRef, enabledCommands, importTypeRef, returnsTypeRef } from './gen-commands.js';
import type { QapiSchema } from './model.js';
import { camelCase } from './names.js';
import { GeneratedFile } from './printer.js';

/**
 * The typed client surface: one camelCase method per command over an
 * untyped `call()` that a concrete client implements (the trpc split between
 * untyped core and typed proxy, without the proxy).
 */
export function generateClient(schema: QapiSchema, defines: Defines, source: string): GeneratedFile {
  const file = new GeneratedFile('qapi-client.gen.ts', source);
  file.import('../qapi-runtime/index.js', 'CallOptions');
  file.print(
    '/** Typed methods for every command; a client supplies `call`. */',
    'export abstract class QmpCommandMethods {',
    '  /** Sends one command and resolves with its `return` value. */',
    '  protected abstract call(name: string, args: object | undefined, options: CallOptions | undefined): Promise<unknown>;',
  );
  for (const command of enabledCommands(schema, defines)) {
    importTypeRef(file, command.argType);
    importTypeRef(file, command.retType);
    const args = command.argType === undefined ? '' : `args: ${argumentsTypeRef(command)}, `;
    // Arguments whose members are all optional may be left out, as in QMP.
    const optionalArgs = command.argType !== undefined && !command.boxed && command.argType.members.every((m) => m.optional);
    const params = optionalArgs ? args.replace('args:', 'args?:') : args;
    file.print('');
    file.jsDoc(docText(command.doc, command.features), '  ');
    file.print(`  ${camelCase(command.name)}(${params}options?: CallOptions): Promise<${returnsTypeRef(command)}> {`);
    file.print(
      `    return this.call('${command.name}', ${command.argType === undefined ? 'undefined' : 'args'}, options) as Promise<${returnsTypeRef(command)}>;`,
      '  }',
    );
  }
  file.print('}');
  return file;
}
