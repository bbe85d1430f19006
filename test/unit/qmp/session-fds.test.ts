import assert from 'node:assert/strict';
import { closeSync, openSync, readdirSync } from 'node:fs';
import { suite, test } from 'node:test';
import { SessionFds } from '../../../src/qmp/session-fds.js';

const openFds = (): number => readdirSync('/proc/self/fd').length;
const devNull = (): number => openSync('/dev/null', 'r');

suite('SessionFds', () => {
  test('the next command claims the first descriptor; the others and the unclaimed are closed', () => {
    const fds = new SessionFds();
    const before = openFds();
    const [a, b] = [devNull(), devNull()];
    fds.arrived([a, b]);
    fds.commandStarted();
    assert.equal(fds.claim(), a);
    assert.equal(fds.claim(), undefined);
    fds.commandEnded();
    assert.equal(openFds(), before + 1);
    fds.setNamed('x', a);
    fds.arrived([devNull()]);
    fds.commandStarted();
    fds.commandEnded();
    assert.equal(fds.count, 1);
    fds.dispose();
    assert.equal(openFds(), before);
  });

  test("a named descriptor taken by a chardev is no longer the connection's to close", () => {
    const fds = new SessionFds();
    const before = openFds();
    const fd = devNull();
    fds.setNamed('s', fd);
    assert.equal(fds.take('s'), fd);
    assert.equal(fds.take('s'), undefined);
    assert.equal(fds.closeNamed('s'), false);
    fds.dispose();
    assert.equal(openFds(), before + 1);
    closeSync(fd);
  });

  test('newer descriptors replace waiting ones, as in QEMU', () => {
    const fds = new SessionFds();
    const before = openFds();
    const [a, b] = [devNull(), devNull()];
    fds.arrived([a]);
    fds.arrived([b]);
    fds.commandStarted();
    assert.equal(fds.claim(), b);
    fds.setNamed('n', b);
    assert.equal(openFds(), before + 1);
    fds.setNamed('n', devNull());
    assert.equal(openFds(), before + 1);
    assert.equal(fds.closeNamed('n'), true);
    assert.equal(fds.closeNamed('n'), false);
    assert.equal(openFds(), before);
  });

  test('descriptors arriving after the connection closed are closed at once', () => {
    const fds = new SessionFds();
    fds.dispose();
    const before = openFds();
    fds.arrived([devNull()]);
    assert.equal(openFds(), before);
  });
});
