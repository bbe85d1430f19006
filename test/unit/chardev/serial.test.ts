import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { suite, test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { PtyChardev } from '../../../src/chardev/pty.js';
import { SerialChardev } from '../../../src/chardev/serial.js';
import { TestFrontend } from '../../support/test-frontend.js';

const run = promisify(execFile);
const context = { log: () => {} };

/** A serial chardev that also shows the input the base class holds for the frontend. */
class InspectableSerial extends SerialChardev {
  get held(): number {
    return this.heldInput;
  }
}

/**
 * A serial line made of a pty: a pty chardev holds the master (the far
 * end of the line, with its own frontend) and the serial chardev opens
 * the slave, as it would open /dev/ttyS0. Everything is released when the
 * test ends.
 */
async function openLine(t: TestContext, options: { capacity?: number; beforeSerial?: (path: string) => Promise<void> } = {}) {
  const far = new PtyChardev('far', context);
  await far.open();
  const farEnd = new TestFrontend();
  far.attach(farEnd);
  t.after(async () => {
    far.detach(farEnd);
    await far.close();
  });
  await options.beforeSerial?.(far.ptsPath);
  const serial = new InspectableSerial('s', far.ptsPath, context);
  await serial.open();
  const frontend = new TestFrontend();
  frontend.capacity = options.capacity ?? Number.MAX_SAFE_INTEGER;
  serial.attach(frontend);
  t.after(async () => {
    serial.detach(frontend);
    await serial.close();
  });
  await farEnd.until(() => farEnd.events.includes('opened'), 'the far end seeing the serial chardev open the line');
  return { serial, frontend, far, farEnd };
}

/** Whether `stty -a` output shows `setting` as a whole word (so that -echo does not match -echoe). */
const hasSetting = (stty: string, setting: string): boolean => stty.split(/[\s;]+/).includes(setting);

suite('serial chardev (chardev/char-serial.c)', () => {
  test('opening sets the line as QEMU does: 115200 baud, 8N1, raw; the chardev is open at once', async (t) => {
    const { serial, frontend, far } = await openLine(t, {
      // Start from a cooked line at another speed, so that the settings seen afterwards are the chardev's.
      beforeSerial: async (path) => {
        await run('stty', ['-F', path, 'sane', '9600']);
      },
    });
    assert.equal(serial.kind, 'serial');
    assert.equal(serial.filename, 'serial');
    assert.equal(serial.isOpen, true);
    assert.deepEqual(frontend.events, ['opened']);
    const { stdout } = await run('stty', ['-F', far.ptsPath, '-a']);
    assert.match(stdout, /speed 115200 baud/);
    for (const setting of ['-icanon', '-echo', '-isig', '-icrnl', '-opost', 'cs8', '-parenb', '-cstopb', '-crtscts', '-ixon']) {
      assert.ok(hasSetting(stdout, setting), `stty shows ${setting}:\n${stdout}`);
    }
  });

  test('bytes written to the serial chardev reach the far end of the line unchanged, and bytes from there reach the frontend', async (t) => {
    const { serial, frontend, far, farEnd } = await openLine(t);
    const out = Buffer.from('to far\r\n\x00\xff\x03\x04');
    assert.equal(serial.write(out), true);
    await farEnd.until(() => farEnd.input.length >= out.length, 'the serial output at the far end');
    assert.deepEqual(farEnd.input, out);
    const back = Buffer.from('to serial\r\n\x00\xff\x03\x1a');
    far.write(back);
    await frontend.until(() => frontend.input.length >= back.length, 'the far end output at the serial frontend');
    assert.deepEqual(frontend.input, back);
  });

  test('input waits in the kernel while the frontend has no room, and arrives after acceptInput()', async (t) => {
    const { serial, frontend, far, farEnd } = await openLine(t, { capacity: 0 });
    far.write(Buffer.from('waiting'));
    // A round trip over the line gives the serial chardev event-loop turns in which it could have read.
    serial.write(Buffer.from('ping'));
    await farEnd.until(() => farEnd.text === 'ping', 'the round trip');
    assert.equal(frontend.text, '');
    assert.equal(serial.held, 0, 'the input stayed in the kernel, not in the chardev');
    frontend.capacity = 4;
    serial.acceptInput();
    await frontend.until(() => frontend.text === 'wait', 'as much input as the frontend has room for');
    frontend.capacity = 100;
    serial.acceptInput();
    await frontend.until(() => frontend.text === 'waiting', 'the rest of the input');
  });

  test('the far end hanging up ends the input: the frontend hears closed', async (t) => {
    const { frontend, far, farEnd } = await openLine(t);
    far.detach(farEnd);
    await far.close();
    await frontend.until(() => frontend.events.includes('closed'), "'closed' after the line hung up");
    assert.deepEqual(frontend.events, ['opened', 'closed']);
  });

  test("a missing device gives QEMU's error text", async () => {
    const serial = new SerialChardev('s', '/nonexistent', context);
    await assert.rejects(serial.open(), { name: 'ChardevError', message: "Could not open '/nonexistent': No such file or directory" });
  });

  test('a device that is not a terminal is refused with the reason', async () => {
    const serial = new SerialChardev('s', '/dev/null', context);
    await assert.rejects(serial.open(), { name: 'ChardevError', message: "Could not open '/dev/null': Inappropriate ioctl for device" });
  });
});
