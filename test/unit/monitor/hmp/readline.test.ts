import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { LineEditor, MAX_HISTORY, MAX_LINE_CHARS } from '../../../../src/monitor/hmp/readline.js';

/** An editor whose screen output is collected; `type` feeds a Latin-1 string byte by byte. */
function editor(candidates: string[] = []): { ed: LineEditor; out: () => string; type: (keys: string) => string[] } {
  let out = '';
  const ed = new LineEditor(
    {
      output: (text) => {
        out += text;
      },
      complete: (line) => {
        const word = line.slice(line.lastIndexOf(' ') + 1);
        return { start: line.length - word.length, candidates: candidates.filter((c) => c.startsWith(word)) };
      },
    },
    '> ',
  );
  const type = (keys: string): string[] => {
    const lines: string[] = [];
    for (const byte of Buffer.from(keys, 'latin1')) {
      const line = ed.feed(byte);
      if (line !== undefined) lines.push(line);
    }
    return lines;
  };
  return { ed, out: () => out, type };
}

suite('LineEditor', () => {
  test("redraws as QEMU's readline does: back to the start, the line, erase to the end, then the cursor", () => {
    const { out, type } = editor();
    type('ab\x1b[DX');
    assert.equal(out(), 'a\x1b[K\x1b[Dab\x1b[K\x1b[D\x1b[DaXb\x1b[K\x1b[D');
  });

  test('moves and deletes with the arrow, Home, End, Delete and Ctrl keys', () => {
    const { type } = editor();
    assert.deepEqual(type('world\x01hello \x05!\r'), ['hello world!']);
    assert.deepEqual(type('abcd\x1b[D\x1b[D\x1b[3~\x1b[H>\x1b[F<\r'), ['>abd<']);
    assert.deepEqual(type('abc\x02\x02\x04\x06x\r'), ['acx']);
    assert.deepEqual(type('one two\x1b[D\x1b[D\x0b\r'), ['one t']);
    assert.deepEqual(type('one two\x1b[D\x1b[D\x15\r'), ['wo']);
    assert.deepEqual(type('one two  \x17\r'), ['one ']);
    assert.deepEqual(type('xy\x7f\x08z\r'), ['z']);
    assert.deepEqual(type('\x1bOHa\x1bOFb\x1b[1~c\x1b[4~d\r'), ['cabd']);
  });

  test('takes CR LF as one Enter and LF alone as Enter', () => {
    const { type } = editor();
    assert.deepEqual(type('a\r\nb\nc\r'), ['a', 'b', 'c']);
  });

  test('inserts UTF-8 characters whole, one cursor step each', () => {
    const { type } = editor();
    assert.deepEqual(type(Buffer.from('caf\u00e9\u20ac', 'utf8').toString('latin1') + '\x1b[D\x7f!\r'), ['caf!\u20ac']);
  });

  test('recalls history with Up and Down; a repeated line moves to the end', () => {
    const { ed, type } = editor();
    type('first\rsecond\rfirst\r');
    assert.deepEqual(ed.history, ['second', 'first']);
    assert.deepEqual(type('\x1b[A\x1b[A\r'), ['second']);
    assert.deepEqual(ed.history, ['first', 'second'], 'the recalled line moved to the end');
    assert.deepEqual(type('\x10\x10\x0e\r'), ['second'], 'Ctrl-P Ctrl-P Ctrl-N');
    type('\x1b[A\x1b[B');
    assert.equal(ed.text, '', 'Down past the newest entry empties the line');
  });

  test('keeps at most MAX_HISTORY entries and MAX_LINE_CHARS characters', () => {
    const { ed, type } = editor();
    for (let i = 0; i < MAX_HISTORY + 5; i++) type(`c${i}\r`);
    assert.equal(ed.history.length, MAX_HISTORY);
    assert.equal(ed.history[0], 'c5');
    assert.equal(type(`${'x'.repeat(MAX_LINE_CHARS + 10)}\r`)[0]!.length, MAX_LINE_CHARS);
  });

  test('completes a single candidate with a space, and lists several in columns with their common prefix', () => {
    const one = editor(['ringbuf_read', 'ringbuf_write', 'quit']);
    one.type('q\t');
    assert.equal(one.ed.text, 'quit ');
    const many = editor(['ringbuf_write', 'ringbuf_read']);
    many.type('r\t');
    assert.equal(many.ed.text, 'ringbuf_');
    assert.match(many.out(), /\nringbuf_read {3}ringbuf_write {2}\n> ringbuf_\x1b\[K$/);
  });
});
