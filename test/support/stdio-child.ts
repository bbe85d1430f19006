/**
 * A process for stdio.test.ts: runs a StdioChardev over this process's
 * real stdin and stdout, with a frontend that echoes its input back
 * through the chardev (QEMU's /char/stdio test writes "buf\0" the same
 * way). Reports go to stderr, one `@name:value` line each, so that
 * stdout carries only the chardev's output when it is a pipe.
 *
 * Usage: node stdio-child.js signal=on|signal=off
 * Input: "q" closes the chardev (then the process ends by itself once
 * stdin no longer holds it), "x" calls process.exit() without closing.
 */
import { writeSync } from 'node:fs';
import type { ChardevEvent, ChardevFrontend } from '../../src/chardev/chardev.js';
import { StdioChardev } from '../../src/chardev/stdio.js';

const report = (line: string): void => {
  writeSync(2, `@${line}\n`);
};
const context = { log: (message: string) => report(`log:${message}`) };
const stdin = process.stdin as NodeJS.ReadStream & { isRaw?: boolean };

report(`raw-before:${String(stdin.isRaw)}`);
const chardev = new StdioChardev('stdio', { signal: process.argv[2] !== 'signal=off' }, context);
await chardev.open();
report(`raw-open:${String(stdin.isRaw)}`);
try {
  await new StdioChardev('stdio2', {}, context).open();
  report('second:opened');
} catch (error: unknown) {
  report(`second:${(error as Error).message}`);
}
// Registered after the chardev's own exit listener, so it sees the terminal as that left it.
process.on('exit', () => report(`raw-at-exit:${String(stdin.isRaw)}`));
process.on('SIGINT', () => report('sigint:received'));

let closing = false;
async function close(): Promise<void> {
  if (closing) return;
  closing = true;
  chardev.detach(frontend);
  await chardev.close();
  report(`raw-closed:${String(stdin.isRaw)}`);
}

const frontend: ChardevFrontend = {
  frontendOpen: true,
  receiveCapacity: () => 4096,
  receive(data: Buffer): void {
    report(`recv:${data.toString('hex')}`);
    if (data.includes('x')) process.exit(0);
    if (data.includes('q')) void close();
    else chardev.write(data);
  },
  event(event: ChardevEvent): void {
    report(`event:${event}`);
    if (event === 'closed') void close();
  },
};
chardev.write(Buffer.from('buf\0'));
chardev.attach(frontend);
