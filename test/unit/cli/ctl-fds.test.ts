import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite, test } from 'node:test';
import { closeOpened, takeFdOptions } from '../../../src/cli/ctl-fds.js';

suite("chardevctl's --fd and --fd-file", () => {
  test('takes them out of the arguments, opening files with the mode given', () => {
    const dir = fs.mkdtempSync(join(tmpdir(), 'chardevd-ctlfds-'));
    try {
      const passed = takeFdOptions(['add-fd', '--fd', '0', 'fdset-id=1', `--fd-file=w:${join(dir, 'out')}`, '--fd-file', `a:${join(dir, 'log')}`]);
      assert.deepEqual(passed.args, ['add-fd', 'fdset-id=1']);
      assert.equal(passed.fds.length, 3);
      assert.equal(passed.fds[0], 0);
      assert.deepEqual(passed.opened, passed.fds.slice(1));
      // w and a create; the access mode is what add-fd's users match.
      assert.equal(fs.existsSync(join(dir, 'out')), true);
      closeOpened(passed);
      assert.deepEqual(passed.opened, []);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('refuses what it cannot pass, closing what it opened', () => {
    const dir = fs.mkdtempSync(join(tmpdir(), 'chardevd-ctlfds-'));
    const before = fs.readdirSync('/proc/self/fd').length;
    try {
      assert.throws(() => takeFdOptions(['getfd', '--fd']), { message: '--fd needs a descriptor number' });
      assert.throws(() => takeFdOptions(['getfd', '--fd', 'x']), { message: '--fd x: not a descriptor number' });
      assert.throws(() => takeFdOptions(['getfd', '--fd', '999']), { message: '--fd 999: no such open descriptor (pass one with a redirection, e.g. 999<FILE)' });
      assert.throws(() => takeFdOptions(['getfd', '--fd-file', `w:${join(dir, 'ok')}`, '--fd-file', join(dir, 'missing')]), { message: /^--fd-file .*missing: ENOENT/ });
      assert.equal(fs.readdirSync('/proc/self/fd').length, before);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
