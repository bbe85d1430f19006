import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { muxExitIgnoredText, muxHelpText } from '../../../src/chardev/mux-help.js';

suite("the mux's escape key texts (char-mux.c mux_print_help)", () => {
  test('a control letter is named C-x; any other key Escape-Char, with its code in the header', () => {
    const help = muxHelpText(0x01);
    assert.ok(help.startsWith('\n\rC-a h    print this help\n\r'));
    assert.ok(help.endsWith('C-a C-a  sends C-a\n\r'));
    assert.equal(muxHelpText(0x1d), help.replace('\n\r', '\n\rEscape-Char set to Ascii: 0x1d\n\r\n\r').replaceAll('C-a', 'Escape-Char'));
  });

  test('a key outside a byte is printed as a 32-bit pattern, as %02x of an int prints it', () => {
    assert.match(muxHelpText(-1), /^\n\rEscape-Char set to Ascii: 0xffffffff\n\r/);
  });

  test('the key then x names the key and says the daemon keeps running', () => {
    assert.match(muxExitIgnoredText(0x14), /^chardevd: C-t x ignored/);
    assert.equal(muxExitIgnoredText(1), 'chardevd: C-a x ignored, chardevd keeps running (close your connection to leave)\n\r');
  });
});
