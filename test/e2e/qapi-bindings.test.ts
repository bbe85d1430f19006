import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite, test } from 'node:test';
import { qmpSchemaInfo } from '../../src/generated/qapi-introspect.gen.js';
import { qmpCommandSpecs } from '../../src/generated/qapi-commands.gen.js';
import type { JsonObject } from '../../src/qobject/json-value.js';
import { generateClient } from '../../src/qapi/gen-client.js';
import { generateCommands } from '../../src/qapi/gen-commands.js';
import { generateEvents } from '../../src/qapi/gen-events.js';
import { generateTypes } from '../../src/qapi/gen-types.js';
import { reachableTypes, typeTableOf } from '../../src/qapi/gen-type-table.js';
import { type SchemaInfoEntry, schemaFromIntrospection } from '../../src/qapi/introspection-schema.js';
import type { QapiSchema } from '../../src/qapi/model.js';
import { parseSchema } from '../../src/qapi/schema.js';
import { InputValidator } from '../../src/qapi-runtime/index.js';
import { QmpClient } from '../../src/client/qmp-client.js';
import { repoRoot } from '../support/paths.js';
import { qemuSkipReason, startQemu } from '../support/servers.js';

/**
 * Writes the typed bindings for `schema` next to a stand-in for the runtime
 * and type-checks them, plus `typeTest`, under the project's strict flags.
 * Returns tsc's output ('' when it compiled).
 */
function compileBindings(schema: QapiSchema, typeTest: string): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'chardevd-bindings-'));
  try {
    mkdirSync(join(dir, 'generated'));
    mkdirSync(join(dir, 'qapi-runtime'));
    for (const file of [
      generateTypes(schema, 'all', 'introspection'),
      generateCommands(schema, 'all', 'introspection'),
      generateEvents(schema, 'all', 'introspection'),
      generateClient(schema, 'all', 'introspection'),
    ]) {
      writeFileSync(join(dir, 'generated', file.path), file.render());
    }
    writeFileSync(join(dir, 'qapi-runtime', 'index.ts'), `export * from '${join(repoRoot, 'dist/src/qapi-runtime/index.js')}';\n`);
    writeFileSync(join(dir, 'type-test.ts'), typeTest);
    writeFileSync(join(dir, 'package.json'), '{"type": "module"}');
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: join(repoRoot, 'tsconfig.base.json'),
        compilerOptions: { noEmit: true, typeRoots: [join(repoRoot, 'node_modules/@types')], noUnusedLocals: false },
        include: ['**/*.ts'],
      }),
    );
    const tsc = spawnSync(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', dir], { encoding: 'utf8', timeout: 120_000 });
    return { status: tsc.status, output: `${tsc.stdout}${tsc.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

suite('typed bindings from introspection', () => {
  test("chardevd's query-qmp-schema reply has the SchemaInfo shape its own schema defines", () => {
    const schema = parseSchema(join(repoRoot, 'schema/chardevd.json'));
    const schemaInfo = schema.lookup('SchemaInfo');
    assert.ok(schemaInfo !== undefined && schemaInfo.kind === 'object');
    const validator = new InputValidator(typeTableOf(reachableTypes([schemaInfo], 'all'), 'all'));
    for (const entry of qmpSchemaInfo) validator.validateArguments('SchemaInfo', JSON.parse(JSON.stringify(entry)) as JsonObject);
    const commands = qmpSchemaInfo.filter((e) => e['meta-type'] === 'command').map((e) => e.name);
    // Introspection lists exactly the commands the dispatcher serves.
    assert.deepEqual(commands.sort(), qmpCommandSpecs.map((spec) => spec.name).sort());
    assert.ok(commands.includes('chardev-add') && commands.includes('qmp_capabilities'));
  });

  test("chardevd's introspection round-trips into types that compile, and a wrong call does not", () => {
    const schema = schemaFromIntrospection(qmpSchemaInfo as unknown as SchemaInfoEntry[]);
    const result = compileBindings(
      schema,
      `import type { QmpCommandMethods } from './generated/qapi-client.gen.js';
declare const client: QmpCommandMethods;
export async function ok(): Promise<string> {
  await client.qmpCapabilities({ enable: ['oob'] });
  return (await client.queryVersion()).package;
}
export async function wrong(): Promise<void> {
  // @ts-expect-error: 'bogus' is not a capability
  await client.qmpCapabilities({ enable: ['bogus'] });
}
`,
    );
    assert.equal(result.status, 0, result.output);
  });

  test("QEMU 7.2's live introspection becomes bindings that compile, and a wrong call does not", { skip: qemuSkipReason() }, async () => {
    const qemu = await startQemu();
    let reply: SchemaInfoEntry[];
    try {
      const client = await QmpClient.connect(qemu.qmpPath, { connectTimeoutMs: 10_000 });
      reply = (await client.execute('query-qmp-schema', undefined, { timeoutMs: 10_000 })) as SchemaInfoEntry[];
      client.close();
    } finally {
      await qemu.stop();
    }
    const schema = schemaFromIntrospection(reply);
    const result = compileBindings(
      schema,
      `import type { QmpCommandMethods } from './generated/qapi-client.gen.js';
declare const client: QmpCommandMethods;
export async function ok(): Promise<unknown> {
  await client.chardevAdd({ id: 'rb', backend: { type: 'ringbuf', data: { size: 1024 } } });
  await client.ringbufWrite({ device: 'rb', data: 'hi' });
  return [await client.queryStatus(), await client.ringbufRead({ device: 'rb', size: 2 })];
}
export async function wrong(): Promise<void> {
  // @ts-expect-error: size is an integer
  await client.chardevAdd({ id: 'rb', backend: { type: 'ringbuf', data: { size: 'big' } } });
}
`,
    );
    assert.equal(result.status, 0, result.output);
  });
});
