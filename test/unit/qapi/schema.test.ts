import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { QapiSchemaError } from '../../../src/qapi/error.js';
import type { QapiEntity, QapiSchema } from '../../../src/qapi/model.js';
import { parseSchema, type ParseSchemaOptions } from '../../../src/qapi/schema.js';
import { withSchemaFiles } from './schema-files.js';

function load(text: string, options: Omit<ParseSchemaOptions, 'cwd'> = {}): QapiSchema {
  return withSchemaFiles({ 'main.json': text }, (cwd) => parseSchema('main.json', { ...options, cwd }));
}

function loadError(text: string, options: Omit<ParseSchemaOptions, 'cwd'> = {}): string {
  try {
    load(text, options);
  } catch (error: unknown) {
    if (error instanceof QapiSchemaError) return error.message;
    throw error;
  }
  assert.fail('expected a QapiSchemaError');
}

function get<K extends QapiEntity['kind']>(schema: QapiSchema, name: string, kind: K): Extract<QapiEntity, { kind: K }> {
  const entity = schema.lookup(name);
  assert.ok(entity !== undefined, `${name} is defined`);
  assert.equal(entity.kind, kind);
  return entity as Extract<QapiEntity, { kind: K }>;
}

const UNION = `
{ 'struct': 'UsesKinds', 'data': { 'kinds': [ 'Kind' ] } }
{ 'enum': 'Kind', 'data': [ 'a', 'b', { 'name': 'c', 'if': 'CONFIG_C' }, 'd' ] }
{ 'struct': 'BranchC', 'data': { 'z': 'int' } }
{ 'struct': 'BranchA', 'data': { 'x': 'int' } }
{ 'union': 'Uni', 'base': { 'kind': 'Kind', '*name': 'str' }, 'discriminator': 'kind',
  'data': { 'c': 'BranchC', 'a': 'BranchA' } }
`;

suite('QAPI schema model', () => {
  test('predefines the built-in types with the JSON types introspection reports', () => {
    const schema = load('');
    const json = (name: string): string => get(schema, name, 'builtin').jsonType;
    assert.equal(json('str'), 'string');
    assert.equal(json('number'), 'number');
    for (const int of ['int', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'size']) {
      assert.equal(json(int), 'int');
    }
    assert.equal(json('bool'), 'boolean');
    assert.equal(json('null'), 'null');
    assert.equal(json('any'), 'value');
    assert.equal(json('QType'), 'string');
  });

  test('puts the built-ins first, each followed by its array type, then q_empty and QType', () => {
    const names = load('').entities.map((e) => e.name);
    assert.deepEqual(names.slice(0, 4), ['str', 'strList', 'number', 'numberList']);
    assert.deepEqual(names.slice(-2), ['q_empty', 'QType']);
    assert.equal(get(load(''), 'intList', 'array').elementType.name, 'int');
  });

  test('marks made-up types implicit and user and built-in types not', () => {
    const schema = load("{ 'command': 'c', 'data': { 'a': [ 'str' ] } }\n{ 'struct': 'Str', 'data': {} }");
    assert.equal(get(schema, 'q_obj_c-arg', 'object').implicit, true);
    assert.equal(get(schema, 'q_empty', 'object').implicit, true);
    assert.equal(get(schema, 'strList', 'array').implicit, true);
    assert.equal(get(schema, 'Str', 'object').implicit, false);
    assert.equal(get(schema, 'str', 'builtin').implicit, false);
  });

  test('looks up types, commands and events in one namespace, case-sensitively', () => {
    const schema = load("{ 'command': 'reset' }\n{ 'event': 'RESET' }\n{ 'struct': 'Reset', 'data': {} }");
    assert.equal(schema.lookup('reset')?.kind, 'command');
    assert.equal(schema.lookup('RESET')?.kind, 'event');
    assert.equal(schema.lookup('Reset')?.kind, 'object');
    assert.equal(schema.lookup('ReSeT'), undefined);
  });

  test('resolves member types to entities, arrays to <Elem>List', () => {
    const schema = load("{ 'struct': 'Pair', 'data': { 'q': 'Quad', 'qs': [ 'Quad' ] } }\n{ 'struct': 'Quad', 'data': {} }");
    const p = get(schema, 'Pair', 'object');
    assert.equal(p.members[0]!.type, schema.lookup('Quad'));
    const list = p.members[1]!.type;
    assert.equal(list.kind, 'array');
    assert.equal(list.name, 'QuadList');
    assert.equal(list.kind === 'array' ? list.elementType : undefined, schema.lookup('Quad'));
  });

  test('flattens base members ahead of local members', () => {
    const schema = load(
      "{ 'struct': 'Aa', 'data': { 'a': 'int' } }\n{ 'struct': 'Bb', 'base': 'Aa', 'data': { 'b': 'int' } }\n{ 'struct': 'Cc', 'base': 'Bb', 'data': { 'c': 'int' } }",
    );
    const c = get(schema, 'Cc', 'object');
    assert.deepEqual(
      c.members.map((m) => m.name),
      ['a', 'b', 'c'],
    );
    assert.deepEqual(
      c.localMembers.map((m) => m.name),
      ['c'],
    );
    assert.equal(c.base?.name, 'Bb');
  });

  test('gives a union every enum value: its branches first, then q_empty for the rest in enum order', () => {
    const u = get(load(UNION), 'Uni', 'object');
    assert.deepEqual(
      u.variants?.variants.map((v) => [v.name, v.type.name, v.ifcond]),
      [
        ['c', 'BranchC', undefined],
        ['a', 'BranchA', undefined],
        ['b', 'q_empty', undefined],
        ['d', 'q_empty', undefined],
      ],
    );
  });

  test('makes the discriminator one of the union members and the inline base an implicit type', () => {
    const u = get(load(UNION), 'Uni', 'object');
    assert.equal(u.base?.name, 'q_obj_Uni-base');
    assert.deepEqual(
      u.members.map((m) => m.name),
      ['kind', 'name'],
    );
    assert.ok(u.members.includes(u.variants!.tagMember));
    assert.equal(u.variants!.tagMember.type.name, 'Kind');
  });

  test('gives a q_empty branch the condition of its enum value', () => {
    const schema = load(
      "{ 'enum': 'Kind', 'data': [ 'a', { 'name': 'b', 'if': 'CONFIG_B' } ] }\n{ 'union': 'Uni', 'base': { 'k': 'Kind' }, 'discriminator': 'k', 'data': {} }",
    );
    assert.deepEqual(
      get(schema, 'Uni', 'object').variants?.variants.map((v) => v.ifcond),
      [undefined, 'CONFIG_B'],
    );
  });

  test('conditions an array type like its element type', () => {
    const schema = load("{ 'struct': 'Str', 'data': {}, 'if': 'CONFIG_S' }\n{ 'command': 'c', 'data': { 'all': [ 'Str' ] }, 'if': 'CONFIG_S' }");
    assert.equal(get(schema, 'StrList', 'array').ifcond, 'CONFIG_S');
  });

  test('converts conditions and features to the model', () => {
    const schema = load(
      "{ 'command': 'c', 'if': { 'all': [ 'A', { 'not': 'B' }, { 'any': [ 'C', 'D' ] } ] },\n  'features': [ 'unstable', { 'name': 'f', 'if': 'E' } ] }",
    );
    const c = get(schema, 'c', 'command');
    assert.deepEqual(c.ifcond, { all: ['A', { not: 'B' }, { any: ['C', 'D'] }] });
    assert.deepEqual(
      c.features.map((f) => [f.name, f.ifcond]),
      [
        ['unstable', undefined],
        ['f', 'E'],
      ],
    );
  });

  test('gives commands their flags, defaulting as QEMU does', () => {
    const schema = load("{ 'command': 'plain' }\n{ 'command': 'all-set', 'allow-oob': true, 'allow-preconfig': true, 'gen': false, 'success-response': false }");
    const plain = get(schema, 'plain', 'command');
    assert.deepEqual([plain.boxed, plain.allowOob, plain.allowPreconfig, plain.coroutine, plain.gen, plain.successResponse], [false, false, false, false, true, true]);
    const set = get(schema, 'all-set', 'command');
    assert.deepEqual([set.allowOob, set.allowPreconfig, set.gen, set.successResponse], [true, true, false, false]);
  });

  test('leaves argType undefined for commands and events without members, and retType without returns', () => {
    const schema = load("{ 'command': 'a' }\n{ 'command': 'b', 'data': {} }\n{ 'event': 'EV', 'data': {} }");
    assert.equal(get(schema, 'a', 'command').argType, undefined);
    assert.equal(get(schema, 'b', 'command').argType, undefined);
    assert.equal(get(schema, 'b', 'command').retType, undefined);
    assert.equal(get(schema, 'EV', 'event').argType, undefined);
    assert.equal(schema.lookup('q_obj_b-arg'), undefined);
  });

  test('defines implicit types right before their user', () => {
    const all = load("{ 'command': 'c', 'data': { 'a': [ 'Ret' ] }, 'returns': [ 'Ret' ] }\n{ 'struct': 'Ret', 'data': {} }").entities.map((e) => e.name);
    const names = all.slice(all.indexOf('QType') + 1);
    assert.deepEqual(names, ['RetList', 'q_obj_c-arg', 'c', 'Ret']);
  });

  test('lists documentation in source order: free-form blocks and definitions with their implicit types', () => {
    const schema = load(
      "##\n# = Title\n##\n\n##\n# @c:\n#\n# @a: the a\n##\n{ 'command': 'c', 'data': { 'a': 'int' } }\n\n##\n# Text.\n##\n\n##\n# @EV:\n##\n{ 'event': 'EV' }\n",
    );
    assert.deepEqual(
      schema.documentation.map((d) => (d.kind === 'freeform' ? `doc:${d.doc.body}` : d.name)),
      ['doc:= Title', 'q_obj_c-arg', 'c', 'doc:Text.', 'EV'],
    );
  });

  test('attaches doc comments to definitions in the model', () => {
    const schema = load("##\n# @c:\n#\n# Does c.\n#\n# @a: the a\n#\n# Since: 1.0\n##\n{ 'command': 'c', 'data': { 'a': 'int' } }\n");
    const doc = get(schema, 'c', 'command').doc;
    assert.equal(doc?.body, 'Does c.');
    assert.equal(doc?.args.get('a'), 'the a');
    assert.deepEqual(doc?.sections, [{ tag: 'Since', text: '1.0' }]);
    assert.equal(get(schema, 'q_obj_c-arg', 'object').doc, undefined);
  });

  test('records where definitions and their members come from', () => {
    const schema = withSchemaFiles({ 'main.json': "{ 'include': 'sub/types.json' }\n", 'sub/types.json': "\n\n{ 'struct': 'Str', 'data': { 'a': 'int' } }\n" }, (cwd) =>
      parseSchema('main.json', { cwd }),
    );
    const s = get(schema, 'Str', 'object');
    assert.deepEqual(s.info, { file: 'sub/types.json', line: 3 });
    assert.deepEqual(s.members[0]!.info, { file: 'sub/types.json', line: 3 });
    assert.deepEqual(schema.files, ['main.json', 'sub/types.json']);
  });

  test('exposes the model as own properties, without checking internals', () => {
    const schema = load(UNION);
    const u = get(schema, 'Uni', 'object');
    assert.deepEqual(Object.keys(u.members[0]!).sort(), ['features', 'ifcond', 'info', 'name', 'optional', 'type']);
    assert.equal({ ...u }.variants?.tagMember.name, 'kind');
    assert.equal({ ...get(schema, 'KindList', 'array') }.elementType.name, 'Kind');
    assert.ok(!('definedIn' in { ...u.members[0]! }));
  });

  test('the current rules require every member of a documented definition to be documented', () => {
    const text = "##\n# @c:\n#\n# @a: the a\n##\n{ 'command': 'c', 'data': { 'a': 'int', 'b': 'int' } }\n";
    assert.equal(loadError(text), "main.json:6: member 'b' lacks documentation");
    assert.equal(get(load(text, { rules: 'legacy' }), 'c', 'command').argType?.members.length, 2);
  });

  test('pragma documentation-exceptions excepts a definition from the member documentation rule', () => {
    const text = "{ 'pragma': { 'documentation-exceptions': [ 'c' ] } }\n##\n# @c:\n#\n# @a: the a\n##\n{ 'command': 'c', 'data': { 'a': 'int', 'b': 'int' } }\n";
    assert.equal(get(load(text), 'c', 'command').doc?.args.size, 1);
  });

  test('the legacy rules accept Returns on a command that returns nothing, and unboxed conditional arguments', () => {
    const text = "##\n# @c:\n#\n# Returns: nothing\n##\n{ 'command': 'c', 'data': { 'a': { 'type': 'int', 'if': 'X' } } }\n";
    assert.equal(loadError(text), "main.json:4: 'Returns' section, but command doesn't return anything");
    assert.equal(get(load(text, { rules: 'legacy' }), 'c', 'command').argType?.members[0]?.ifcond, 'X');
  });

  // No clock in the assertion (the suite runs on busy machines): a parser that
  // went quadratic would take minutes here and hit the test's time bound.
  test('reads a large schema of 3,000 documented definitions whole', { timeout: 30_000 }, () => {
    const parts: string[] = ["{ 'pragma': { 'doc-required': true } }"];
    for (let i = 0; i < 1500; i++) {
      parts.push(
        `##\n# @Type${i}:\n#\n# Type number ${i}.\n#\n# @a: a member\n#\n# @b: another\n#     with more text\n#\n# Since: 1.0\n##\n{ 'struct': 'Type${i}', 'data': { 'a': 'int', '*b': [ 'str' ] } }`,
        `##\n# @cmd-${i}:\n#\n# @arg: the argument\n#\n# Returns: a thing\n##\n{ 'command': 'cmd-${i}', 'data': { 'arg': 'Type${i}' }, 'returns': [ 'Type${i}' ] }`,
      );
    }
    const schema = load(parts.join('\n\n'));
    assert.equal(schema.entities.filter((e) => e.kind === 'command').length, 1500);
    assert.equal(schema.entities.filter((e) => e.kind === 'object' && e.name.startsWith('Type')).length, 1500);
  });
});
