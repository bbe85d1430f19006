import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite, test } from 'node:test';
import { PathOpener } from '../../../src/chardev/path-opener.js';
import { FdSets } from '../../../src/commands/fd-sets.js';

suite('PathOpener (qemu_open and /dev/fdset/N)', () => {
  test('opens /dev/fdset/N as a duplicate of the newest descriptor whose access mode fits, and releases the set', () => {
    const dir = fs.mkdtempSync(join(tmpdir(), 'chardevd-opener-'));
    const sets = new FdSets(() => 0);
    try {
      const readOnly = fs.openSync(join(dir, 'f'), 'w+');
      fs.writeSync(readOnly, 'kept');
      const writeOnly = fs.openSync(join(dir, 'f'), fs.constants.O_WRONLY);
      sets.add(fs.openSync(join(dir, 'f'), fs.constants.O_RDONLY), 3, undefined);
      sets.add(writeOnly, 3, undefined);
      const opener = new PathOpener(sets);
      const fail = (path: string, flags: number, code: string): void => assert.throws(() => opener.open(path, flags), { code });
      fail('/dev/fdset/4', fs.constants.O_WRONLY, 'ENOENT');
      fail('/dev/fdset/3', fs.constants.O_RDWR, 'EACCES');
      for (const bad of ['/dev/fdset/x', '/dev/fdset/', '/dev/fdset/-1', '/dev/fdset/2147483648', '/dev/fdset/3.in']) fail(bad, fs.constants.O_WRONLY, 'EINVAL');
      assert.throws(() => opener.openOrThrow('/dev/fdset/4', fs.constants.O_WRONLY), { message: "Could not open '/dev/fdset/4': No such file or directory" });
      // O_APPEND is set on the duplicate, and O_TRUNC empties the file, as qemu_dup_flags does.
      const fd = opener.open('/dev/fdset/3', fs.constants.O_WRONLY | fs.constants.O_TRUNC);
      assert.notEqual(fd, writeOnly);
      assert.equal(fs.fstatSync(fd).size, 0);
      fs.closeSync(fd);
      // The set was opened: with no monitor connected, its descriptors stay until the duplicate is released.
      sets.monitorGone(0);
      assert.equal(sets.count, 2);
      opener.release();
      assert.equal(sets.count, 0);
      assert.deepEqual(sets.list(), []);
      fs.closeSync(readOnly);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('without fd sets, /dev/fdset/N is a set that does not exist; other paths are opened', () => {
    const opener = new PathOpener(undefined);
    assert.throws(() => opener.open('/dev/fdset/0', fs.constants.O_RDONLY), { code: 'ENOENT' });
    const fd = opener.open('/dev/null', fs.constants.O_RDONLY);
    fs.closeSync(fd);
  });
});
