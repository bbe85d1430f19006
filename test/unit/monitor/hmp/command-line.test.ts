import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { commandNameAt, HmpArgumentError, parseArguments, splitWords, stringAt } from '../../../../src/monitor/hmp/command-line.js';

suite('HMP command line', () => {
  test('a command name ends at a space or a slash', () => {
    assert.deepEqual(commandNameAt('  info chardev', 0), { name: 'info', end: 6 });
    assert.deepEqual(commandNameAt('x/4x 0', 0), { name: 'x', end: 1 });
    assert.equal(commandNameAt('   ', 0), undefined);
  });

  test("a string argument is a word or a double-quoted string with QEMU's escapes", () => {
    assert.deepEqual(stringAt(' abc def', 0), { value: 'abc', end: 4 });
    assert.deepEqual(stringAt('"a b\\n\\r\\\\\\"\\\'"x', 0), { value: 'a b\n\r\\"\'', end: 15 });
    assert.equal(stringAt('"a\\tb"', 0), undefined, 'unknown escape');
    assert.equal(stringAt('"open', 0), undefined, 'unterminated');
    assert.equal(stringAt("'single' quotes", 0)?.value, "'single'", 'single quotes do not quote');
  });

  test('splits at most sixteen words, as parse_cmdline', () => {
    assert.deepEqual(splitWords(' a  "b c" d '), ['a', 'b c', 'd']);
    assert.equal(splitWords(Array.from({ length: 17 }, () => 'w').join(' ')), undefined);
  });

  test('reads strings, the rest of the line, and 32-bit expressions', () => {
    assert.deepEqual(
      parseArguments('ringbuf_read', 'device:s,size:i', 'r0 0x10+1', 0),
      new Map<string, string | bigint>([
        ['device', 'r0'],
        ['size', 17n],
      ]),
    );
    assert.deepEqual(parseArguments('help', 'name:S?', ' info  chardev ', 0), new Map([['name', 'info  chardev ']]));
    assert.deepEqual(parseArguments('help', 'name:S?', '  ', 0), new Map());
  });

  test("fails with QEMU's messages", () => {
    const fails = (argsType: string, text: string, message: string): void => assert.throws(() => parseArguments('cmd', argsType, text, 0), new HmpArgumentError(message));
    fails('id:s', '', 'cmd: string expected');
    fails('id:s', 'a b', 'cmd: extraneous characters at the end of line');
    fails('n:i', '', 'unexpected end of expression');
    fails('n:i', '-1', "'cmd' has failed: integer is for 32-bit values");
    fails('n:i', '0x100000000', "'cmd' has failed: integer is for 32-bit values");
    fails('n:i', 'abc', "invalid char 'a' in expression");
  });
});
