import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, suite, test } from 'node:test';
import { bootGuest, type Guest, GUEST_READY, guestSkipReason } from '../support/guest.js';
import { MonitorClient } from '../support/monitor-client.js';
import { type ServerProcess, startChardevd, untilListening } from '../support/servers.js';

const BOOT_MS = 60_000;
const WAIT_MS = 10_000;

/**
 * QEMU's `-serial mon:stdio` made of chardevd parts, with a real Linux
 * guest: one socket (`con`, mux=on) shared by chardevd's human monitor and
 * a link to the guest's serial port. The person on `con` types to the
 * guest, presses Ctrl-A c to reach the monitor, and Ctrl-A c again to
 * return. One boot for the file.
 */
suite('a guest console and the monitor on one mux=on socket', { skip: guestSkipReason() }, () => {
  let chardevd: ServerProcess;
  let guest: Guest | undefined;
  let con: MonitorClient;

  before(async () => {
    chardevd = await startChardevd((dir) => [
      '-chardev',
      `socket,id=guest,path=${join(dir, 'guest.sock')},server=on,wait=off`,
      '-chardev',
      `socket,id=con,path=${join(dir, 'con.sock')},server=on,wait=off,mux=on`,
      '-mon',
      'chardev=con,mode=readline',
      '-device',
      'link,id=serial0,chardev=con,peer=guest',
    ]);
    await untilListening(join(chardevd.dir, 'guest.sock'));
    // The link, attached last, has the focus; the monitor holds its banner until it gets it.
    con = await MonitorClient.open(join(chardevd.dir, 'con.sock'), '(chardevd) ', false);
    guest = bootGuest(chardevd.dir, `socket,id=serial0,path=${join(chardevd.dir, 'guest.sock')}`);
  });

  after(async () => {
    con?.close();
    await guest?.stop();
    await chardevd?.stop();
  });

  test('the guest boots onto the shared socket and answers what is typed there', async () => {
    await con.until(() => con.received.includes(GUEST_READY), `the guest's marker (QEMU stderr: ${guest?.stderr() ?? ''})`, BOOT_MS);
    assert.doesNotMatch(con.received, /can't insert/, 'the virtio console modules loaded');
    con.send('test -d /sys/module/virtio_console && echo guest-$((6*7))\n');
    await con.until(() => con.received.includes('guest-42'), 'the guest shell answer');
  });

  test('Ctrl-A c hands the keys to the monitor, which answers commands; the guest sees none of them', async () => {
    await con.until(() => con.received.includes('guest-42'), 'the guest shell answer');
    const before = con.received.length;
    con.send('\x01c');
    // The monitor shows what it held (its banner) and a fresh prompt. The guest's shell may
    // still be printing its own prompt on the same socket, so outputs are found by content.
    await con.until(() => con.received.slice(before).includes('(chardevd) '), 'the prompt after Ctrl-A c');
    con.send('info chardev\r');
    await con.until(() => /con: filename=mux\r\n\(chardevd\) /.test(con.received.slice(before)), 'the answer of info chardev');
    assert.match(con.received.slice(before), /\r\nguest: filename=unix:.*guest\.sock,server=on\r\n/);
  });

  test('Ctrl-A c again returns the keys to the guest', async () => {
    await con.until(() => con.received.includes('con: filename=mux'), 'the monitor answer');
    con.send('\x01c');
    con.send('echo back-$((40+2))\n');
    await con.until(() => con.received.includes('back-42'), 'the guest shell answer after switching back');
    // Each side got only its own keys: no unknown-command error from the monitor, no "not found" from the guest shell.
    assert.doesNotMatch(con.received, /unknown command: 'echo'/);
    assert.doesNotMatch(con.received, /info: not found/);
  });

  test('exit ends the guest shell, the guest powers off and QEMU ends with status 0', async () => {
    con.send('exit\n');
    const status = await Promise.race([guest!.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), WAIT_MS).unref())]);
    assert.equal(status, 0, guest!.stderr());
  });
});
