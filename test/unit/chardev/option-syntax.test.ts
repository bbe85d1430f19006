import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { nextToken, scanId, shortFormWarning } from '../../../src/chardev/option-syntax.js';

/** Every token of `text` as [name, value], the first one under `implied`. */
function tokens(text: string, implied?: string): [string, string][] {
  const out: [string, string][] = [];
  for (let pos = 0, first = true; pos < text.length; first = false) {
    const token = nextToken(text, pos, first ? implied : undefined);
    out.push([token.name, token.value]);
    pos = token.next;
  }
  return out;
}

suite('the -chardev text syntax (util/qemu-option.c)', () => {
  test('name=value pairs; the first bare value takes the implied name; ,, is a comma in values only', () => {
    assert.deepEqual(tokens('socket,path=a,,b,server=on', 'backend'), [
      ['backend', 'socket'],
      ['path', 'a,b'],
      ['server', 'on'],
    ]);
    assert.deepEqual(tokens('ring,,buf,id=a', 'backend'), [
      ['backend', 'ring,buf'],
      ['id', 'a'],
    ]);
    assert.deepEqual(tokens('a,,b=c'), [
      ['a', 'on'],
      ['', 'on'],
      ['b', 'c'],
    ]);
  });

  test('a bare word is a boolean, `no` turning it off; help and ? are requests, not options', () => {
    const on = nextToken('server', 0, undefined);
    assert.deepEqual([on.name, on.value, on.shortForm, on.help], ['server', 'on', '', false]);
    const off = nextToken('nowait', 0, undefined);
    assert.deepEqual([off.name, off.value, off.shortForm], ['wait', 'off', 'no']);
    for (const word of ['help', '?']) assert.equal(nextToken(word, 0, undefined).help, true);
  });

  test('the id is the first id option, read without an implied name', () => {
    assert.equal(scanId('ringbuf,id=a,id=b'), 'a');
    assert.equal(scanId('id=x,backend=null'), 'x');
    assert.equal(scanId('ringbuf,size=1k'), undefined);
    assert.equal(scanId('ringbuf,,id=a'), 'a', 'the id scan does not see the backend swallow it');
  });

  test("QEMU 6.0's deprecation warning for a bare boolean, naming nodelay for delay", () => {
    assert.equal(shortFormWarning('server', 'on', ''), "warning: short-form boolean option 'server' deprecated\nPlease use server=on instead");
    assert.equal(shortFormWarning('delay', 'off', 'no'), "warning: short-form boolean option 'nodelay' deprecated\nPlease use nodelay=on instead");
  });
});
