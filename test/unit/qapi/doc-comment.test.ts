import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { parseDocBlock } from '../../../src/qapi/doc-comment.js';
import { QapiSchemaError } from '../../../src/qapi/error.js';
import type { QapiDoc } from '../../../src/qapi/model.js';

/** Parses the inside of a `##` block given as its comment lines (without the `##` lines). */
function blocks(text: string, legacy = false): QapiDoc[] {
  const lines = (text === '' ? [] : text.split('\n')).map((line, i) => ({ text: line, info: { file: 'doc.json', line: i + 2 } }));
  return parseDocBlock({ file: 'doc.json', line: 1 }, lines, legacy).map((b) => b.toModel());
}

function doc(text: string, legacy = false): QapiDoc {
  const [only, ...rest] = blocks(text, legacy);
  assert.equal(rest.length, 0);
  return only!;
}

function error(text: string): string {
  try {
    blocks(text);
  } catch (e: unknown) {
    if (e instanceof QapiSchemaError) return e.message;
    throw e;
  }
  assert.fail('expected a QapiSchemaError');
}

function sections(d: QapiDoc): [string | undefined, string][] {
  return d.sections.map((s) => [s.tag, s.text]);
}

suite('QAPI doc comments', () => {
  test('a first line @NAME: makes a definition doc for NAME', () => {
    const d = doc('# @query-thing:\n#\n# Returns the thing.');
    assert.equal(d.symbol, 'query-thing');
    assert.equal(d.body, 'Returns the thing.');
  });

  test('a block without @NAME: is free-form and keeps its heading line in the body', () => {
    const d = doc('# = Character devices\n#\n# Some text.');
    assert.equal(d.symbol, undefined);
    assert.equal(d.body, '= Character devices\n\nSome text.');
  });

  test('a second heading after text starts a new free-form block, as QEMU 7.2 did', () => {
    const [first, second, ...rest] = blocks('# = One\n#\n# Text.\n#\n# = Two\n#\n# More.');
    assert.equal(rest.length, 0);
    assert.equal(first!.body, '= One\n\nText.');
    assert.equal(second!.body, '= Two\n\nMore.');
    assert.equal(second!.info.line, 6);
  });

  test('member descriptions drop the indentation of their continuation lines', () => {
    const d = doc('# @cmd:\n#\n# @arg: first line\n#     second line\n#\n#     second paragraph\n#\n# @other:\n#     on its own line');
    assert.deepEqual(
      [...d.args],
      [
        ['arg', 'first line\nsecond line\n\nsecond paragraph'],
        ['other', 'on its own line'],
      ],
    );
  });

  test('continuation lines aligned under the text, QEMU 7.2 style, read the same', () => {
    const d = doc('# @cmd:\n#\n# @arg: first line\n#       second line\n# @next: more');
    assert.deepEqual(
      [...d.args],
      [
        ['arg', 'first line\nsecond line'],
        ['next', 'more'],
      ],
    );
  });

  test('a description of an empty @name: line may continue without indentation', () => {
    const d = doc('# @cmd:\n#\n# @arg:\n# the text\n# goes on');
    assert.equal(d.args.get('arg'), 'the text\ngoes on');
  });

  test('an unindented paragraph after a blank line ends the descriptions', () => {
    const d = doc('# @cmd:\n#\n# @arg: text\n#\n# A remark about the command.');
    assert.equal(d.args.get('arg'), 'text');
    assert.deepEqual(sections(d), [[undefined, 'A remark about the command.']]);
  });

  test('a line with a blank before the colon is text, not a description', () => {
    const d = doc('# @cmd:\n#\n# @id : the identifier');
    assert.equal(d.args.size, 0);
    assert.equal(d.body, '@id : the identifier');
  });

  test('tagged sections keep their tag without the colon', () => {
    const d = doc('# @cmd:\n#\n# Returns: a thing\n#\n# Errors:\n#     - GenericError on failure\n#\n# Since: 7.2\n#\n# TODO: more');
    assert.deepEqual(sections(d), [
      ['Returns', 'a thing'],
      ['Errors', '- GenericError on failure'],
      ['Since', '7.2'],
      ['TODO', 'more'],
    ]);
  });

  test('Example and Note sections run to the next tag, unindented examples included (QEMU <= 9.0)', () => {
    const d = doc('# @cmd:\n#\n# Note: first\n#       second\n#\n# Example:\n#\n# -> { "execute": "cmd" }\n# <- { "return": {} }\n#\n# -> again\n#\n# Since: 1.0');
    assert.deepEqual(sections(d), [
      ['Note', 'first\nsecond'],
      ['Example', '-> { "execute": "cmd" }\n<- { "return": {} }\n\n-> again'],
      ['Since', '1.0'],
    ]);
  });

  test('Notes and Examples are tags too', () => {
    const d = doc('# @cmd:\n#\n# Notes: one\n#\n# Examples: two');
    assert.deepEqual(sections(d), [
      ['Notes', 'one'],
      ['Examples', 'two'],
    ]);
  });

  test('a tag followed by two colons is rST markup, not a section', () => {
    const d = doc('# @cmd:\n#\n# Example::\n#\n#     code');
    assert.deepEqual(sections(d), []);
    assert.equal(d.body, 'Example::\n\n    code');
  });

  test('rST directives stay plain text with their indentation', () => {
    const d = doc('# @cmd:\n#\n# @arg: text\n#\n# .. note:: Careful.\n#\n# .. qmp-example::\n#\n#     -> { "execute": "cmd" }\n#     <- { "return": {} }');
    assert.deepEqual(sections(d), [[undefined, '.. note:: Careful.\n\n.. qmp-example::\n\n    -> { "execute": "cmd" }\n    <- { "return": {} }']]);
  });

  test('features are described after a Features: line', () => {
    const d = doc('# @cmd:\n#\n# @arg: text\n#\n# Features:\n#\n# @deprecated: use other\n#     instead\n# @unstable: may change');
    assert.deepEqual(
      [...d.features],
      [
        ['deprecated', 'use other\ninstead'],
        ['unstable', 'may change'],
      ],
    );
    assert.deepEqual([...d.args.keys()], ['arg']);
  });

  test('body paragraphs before the descriptions all belong to the body', () => {
    const d = doc('# @cmd:\n#\n# First.\n#\n# Second.\n#\n# @arg: text');
    assert.equal(d.body, 'First.\n\nSecond.');
  });

  test('a description may follow body text without a blank line (QEMU 7.2)', () => {
    const d = doc('# @cmd:\n# Does it.\n# @arg: text');
    assert.equal(d.body, 'Does it.');
    assert.equal(d.args.get('arg'), 'text');
  });

  test('a tag inside a paragraph is text under the current rules and a new section under the legacy ones', () => {
    const text = '# @cmd:\n#\n# Lists things.\n# Returns: the list\n#\n# Since: 7.1';
    const current = doc(text);
    assert.equal(current.body, 'Lists things.\nReturns: the list');
    assert.deepEqual(sections(current), [['Since', '7.1']]);
    const legacy = doc(text, true);
    assert.equal(legacy.body, 'Lists things.');
    assert.deepEqual(sections(legacy), [
      ['Returns', 'the list'],
      ['Since', '7.1'],
    ]);
  });

  test('a tag right after the @NAME: line starts a section', () => {
    assert.deepEqual(sections(doc('# @cmd:\n# Since: 1.0')), [['Since', '1.0']]);
  });

  test('"#" alone is a blank line and trailing blanks are dropped', () => {
    const d = doc('# @cmd:\n#\n# Text.   \n#');
    assert.equal(d.body, 'Text.');
  });

  test('an empty block is an empty free-form doc', () => {
    const d = doc('');
    assert.equal(d.symbol, undefined);
    assert.equal(d.body, '');
  });

  test('rejects text not separated from # by a space', () => {
    assert.equal(error('# @cmd:\n#Text'), 'doc.json:3: missing space after #');
  });

  test('rejects a continuation line less indented than the one before', () => {
    assert.equal(error('# @cmd:\n# @arg: a\n#     b\n#   c'), 'doc.json:5: unexpected de-indent (expected at least 4 spaces)');
  });

  test('rejects a description after a tagged section', () => {
    assert.equal(error('# @cmd:\n# Since: 1.0\n# @arg: text'), "doc.json:4: description of '@arg:' follows a section");
  });

  test('rejects a description after a paragraph that follows the descriptions', () => {
    assert.equal(error('# @cmd:\n# @a: x\n#\n# Remark.\n#\n# @b: y'), "doc.json:7: description of '@b:' follows a section");
  });

  test('rejects a member described twice', () => {
    assert.equal(error('# @cmd:\n# @a: x\n# @a: y'), "doc.json:4: 'a' parameter name duplicated");
  });

  test('rejects a second Since, Returns or Errors section', () => {
    assert.equal(error('# @cmd:\n# Errors: x\n# Errors: y'), "doc.json:4: duplicated 'Errors' section");
  });

  test('allows repeated Note and Example sections', () => {
    assert.equal(doc('# @cmd:\n# Note: x\n# Note: y').sections.length, 2);
  });

  test('rejects an empty tagged section', () => {
    assert.equal(error('# @cmd:\n# Returns:\n#\n# Since: 1.0'), "doc.json:3: text required after 'Returns:'");
  });

  test('rejects a Features: line without feature descriptions', () => {
    assert.equal(error('# @cmd:\n# Features:\n#\n# Text.'), 'doc.json:5: feature descriptions expected');
  });

  test('rejects a description in a free-form block', () => {
    assert.equal(error('# Text.\n# @arg: x'), "doc.json:3: '@arg:' not allowed in free-form documentation");
  });

  test('rejects a heading in a definition doc', () => {
    assert.equal(error('# @cmd:\n#\n# == Part'), "doc.json:4: unexpected '=' markup in definition documentation");
  });

  test('rejects @NAME without a colon and an empty @:', () => {
    assert.equal(error('# @cmd'), "doc.json:2: line should end with ':'");
    assert.equal(error('# @:'), "doc.json:2: name required after '@'");
  });
});
