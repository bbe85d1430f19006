import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, suite, test } from 'node:test';
import { muxExitIgnoredText } from '../../src/chardev/mux-help.js';
import { MonitorClient } from '../support/monitor-client.js';
import { type ServerProcess, startChardevd, untilListening } from '../support/servers.js';

/**
 * A mux in the running daemon: one socket shared by a human monitor and a
 * link to a ringbuf, as `-serial mon:...` shares QEMU's. The last frontend
 * attached at startup (the link) has the focus; Ctrl-A c hands it to the
 * monitor; Ctrl-A h prints the help; Ctrl-A x leaves the daemon running;
 * a `console` from a monitor connection joins as one more frontend.
 */
suite('mux=on in the daemon: a monitor and a link share one socket', () => {
  let chardevd: ServerProcess;
  let client: MonitorClient;

  before(async () => {
    chardevd = await startChardevd((dir) => [
      '-chardev',
      `socket,id=con,path=${join(dir, 'con.sock')},server=on,wait=off,mux=on`,
      '-mon',
      'chardev=con,mode=readline',
      '-chardev',
      'ringbuf,id=r',
      '-device',
      'link,id=l0,chardev=con,peer=r',
      '-monitor',
      `unix:${join(dir, 'hmp.sock')},server=on,wait=off`,
    ]);
    const path = join(chardevd.dir, 'con.sock');
    await untilListening(path);
    // The link has the focus: the monitor holds its banner, and prints no prompt.
    client = await MonitorClient.open(path, '(chardevd) ', false);
  });

  after(async () => {
    client?.close();
    await chardevd?.stop();
  });

  test('keys go to the focused frontend, the link, and land in the ringbuf; the monitor sees none', async () => {
    client.send('typed for the link');
    client.send('\x01c');
    // With the focus the monitor prints what it held (its banner) and a prompt.
    await client.until(() => client.received.endsWith('(chardevd) '), 'the prompt after Ctrl-A c');
    assert.match(client.received, /^chardevd \S+ monitor - type 'help' for more information\r\n/);
    const output = await client.command('ringbuf_read r 100');
    assert.match(output, /typed for the link/);
    // Once, in ringbuf_read's answer: the monitor never echoed those keys.
    assert.equal(client.count('typed for the link'), 1);
  });

  test('Ctrl-A h prints the help on the shared socket', async () => {
    client.send('\x01h');
    await client.until(() => client.received.includes('C-a C-a  sends C-a\n\r'), 'the mux help');
    assert.match(client.received, /\n\rC-a h {4}print this help\n\rC-a x {4}exit emulator\n\r/);
  });

  test('Ctrl-A x prints why it does nothing and the daemon goes on serving', async () => {
    client.send('\x01x');
    await client.until(() => client.received.includes(muxExitIgnoredText(1)), 'the C-a x notice');
    const output = await client.command('info chardev');
    assert.match(output, /con-base: filename=unix:.*con\.sock,server=on/);
    assert.match(output, /con: filename=mux/);
  });

  test("a monitor connection's console joins the mux as one more frontend, takes the focus, and gives it on when it leaves", async () => {
    const hmp = await MonitorClient.open(join(chardevd.dir, 'hmp.sock'));
    try {
      hmp.send('console con\r');
      await hmp.until(() => hmp.received.includes("Connected to chardev 'con'"), 'the console to connect');
      const before = client.received.length;
      client.send('to the console');
      await hmp.until(() => hmp.received.includes('to the console'), 'the keys at the console');
      hmp.send('from the console');
      await client.until(() => client.received.includes('from the console'), 'the console output on the shared socket');
      assert.equal(client.received.slice(before).includes('to the console'), false, 'the monitor on con did not echo the keys');
      // Ctrl-] leaves the console; the focus moves on to the next frontend, the monitor on con, which prompts again.
      const prompts = client.count('(chardevd) ');
      hmp.send('\x1d');
      await client.until(() => client.count('(chardevd) ') > prompts, 'the monitor on con to get the focus back');
    } finally {
      hmp.close();
    }
  });
});
