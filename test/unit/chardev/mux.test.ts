import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { Chardev } from '../../../src/chardev/chardev.js';
import { MAX_MUX, MUX_BUFFER_SIZE, MuxChardev } from '../../../src/chardev/mux.js';
import { muxExitIgnoredText, muxHelpText } from '../../../src/chardev/mux-help.js';
import { ChardevRegistry } from '../../../src/chardev/registry.js';
import type { RingbufChardev } from '../../../src/chardev/ringbuf.js';
import { TestFrontend } from '../../support/test-frontend.js';

/**
 * The scenarios of QEMU's tests/unit/test-char.c char_mux_test, and the
 * rest of chardev/char-mux.c's behaviour in 7.2: focus, escape commands,
 * per-frontend buffering, events, limits and the registry's rules.
 */

/** A base whose input and connection state a test drives, as test-char.c calls qemu_chr_be_write and qemu_chr_be_event on the base. */
class ScriptedChardev extends Chardev {
  readonly kind = 'null';
  readonly written: Buffer[] = [];
  full = false;

  get filename(): string {
    return 'scripted';
  }

  async open(): Promise<void> {
    this.setOpen(true);
  }

  push(text: string | Buffer): void {
    this.receive(typeof text === 'string' ? Buffer.from(text, 'latin1') : text);
  }

  connect(open: boolean): void {
    this.setOpen(open);
  }

  /** What the frontends wrote, as Latin-1 text. */
  get output(): string {
    return Buffer.concat(this.written).toString('latin1');
  }

  protected writeToBackend(data: Buffer): boolean {
    this.written.push(Buffer.from(data));
    return !this.full;
  }

  drainNow(): void {
    this.full = false;
    this.drained();
  }

  protected async closeBackend(): Promise<void> {}
}

const context = { log: () => {} };

async function scriptedMux(id = 'mux-label', escapeChar?: number): Promise<{ registry: ChardevRegistry; base: ScriptedChardev; mux: MuxChardev }> {
  const registry = new ChardevRegistry(context);
  const base = new ScriptedChardev(`${id}-base`);
  await base.open();
  // The registry only knows chardevs it created; a scripted base is made its way through the mux's lookup.
  const mux = new MuxChardev(id, base, true, escapeChar);
  await mux.open();
  return { registry, base, mux };
}

function frontends(mux: MuxChardev, count: number): TestFrontend[] {
  const list: TestFrontend[] = [];
  for (let i = 0; i < count; i++) {
    const frontend = new TestFrontend();
    mux.attach(frontend);
    list.push(frontend);
  }
  return list;
}

const last = (frontend: TestFrontend) => frontend.events.at(-1);

suite('MuxChardev', () => {
  test('mux=on creates the backend as ID-base and a mux ID on top, both listed', async () => {
    const registry = new ChardevRegistry(context);
    const mux = await registry.addMuxed('m', { type: 'ringbuf', data: { size: 128 } });
    assert.equal(mux.kind, 'mux');
    assert.equal(mux.filename, 'mux');
    assert.deepEqual(
      registry.list().map((chardev) => [chardev.id, chardev.filename]),
      [
        ['m-base', 'ringbuf'],
        ['m', 'mux'],
      ],
    );
    await registry.closeAll();
  });

  test('a taken ID or ID-base is refused as QEMU words it, and nothing is created', async () => {
    const registry = new ChardevRegistry(context);
    await registry.add('x-base', { type: 'null', data: {} });
    await assert.rejects(registry.addMuxed('x', { type: 'null', data: {} }), { message: "attempt to add duplicate property 'x-base' to object (type 'container')" });
    assert.deepEqual(
      registry.list().map((chardev) => chardev.id),
      ['x-base'],
    );
    await registry.closeAll();
  });

  test('a base that cannot be created fails with its own text, without the QMP prefix', async () => {
    const registry = new ChardevRegistry(context);
    await assert.rejects(registry.addMuxed('m', { type: 'ringbuf', data: { size: 5 } }), { message: 'size of ringbuf chardev must be power of two' });
    assert.equal(registry.list().length, 0);
  });

  test('QMP mux: a missing base and a base in use get QEMU 7.2 texts', async () => {
    const registry = new ChardevRegistry(context);
    await registry.add('b1', { type: 'ringbuf', data: {} });
    await assert.rejects(registry.add('x3', { type: 'mux', data: { chardev: 'nope' } }), { message: "Failed to add chardev 'x3': mux: base chardev nope not found" });
    await registry.add('x1', { type: 'mux', data: { chardev: 'b1' } });
    await assert.rejects(registry.add('x2', { type: 'mux', data: { chardev: 'b1' } }), { message: "Failed to add chardev 'x2': Device 'b1' is in use" });
    // A mux on a mux is allowed, as in QEMU 7.2.
    await registry.add('x4', { type: 'mux', data: { chardev: 'x1' } });
    await registry.closeAll();
  });

  test('a mux is always busy in 7.2, and its base while the mux exists; neither can be swapped', async () => {
    const registry = new ChardevRegistry(context);
    await registry.addMuxed('m', { type: 'ringbuf', data: {} });
    await assert.rejects(registry.remove('m'), { message: "Chardev 'm' is busy" });
    await assert.rejects(registry.remove('m-base'), { message: "Chardev 'm-base' is busy" });
    await assert.rejects(registry.change('m', { type: 'null', data: {} }), { message: 'Mux device hotswap not supported yet' });
    await assert.rejects(registry.change('m-base', { type: 'null', data: {} }), { message: 'Chardev user does not support chardev hotswap' });
    await registry.closeAll();
  });

  test('the second frontend takes the focus and alone receives input (test-char /char/mux)', async () => {
    const { base, mux } = await scriptedMux();
    const [h1, h2] = frontends(mux, 2) as [TestFrontend, TestFrontend];
    assert.deepEqual(h1.events, ['mux-in', 'opened', 'mux-out']);
    assert.deepEqual(h2.events, ['mux-in', 'opened']);
    base.push('hello\0');
    assert.equal(h1.text, '');
    assert.equal(h2.text, 'hello\0');
  });

  test('events of the base reach every frontend; events raised on the mux only the focused one', async () => {
    const { base, mux } = await scriptedMux();
    const [h1, h2] = frontends(mux, 2) as [TestFrontend, TestFrontend];
    base.connect(false);
    assert.equal(last(h1), 'closed');
    assert.equal(last(h2), 'closed');
    mux.sendBreak();
    assert.equal(last(h1), 'closed');
    assert.equal(last(h2), 'break');
    base.sendBreak();
    assert.equal(last(h1), 'break');
  });

  test('C-a b sends a break to the focused frontend; C-a c moves the focus, and input follows it', async () => {
    const { base, mux } = await scriptedMux();
    const [h1, h2] = frontends(mux, 2) as [TestFrontend, TestFrontend];
    base.push('\x01b');
    assert.equal(last(h1), 'mux-out');
    assert.equal(last(h2), 'break');
    base.push('\x01c');
    assert.equal(last(h1), 'mux-in');
    assert.equal(last(h2), 'mux-out');
    mux.sendBreak();
    assert.equal(last(h1), 'break');
    base.push('hello');
    assert.equal(h2.text, '');
    assert.equal(h1.text, 'hello');
    // The escape bytes never reach a frontend.
    base.push('\x01cab\x01cc');
    assert.equal(h2.text, 'ab');
    assert.equal(h1.text, 'helloc');
  });

  test('C-a c wraps around every attached frontend', async () => {
    const { base, mux } = await scriptedMux();
    const all = frontends(mux, 3);
    const order: number[] = [];
    for (let i = 0; i < 4; i++) {
      base.push('\x01c');
      order.push(all.findIndex((frontend) => last(frontend) === 'mux-in'));
    }
    assert.deepEqual(order, [0, 1, 2, 0]);
  });

  test('C-a C-a sends one C-a; any other key after the escape is swallowed; C-a s does nothing', async () => {
    const { base, mux } = await scriptedMux();
    const [h1] = frontends(mux, 1) as [TestFrontend];
    base.push('a\x01\x01b\x01zc\x01sd');
    assert.equal(h1.text, 'a\x01bcd');
    assert.equal(base.output, '');
  });

  test('an escape split across two reads still works', async () => {
    const { base, mux } = await scriptedMux();
    const [h1, h2] = frontends(mux, 2) as [TestFrontend, TestFrontend];
    base.push('x\x01');
    base.push('cy');
    assert.equal(h2.text, 'x');
    assert.equal(h1.text, 'y');
  });

  test("C-a h and C-a ? print QEMU's help into the base", async () => {
    const { base, mux } = await scriptedMux();
    frontends(mux, 1);
    base.push('\x01h');
    const help = [
      '\n\r',
      'C-a h    print this help\n\r',
      'C-a x    exit emulator\n\r',
      'C-a s    save disk data back to file (if -snapshot)\n\r',
      'C-a t    toggle console timestamps\n\r',
      'C-a b    send break (magic sysrq)\n\r',
      'C-a c    switch between console and monitor\n\r',
      'C-a C-a  sends C-a\n\r',
    ].join('');
    assert.equal(base.output, help);
    base.push('\x01?');
    assert.equal(base.output, help + help);
  });

  test('the help reaches the ringbuf under a mux=on chardev (test-char prints it and reads the base)', async () => {
    const registry = new ChardevRegistry(context);
    const mux = await registry.addMuxed('mux-label', { type: 'ringbuf', data: { size: 128 } });
    frontends(mux, 1);
    // A ringbuf has no input of its own: hand the mux the keys as its base would.
    mux.receiveFromBase(Buffer.from('\x01?'));
    const ring = (registry.get('mux-label-base') as RingbufChardev).ring;
    // The help is longer than the ring, which keeps its end.
    assert.equal(Buffer.from(ring.read(128)).toString('latin1'), muxHelpText(1).slice(-128));
    await registry.closeAll();
  });

  test('another escape key (-echr) takes over every command, and Ctrl-A becomes plain input', async () => {
    const { base, mux } = await scriptedMux('t', 0x14);
    const [h1, h2] = frontends(mux, 2) as [TestFrontend, TestFrontend];
    // The last frontend attached has the focus, as in QEMU.
    base.push('\x01c\x14c\x14\x14x\x14h');
    assert.equal(h2.text, '\x01c');
    assert.equal(h1.text, '\x14x');
    assert.equal(base.output, muxHelpText(0x14));
    assert.match(base.output, /C-t C-t {2}sends C-t/);
    base.push('\x14x');
    assert.equal(base.output, muxHelpText(0x14) + muxExitIgnoredText(0x14));
  });

  test("muxes the registry creates take the escape key of its context (the daemon's -echr)", async () => {
    const registry = new ChardevRegistry({ ...context, muxEscapeChar: 0x14 });
    assert.equal((await registry.addMuxed('m', { type: 'null', data: {} })).escapeChar, 0x14);
    await registry.add('b', { type: 'null', data: {} });
    assert.equal(((await registry.add('q', { type: 'mux', data: { chardev: 'b' } })) as MuxChardev).escapeChar, 0x14);
    assert.equal((await new ChardevRegistry(context).addMuxed('d', { type: 'null', data: {} })).escapeChar, 1);
    await registry.closeAll();
  });

  test("an escape key outside a byte's range turns the commands off; QEMU prints it as a 32-bit pattern", async () => {
    const { base, mux } = await scriptedMux('n', -1);
    const [h1] = frontends(mux, 1) as [TestFrontend];
    base.push('\x01h\xffh');
    assert.equal(h1.text, '\x01h\xffh');
    assert.equal(base.output, '');
  });

  test('C-a x does not stop anything: it prints why, and the mux goes on', async () => {
    const { base, mux } = await scriptedMux();
    const [h1] = frontends(mux, 1) as [TestFrontend];
    base.push('\x01xok');
    assert.equal(base.output, muxExitIgnoredText(1));
    assert.equal(h1.text, 'ok');
    assert.equal(mux.closed, false);
  });

  test('C-a t prefixes each output line with the time since the first stamped line, from the next line on', async () => {
    const { base, mux } = await scriptedMux();
    frontends(mux, 1);
    base.push('\x01t');
    assert.equal(mux.timestamps, true);
    mux.write(Buffer.from('same line\nnext\nthird'));
    assert.match(base.output, /^same line\n\[00:00:00\.\d{3}\] next\n\[00:00:00\.\d{3}\] third$/);
    base.push('\x01t');
    mux.write(Buffer.from('\nplain\n'));
    assert.match(base.output, /third\nplain\n$/);
  });

  test('input waits in a 32-byte buffer while the focused frontend takes nothing, and escapes still work', async () => {
    const { base, mux } = await scriptedMux();
    const [h1, h2] = frontends(mux, 2) as [TestFrontend, TestFrontend];
    h2.capacity = 0;
    base.push('abc\x01c');
    assert.equal(last(h1), 'mux-in', 'the escape was seen although the focused frontend reads nothing');
    base.push('\x01c');
    assert.equal(h2.text, '');
    h2.capacity = 100;
    mux.acceptInput();
    assert.equal(h2.text, 'abc');
  });

  test('a full buffer stops reading the base: nothing is lost, nothing more is taken', async () => {
    const { base, mux } = await scriptedMux();
    const [h1] = frontends(mux, 1) as [TestFrontend];
    h1.capacity = 0;
    const data = Buffer.alloc(100, 0x61);
    data[50] = 0x01;
    data[51] = 0x63; // C-a c beyond the buffer: not seen until there is room
    base.push(data);
    assert.equal(h1.events.filter((event) => event === 'mux-in').length, 1);
    h1.capacity = 10;
    mux.acceptInput();
    assert.equal(h1.input.length, 10);
    h1.capacity = 1000;
    mux.acceptInput();
    assert.equal(h1.input.length, 98);
    assert.equal(h1.events.filter((event) => event === 'mux-in').length, 2, 'C-a c was processed once reached');
    assert.equal(MUX_BUFFER_SIZE, 32);
  });

  test('a fifth frontend is refused with 7.2 text; one that leaves frees its place', async () => {
    const { mux } = await scriptedMux('m');
    const all = frontends(mux, MAX_MUX);
    assert.equal(mux.acceptsFrontend, false);
    assert.throws(() => mux.attach(new TestFrontend()), { message: "Device 'm' is in use" });
    mux.detach(all[1]!);
    assert.equal(mux.acceptsFrontend, true);
    mux.attach(new TestFrontend());
  });

  test('when the focused frontend leaves, the focus moves on to the next one', async () => {
    const { base, mux } = await scriptedMux();
    const [h1, h2] = frontends(mux, 2) as [TestFrontend, TestFrontend];
    mux.detach(h2);
    assert.equal(last(h1), 'mux-in');
    base.push('hi');
    assert.equal(h1.text, 'hi');
    assert.equal(mux.frontend, h1);
  });

  test('the base reads nothing and shows no frontend open until a frontend attaches to the mux', async () => {
    const { base, mux } = await scriptedMux();
    assert.equal(base.frontend?.frontendOpen, false);
    base.push('early');
    const [h1] = frontends(mux, 1) as [TestFrontend];
    assert.equal(base.frontend?.frontendOpen, true);
    assert.equal(h1.text, 'early');
  });

  test('frontend output goes to the base; a full base drains to every frontend', async () => {
    const { base, mux } = await scriptedMux();
    const [h1, h2] = frontends(mux, 2) as [TestFrontend, TestFrontend];
    base.full = true;
    assert.equal(mux.write(Buffer.from('one')), false);
    assert.equal(base.output, 'one');
    base.drainNow();
    assert.equal(h1.drains, 1);
    assert.equal(h2.drains, 1);
  });

  test('while startup holds muxes back, frontends get opened only once all are attached', async () => {
    const registry = new ChardevRegistry(context);
    registry.suspendMuxOpen();
    const mux = await registry.addMuxed('m', { type: 'ringbuf', data: {} });
    const [h1, h2] = frontends(mux, 2) as [TestFrontend, TestFrontend];
    assert.deepEqual(h1.events, ['mux-in', 'mux-out']);
    assert.deepEqual(h2.events, ['mux-in']);
    registry.resumeMuxOpen();
    assert.deepEqual(h1.events, ['mux-in', 'mux-out', 'opened']);
    assert.deepEqual(h2.events, ['mux-in', 'opened']);
    const h3 = frontends(mux, 1)[0]!;
    assert.deepEqual(h3.events, ['mux-in', 'opened']);
    await registry.closeAll();
  });
});
