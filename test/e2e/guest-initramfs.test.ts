import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite, test } from 'node:test';
import { buildInitramfs, CONSOLE_MODULES, guestSkipReason } from '../support/guest.js';

/** The guest's initramfs, checked with the cpio tool: the kernel reads the same newc format. */
suite('the guest initramfs', {
  skip: guestSkipReason() ?? (spawnSync('cpio', ['--version']).status === 0 ? false : 'cpio is not installed (apt-get install cpio)'),
}, () => {
  test('holds /init, the console node, static busybox and the virtio console modules', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chardevd-initramfs-'));
    try {
      const archive = buildInitramfs(dir);
      const listing = spawnSync('cpio', ['-itv', '--quiet'], { input: readFileSync(archive), encoding: 'utf8', timeout: 10_000 });
      assert.equal(listing.status, 0, listing.stderr);
      const names = listing.stdout
        .trim()
        .split('\n')
        .map((line) => line.split(/\s+/).at(-1));
      for (const name of ['init', 'bin/busybox', 'dev/console', ...CONSOLE_MODULES.map((m) => `lib/modules/${m}.ko`)]) {
        assert.ok(names.includes(name), `${name} missing from ${names.join(' ')}`);
      }
      assert.match(listing.stdout, /^crw-------.*\s5,\s+1\s.*dev\/console$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
