import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, suite, test } from 'node:test';
import { ChardevRegistry } from '../../../src/chardev/registry.js';
import { RingbufChardev } from '../../../src/chardev/ringbuf.js';
import { TestFrontend } from '../../support/test-frontend.js';

const dir = fs.mkdtempSync(join(tmpdir(), 'chardevd-registry-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const ringbuf = { type: 'ringbuf', data: { size: 16 } } as const;

suite('ChardevRegistry: chardev-add, -change, -remove and -send-break as QEMU', () => {
  test('an id being opened is already taken: a second add fails while the first waits for its client', async () => {
    const registry = new ChardevRegistry({ log: () => {} });
    const path = join(dir, 'wait.sock');
    const opening = registry.add('s', { type: 'socket', data: { addr: { type: 'unix', data: { path } }, wait: true } });
    await assert.rejects(registry.add('s', ringbuf), { message: "Chardev with id 's' already exists" });
    await assert.rejects(registry.change('s', ringbuf), { message: "Chardev 's' does not exist" });
    const { connect } = await import('node:net');
    const deadline = Date.now() + 5000;
    while (!fs.existsSync(path) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    const client = connect(path);
    const chardev = await opening;
    assert.equal(chardev.isOpen, true);
    client.destroy();
    await registry.closeAll();
  });

  test('a failed add says which chardev and why, and leaves the id free', async () => {
    const registry = new ChardevRegistry({ log: () => {} });
    await assert.rejects(registry.add('r', { type: 'ringbuf', data: { size: 3 } }), {
      message: "Failed to add chardev 'r': size of ringbuf chardev must be power of two",
    });
    await assert.rejects(registry.add('v', { type: 'vc', data: {} }), { message: /^Failed to add chardev 'v': 'vc' is not a valid char driver name: / });
    await registry.add('r', ringbuf);
    assert.deepEqual(
      registry.list().map((c) => c.id),
      ['r'],
    );
    await registry.closeAll();
  });

  test('a chardev with a frontend is busy and cannot be removed; send-break reaches its frontend', async () => {
    const registry = new ChardevRegistry({ log: () => {} });
    const chardev = await registry.add('r', ringbuf);
    const frontend = new TestFrontend();
    chardev.attach(frontend);
    await assert.rejects(registry.remove('r'), { message: "Chardev 'r' is busy" });
    registry.sendBreak('r');
    assert.deepEqual(frontend.events, ['opened', 'break']);
    assert.throws(() => registry.sendBreak('x'), { message: "Chardev 'x' not found" });
    chardev.detach(frontend);
    await registry.remove('r');
    await assert.rejects(registry.remove('r'), { message: "Chardev 'r' not found" });
  });

  test('chardev-change moves the frontend to the new backend, which then gets its output (test-char /char/hotswap)', async () => {
    const registry = new ChardevRegistry({ log: () => {} });
    const old = await registry.add('c', ringbuf);
    const frontend = new TestFrontend();
    old.attach(frontend);
    await assert.rejects(registry.change('c', { type: 'null', data: {} }), { message: 'Chardev user does not support chardev hotswap' });

    frontend.changeBackend = () => false;
    const out = join(dir, 'hotswap.txt');
    await assert.rejects(registry.change('c', { type: 'file', data: { out } }), { message: "Chardev 'c' change failed" });
    assert.equal(registry.get('c'), old, 'a refused change keeps the old backend');
    assert.equal(old.frontend, frontend);

    frontend.changeBackend = () => true;
    const replacement = await registry.change('c', { type: 'file', data: { out } });
    assert.equal(registry.get('c'), replacement);
    assert.equal(replacement.frontend, frontend);
    assert.equal(old.closed, true);
    replacement.write(Buffer.from('after the swap'));
    replacement.detach(frontend);
    await registry.closeAll();
    assert.equal(fs.readFileSync(out, 'latin1'), 'after the swap');
  });

  test('chardev-change of a chardev nobody uses replaces it outright, even with a server on the same address', async () => {
    const registry = new ChardevRegistry({ log: () => {} });
    const path = join(dir, 'same.sock');
    const server = { type: 'socket', data: { addr: { type: 'unix', data: { path } }, wait: false } } as const;
    await registry.add('s', server);
    const changed = await registry.change('s', { ...server, data: { ...server.data, telnet: true } });
    assert.equal(changed.filename, `disconnected:unix:${path},server=on`);
    await registry.change('s', ringbuf);
    assert.ok(registry.get('s') instanceof RingbufChardev);
    await registry.closeAll();
  });
});
