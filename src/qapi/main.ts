#!/usr/bin/env node
/**
 * qapi-gen: reads a QAPI schema and writes the generated TypeScript (types,
 * argument type table, command table, events, introspection, client
 * methods) and the Markdown protocol reference.
 *
 *   node dist/src/qapi/main.js [--schema FILE] [--output-dir DIR] [--docs FILE]
 *                              [--define SYMBOL]... [--all-conditions]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import type { Defines } from './conditions.js';
import { QapiSchemaError } from './error.js';
import { generateClient } from './gen-client.js';
import { generateCommands } from './gen-commands.js';
import { generateDocs } from './gen-docs.js';
import { generateEvents } from './gen-events.js';
import { generateIntrospection } from './gen-introspect.js';
import { generateTypeTable } from './gen-type-table.js';
import { generateTypes } from './gen-types.js';
import { parseSchema } from './schema.js';

const USAGE = `usage: qapi-gen [--schema FILE] [--output-dir DIR] [--docs FILE] [--define SYMBOL]... [--all-conditions]

  --schema FILE       main schema file (default schema/chardevd.json)
  --output-dir DIR    where the .gen.ts files go (default src/generated)
  --docs FILE         Markdown reference to write (default docs/qmp-reference.md; '' for none)
  --title TEXT        title of the reference (default "chardevd QMP reference")
  --define SYMBOL     a config symbol that 'if' conditions may test (repeatable)
  --all-conditions    keep every definition whatever its 'if' says
  --rules RULES       'current' (default) or 'legacy': QEMU 7.2's schema predates three
                      documentation and boxing rules added in QEMU 9.1
`;

function main(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      schema: { type: 'string', default: 'schema/chardevd.json' },
      'output-dir': { type: 'string', default: 'src/generated' },
      docs: { type: 'string', default: 'docs/qmp-reference.md' },
      title: { type: 'string', default: 'chardevd QMP reference' },
      define: { type: 'string', multiple: true, default: [] },
      'all-conditions': { type: 'boolean', default: false },
      rules: { type: 'string', default: 'current' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const defines: Defines = values['all-conditions'] ? 'all' : new Set(values.define);
  if (values.rules !== 'current' && values.rules !== 'legacy') throw new QapiUsageError(`--rules must be 'current' or 'legacy', not '${values.rules}'`);
  const schema = parseSchema(values.schema, { rules: values.rules });
  const source = relative(process.cwd(), values.schema).split('\\').join('/');
  const outDir = values['output-dir'];
  mkdirSync(outDir, { recursive: true });
  const files = [
    generateTypes(schema, defines, source),
    generateTypeTable(schema, defines, source),
    generateCommands(schema, defines, source),
    generateEvents(schema, defines, source),
    generateIntrospection(schema, defines, source),
    generateClient(schema, defines, source),
  ];
  for (const file of files) writeIfChanged(join(outDir, file.path), file.render());
  if (values.docs !== '') {
    mkdirSync(dirname(values.docs), { recursive: true });
    writeIfChanged(values.docs, generateDocs(schema, defines, values.title, source));
  }
  return 0;
}

/** Leaves unchanged files untouched so that incremental builds stay incremental. */
function writeIfChanged(path: string, text: string): void {
  let old: string | undefined;
  try {
    old = readFileSync(path, 'utf8');
  } catch {
    old = undefined;
  }
  if (old !== text) writeFileSync(path, text);
}

/** A command-line mistake. */
class QapiUsageError extends Error {}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error: unknown) {
  if (error instanceof QapiSchemaError || error instanceof QapiUsageError) {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
