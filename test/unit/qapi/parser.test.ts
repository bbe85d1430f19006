import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { QapiSchemaError } from '../../../src/qapi/error.js';
import { parseSchemaSource, type ParsedExpr, type QapiValue } from '../../../src/qapi/parser.js';
import { withSchemaFiles } from './schema-files.js';

function exprsOf(files: { readonly [path: string]: string }, main = 'main.json'): ParsedExpr[] {
  return withSchemaFiles(files, (cwd) => parseSchemaSource(main, { cwd }).items.filter((i): i is ParsedExpr => i.kind === 'expr'));
}

function errorOf(files: { readonly [path: string]: string }, main = 'main.json'): QapiSchemaError {
  return withSchemaFiles(files, (cwd) => {
    try {
      parseSchemaSource(main, { cwd });
    } catch (error: unknown) {
      if (error instanceof QapiSchemaError) return error;
      throw error;
    }
    assert.fail('expected a QapiSchemaError');
  });
}

/** Plain JSON-ish form of a parsed value, for deepEqual. */
function plain(value: QapiValue): unknown {
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [k, plain(v as QapiValue)]));
  if (Array.isArray(value)) return value.map((v: QapiValue) => plain(v));
  return value;
}

suite('QAPI schema parser', () => {
  test('reads objects, lists, single-quoted strings and booleans', () => {
    const [item] = exprsOf({ 'main.json': "{ 'struct': 'S', 'data': { 'a': [ 'x', true ], 'b': false, 'c': {} } }\n" });
    assert.deepEqual(plain(item!.expr), { struct: 'S', data: { a: ['x', true], b: false, c: {} } });
  });

  test('keeps the key order of objects', () => {
    const [item] = exprsOf({ 'main.json': "{ 'enum': 'E', 'data': [], 'if': 'X', 'prefix': 'P' }" });
    assert.deepEqual([...item!.expr.keys()], ['enum', 'data', 'if', 'prefix']);
  });

  test('accepts a key such as __proto__ as ordinary data', () => {
    const [item] = exprsOf({ 'main.json': "{ 'struct': 'S', 'data': { '__proto__': 'str' } }" });
    const data = item!.expr.get('data');
    assert.ok(data instanceof Map);
    assert.equal(data.get('__proto__'), 'str');
  });

  test('turns a doubled backslash into one backslash', () => {
    const [item] = exprsOf({ 'main.json': "{ 'enum': 'E', 'data': [ 'a\\\\b' ] }" });
    assert.deepEqual(plain(item!.expr.get('data')!), ['a\\b']);
  });

  test('skips comments and counts lines for each definition', () => {
    const items = exprsOf({
      'main.json': "# comment\n\n{ 'command': 'a' } # trailing comment\n# another\n{ 'command':\n  'b' }\n",
    });
    assert.deepEqual(
      items.map((i) => i.info),
      [
        { file: 'main.json', line: 3 },
        { file: 'main.json', line: 5 },
      ],
    );
  });

  test('reads a file whose last line has no newline', () => {
    const items = exprsOf({ 'main.json': "{ 'command': 'a' }\n# end" });
    assert.equal(items.length, 1);
  });

  test('reads an empty file as no definitions', () => {
    assert.deepEqual(exprsOf({ 'main.json': '' }), []);
  });

  test('reports the column of a syntax error, tabs advancing to the next multiple of eight', () => {
    const error = errorOf({ 'main.json': "{ 'command': 'a',\n\t'data': 42 }\n" });
    assert.equal(error.message, "main.json:2: stray '42'");
    assert.equal(error.detail, "stray '42'");
    assert.equal(error.column, 17);
    assert.equal(errorOf({ 'main.json': "{ 'command': 'a',\n  \t 'data': 42 }\n" }).column, 18);
  });

  test('reads true only as a whole token: a longer word is stray', () => {
    assert.equal(errorOf({ 'main.json': "{ 'command': 'a', 'boxed': trueish }" }).detail, "stray 'ish'");
  });

  test('reads included files relative to the including file, inlined at the include', () => {
    const source = withSchemaFiles(
      {
        'main.json': "{ 'command': 'first' }\n{ 'include': 'sub/a.json' }\n{ 'command': 'last' }\n",
        'sub/a.json': "{ 'include': 'b.json' }\n{ 'command': 'in-a' }\n",
        'sub/b.json': "{ 'command': 'in-b' }\n",
      },
      (cwd) => parseSchemaSource('main.json', { cwd }),
    );
    assert.deepEqual(source.files, ['main.json', 'sub/a.json', 'sub/b.json']);
    const names = source.items.map((i) => (i.kind === 'expr' ? i.expr.get('command') : 'doc'));
    assert.deepEqual(names, ['first', 'in-b', 'in-a', 'last']);
    const inB = source.items[1];
    assert.equal(inB?.kind === 'expr' ? inB.info.file : undefined, 'sub/b.json');
  });

  test('reads a file included twice only once', () => {
    const source = withSchemaFiles(
      {
        'main.json': "{ 'include': 'a.json' }\n{ 'include': 'b.json' }\n{ 'include': './a.json' }\n",
        'a.json': "{ 'command': 'a' }\n",
        'b.json': "{ 'include': 'a.json' }\n{ 'command': 'b' }\n",
      },
      (cwd) => parseSchemaSource('main.json', { cwd }),
    );
    assert.deepEqual(source.files, ['main.json', 'a.json', 'b.json']);
    assert.equal(source.items.length, 2);
  });

  test('rejects an include loop at the include that closes it', () => {
    const error = errorOf({
      'main.json': "{ 'include': 'a.json' }\n",
      'a.json': "\n{ 'include': 'main.json' }\n",
    });
    assert.equal(error.message, 'a.json:2: inclusion loop for main.json');
  });

  test('says when the main file cannot be read, without a location', () => {
    const error = errorOf({}, 'missing.json');
    assert.equal(error.info, undefined);
    assert.equal(error.message, "can't read schema file 'missing.json': No such file or directory");
  });

  test('says when an included path is a directory', () => {
    const error = errorOf({ 'main.json': "{ 'include': 'dir' }\n", 'dir/x.json': '' });
    assert.equal(error.message, "main.json:1: can't read include file 'dir': Is a directory");
  });

  test('applies pragmas to the whole schema, whichever file sets them', () => {
    const source = withSchemaFiles(
      {
        'main.json': "{ 'include': 'pragma.json' }\n",
        'pragma.json': "{ 'pragma': { 'doc-required': true, 'command-name-exceptions': [ 'a_b' ], 'documentation-exceptions': [ 'T' ] } }\n",
      },
      (cwd) => parseSchemaSource('main.json', { cwd }),
    );
    assert.equal(source.pragma.docRequired, true);
    assert.deepEqual(source.pragma.commandNameExceptions, ['a_b']);
    assert.deepEqual(source.pragma.documentationExceptions, ['T']);
    assert.deepEqual(source.pragma.memberNameExceptions, []);
  });

  test('attaches a definition doc block to the definition after it', () => {
    const [item] = exprsOf({ 'main.json': "##\n# @cmd:\n#\n# Does it.\n##\n{ 'command': 'cmd' }\n" });
    assert.equal(item!.doc?.symbol, 'cmd');
    assert.deepEqual(item!.doc?.info, { file: 'main.json', line: 1 });
  });

  test('keeps free-form doc blocks in source order between definitions', () => {
    const source = withSchemaFiles(
      { 'main.json': "##\n# = Title\n##\n\n##\n# @a:\n##\n{ 'command': 'a' }\n\n##\n# Text.\n##\n\n{ 'pragma': { 'doc-required': false } }\n{ 'command': 'b' }\n" },
      (cwd) => parseSchemaSource('main.json', { cwd }),
    );
    assert.deepEqual(
      source.items.map((i) => (i.kind === 'expr' ? i.expr.get('command') : i.doc.toModel().body)),
      ['= Title', 'a', 'Text.', 'b'],
    );
    assert.equal(source.docs.length, 3);
  });

  test('lets blank lines without # sit inside a doc block', () => {
    const [item] = exprsOf({ 'main.json': "##\n# @cmd:\n\n# Does it.\n##\n{ 'command': 'cmd' }\n" });
    assert.equal(item!.doc?.toModel().body, 'Does it.');
  });
});
