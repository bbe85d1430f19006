import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { checkChardevOption } from '../../../src/chardev/check-option.js';
import { ChardevHelpRequest, ChardevOptionError } from '../../../src/chardev/option-error.js';

suite('checkChardevOption (what QEMU checks while reading its command line)', () => {
  test('returns the id and the short-form warnings of a good option', () => {
    assert.deepEqual(checkChardevOption('socket,id=s0,path=/run/s.sock,server,nowait'), {
      id: 's0',
      mux: false,
      warnings: [
        "warning: short-form boolean option 'server' deprecated\nPlease use server=on instead",
        "warning: short-form boolean option 'nowait' deprecated\nPlease use wait=off instead",
      ],
    });
  });

  test("refuses a bad id, an unknown option and a bad value with QEMU's texts", () => {
    assert.throws(
      () => checkChardevOption('ringbuf,id=1x'),
      new ChardevOptionError("Parameter 'id' expects an identifier\nIdentifiers consist of letters, digits, '-', '.', '_', starting with a letter."),
    );
    assert.throws(() => checkChardevOption('ringbuf,id=a,bogus=1'), new ChardevOptionError("Invalid parameter 'bogus'"));
    assert.throws(() => checkChardevOption('socket,id=a,server=maybe'), new ChardevOptionError("Parameter 'server' expects 'on' or 'off'"));
    assert.throws(() => checkChardevOption('ringbuf,id=a,size=-1'), /Parameter 'size' expects a non-negative number below 2\^64/);
  });

  test('keeps the warnings printed before a bad option', () => {
    assert.throws(
      () => checkChardevOption('ringbuf,id=x,size=0x1k,bogus=2'),
      (error: unknown) =>
        error instanceof ChardevOptionError &&
        error.message === "Invalid parameter 'bogus'" &&
        error.warnings.join('|') === 'warning: Using a multiplier suffix on hex numbers is deprecated: 0x1k',
    );
  });

  test('leaves what QEMU checks at creation for later: missing id, missing or unknown backend, backend options', () => {
    assert.deepEqual(checkChardevOption('null'), { id: undefined, mux: false, warnings: [] });
    assert.equal(checkChardevOption('id=x').id, 'x');
    assert.equal(checkChardevOption('bogus,id=b').id, 'b');
    assert.equal(checkChardevOption('file,id=f').id, 'f');
    assert.equal(checkChardevOption('udp,id=u').id, 'u');
    assert.equal(checkChardevOption('tty,id=t').id, 't');
    assert.equal(checkChardevOption('help').id, undefined);
  });

  test('answers BACKEND,help at once, as QEMU does while reading the command line (exit status 1)', () => {
    assert.throws(
      () => checkChardevOption('ringbuf,help'),
      (error: unknown) => error instanceof ChardevHelpRequest && error.topic === 'options' && error.exitStatus === 1 && error.message.startsWith('chardev options:\n'),
    );
  });

  test('reads trailing and doubled commas as QEMU does', () => {
    // A single trailing comma ends the last value; a doubled one is a comma in it.
    assert.equal(checkChardevOption('ringbuf,id=a,').id, 'a');
    assert.equal(checkChardevOption('ringbuf,size=64K,id=a,').id, 'a');
    assert.equal(checkChardevOption('file,path=x,,,id=a').id, 'a');
    assert.equal(checkChardevOption('file,id=a,path=x,,').id, 'a');
    assert.equal(checkChardevOption('file,id=a,path=x,,,').id, 'a');
    assert.equal(checkChardevOption('ringbuf,id=a,server,').id, 'a');
    assert.throws(() => checkChardevOption('ringbuf,id=a,,'), /Parameter 'id' expects an identifier/);
  });

  test('reports mux=on', () => {
    assert.equal(checkChardevOption('stdio,id=s,mux=on').mux, true);
  });
});
