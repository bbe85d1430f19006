import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, suite, test } from 'node:test';
import { createChardev, SUPPORTED_KINDS } from '../../../src/chardev/create.js';
import type { ChardevBackend } from '../../../src/generated/qapi-types.gen.js';

const dir = fs.mkdtempSync(join(tmpdir(), 'chardevd-create-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const context = { log: () => {} };

suite('createChardev', () => {
  test("query-chardev-backends lists what chardevd creates, in the schema's order (the hub is not listed)", () => {
    assert.deepEqual(SUPPORTED_KINDS, ['file', 'serial', 'pipe', 'socket', 'udp', 'pty', 'null', 'mux', 'stdio', 'ringbuf', 'memory']);
  });

  test("a kind chardevd does not create is refused with QEMU's text and the reason", async () => {
    const refusals: [ChardevBackend, string][] = [
      [{ type: 'parallel', data: { device: '/dev/parport0' } }, 'parallel ports are not supported'],
      [{ type: 'vc', data: {} }, 'it is a text console drawn on an emulator display'],
      [{ type: 'console', data: {} }, 'it exists only on Windows'],
      [{ type: 'dbus', data: { name: 'n' } }, 'it is a channel of an emulator D-Bus display'],
    ];
    for (const [backend, reason] of refusals) {
      await assert.rejects(createChardev('x', backend, context), {
        name: 'ChardevError',
        code: 'CHARDEV_FAILED',
        message: `'${backend.type}' is not a valid char driver name: ${reason}`,
      });
    }
  });

  test('the log file is opened before the backend, as QEMU opens it: its failure comes first', async () => {
    const log = join(dir, 'failed.log');
    await assert.rejects(createChardev('r', { type: 'ringbuf', data: { size: 3, logfile: log } }, context), { message: 'size of ringbuf chardev must be power of two' });
    assert.equal(fs.existsSync(log), true, 'the log was created before the backend refused');
    await assert.rejects(createChardev('r', { type: 'ringbuf', data: { size: 3, logfile: join(dir, 'missing', 'x.log') } }, context), {
      message: /^Could not create '.*x\.log': No such file or directory$/,
    });
  });

  test("a mux whose base does not exist is refused with QEMU's text", async () => {
    await assert.rejects(createChardev('m', { type: 'mux', data: { chardev: 'nope' } }, { ...context, find: () => undefined }), {
      message: 'mux: base chardev nope not found',
    });
  });
});
