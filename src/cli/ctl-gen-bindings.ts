import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { ChardevdError } from '../base/error.js';
import { QapiSchemaError } from '../qapi/error.js';
import { generateBindings } from '../qapi/gen-bindings.js';
import { IntrospectionError, type SchemaInfoEntry, schemaFromIntrospection } from '../qapi/introspection-schema.js';
import type { QapiSchema } from '../qapi/model.js';
import { parseSchema } from '../qapi/schema.js';
import { parseQmpAddress } from '../client/address.js';
import { QmpClient } from '../client/qmp-client.js';

export const GEN_BINDINGS_USAGE = `usage: chardevctl gen-bindings --out DIR [SOURCE] [--runtime MODULE] [--class NAME]

Writes typed TypeScript bindings (types, event map, one method per command,
and index.ts with a class over a QmpClient) for exactly one server's schema.

SOURCE, one of:
  -s, --socket ADDR      a live QEMU or chardevd: its query-qmp-schema reply
                         (unix:PATH, PATH, HOST:PORT or tcp:HOST:PORT)
  --introspection FILE   a saved query-qmp-schema reply: the array, or {"return": [...]}
  --schema PATH          QAPI schema files: the main file, or a folder holding
                         qapi-schema.json (QEMU's qapi/) or chardevd.json
      --rules RULES      'legacy' for QEMU before 9.1's schema files (default 'current')
      --define SYMBOL    a config symbol that 'if' conditions may test (repeatable);
                         without any, every definition is kept
Options:
  --out DIR              where the files go (created if needed)
  --runtime MODULE       module the bindings import CallOptions from (default 'chardevd')
  --class NAME           name of the class in index.ts (default QmpBindings)
`;

/** Whether `error` is one of the schema errors gen-bindings reports (a schema file's, a query-qmp-schema reply's). */
export function isSchemaError(error: unknown): boolean {
  return error instanceof QapiSchemaError || error instanceof IntrospectionError;
}

export class GenBindingsUsageError extends ChardevdError {
  override readonly name = 'GenBindingsUsageError';
  readonly code = 'CLI_USAGE_INVALID';
}

/** Reads the schema from where the options say, writes the bindings, returns the paths written. */
export async function genBindings(argv: readonly string[], defaultSocket: string | undefined): Promise<string[]> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      socket: { type: 'string', short: 's' },
      introspection: { type: 'string' },
      schema: { type: 'string' },
      rules: { type: 'string', default: 'current' },
      define: { type: 'string', multiple: true, default: [] },
      out: { type: 'string' },
      runtime: { type: 'string', default: 'chardevd' },
      class: { type: 'string', default: 'QmpBindings' },
    },
  });
  if (values.out === undefined) throw new GenBindingsUsageError('--out DIR is required');
  const sources = [values.socket, values.introspection, values.schema].filter((s) => s !== undefined);
  if (sources.length > 1) throw new GenBindingsUsageError('give one of --socket, --introspection and --schema');
  if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(values.class)) throw new GenBindingsUsageError(`--class must be an identifier, not '${values.class}'`);
  let schema: QapiSchema;
  let source: string;
  if (values.schema !== undefined) {
    if (values.rules !== 'current' && values.rules !== 'legacy') throw new GenBindingsUsageError(`--rules must be 'current' or 'legacy', not '${values.rules}'`);
    const main = schemaMainFile(values.schema);
    schema = parseSchema(main, { rules: values.rules });
    source = `the QAPI schema ${basename(main)}`;
  } else if (values.introspection !== undefined) {
    schema = schemaFromIntrospection(introspectionReply(JSON.parse(readFileSync(values.introspection, 'utf8')) as unknown));
    source = `the query-qmp-schema reply ${basename(values.introspection)}`;
  } else {
    const socket = values.socket ?? defaultSocket;
    if (socket === undefined) throw new GenBindingsUsageError('give --socket, --introspection or --schema');
    const client = await QmpClient.connect(parseQmpAddress(socket));
    try {
      const reply = (await client.execute('query-qmp-schema')) as SchemaInfoEntry[];
      const version = (await client.execute('query-version')) as { qemu: { major: number; minor: number; micro: number }; package: string };
      schema = schemaFromIntrospection(reply);
      source = `query-qmp-schema of ${version.package.startsWith('chardevd') ? 'chardevd' : 'QEMU'} ${version.qemu.major}.${version.qemu.minor}.${version.qemu.micro}${version.package === '' ? '' : ` (${version.package})`}`;
    } finally {
      client.close();
    }
  }
  const defines = values.schema !== undefined && values.define.length > 0 ? new Set(values.define) : 'all';
  const files = generateBindings(schema, { source, runtimeModule: values.runtime, className: values.class, defines });
  mkdirSync(values.out, { recursive: true });
  const written: string[] = [];
  for (const [name, text] of files) {
    const path = join(values.out, name);
    writeFileSync(path, text);
    written.push(path);
  }
  return written;
}

function schemaMainFile(path: string): string {
  if (!statSync(path).isDirectory()) return path;
  for (const name of ['qapi-schema.json', 'chardevd.json']) {
    if (existsSync(join(path, name))) return join(path, name);
  }
  throw new GenBindingsUsageError(`${path} has neither qapi-schema.json nor chardevd.json; name the main schema file`);
}

function introspectionReply(value: unknown): SchemaInfoEntry[] {
  const reply = typeof value === 'object' && value !== null && !Array.isArray(value) && 'return' in value ? value.return : value;
  if (!Array.isArray(reply)) throw new GenBindingsUsageError('the introspection file holds neither an array nor {"return": [...]}');
  return reply as SchemaInfoEntry[];
}
