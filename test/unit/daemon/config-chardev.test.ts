import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { SUPPORTED_KINDS } from '../../../src/chardev/create.js';
import { ChardevHelpRequest } from '../../../src/chardev/option-error.js';
import { chardevBackendHelp } from '../../../src/chardev/options.js';
import { NO_ADDRESS_HINT } from '../../../src/chardev/socket-options.js';
import { checkChardevOption } from '../../../src/chardev/check-option.js';
import { creationErrorMessage, resolveStartupChardev, type StartupChardev, StartupChardevError } from '../../../src/daemon/config-chardev.js';

/** A command-line item as parseDaemonArgs builds it. */
function cliItem(text: string): StartupChardev {
  const checked = checkChardevOption(text);
  return { form: 'option', origin: `-chardev ${text}`, text, id: checked.id, checkedWarnings: checked.warnings.length };
}

function resolve(item: StartupChardev, warnedAliases = new Set<string>()): { result: ReturnType<typeof resolveStartupChardev>; warnings: string[] } {
  const warnings: string[] = [];
  return { result: resolveStartupChardev(item, warnedAliases, (w) => warnings.push(w)), warnings };
}

suite('resolveStartupChardev (what QEMU does when it creates the chardev)', () => {
  test("gives chardev-add's arguments as QEMU's -chardev parser builds them, without repeating the command-line warnings", () => {
    const { result, warnings } = resolve(cliItem('socket,id=s0,path=/run/s.sock,server,nowait'));
    assert.equal(result.id, 's0');
    assert.deepEqual(result.backend, {
      type: 'socket',
      data: { logappend: false, addr: { type: 'unix', data: { path: '/run/s.sock', abstract: false, tight: true } }, server: true, wait: false },
    });
    assert.deepEqual(warnings, []);
  });

  test('passes an object item through unchanged', () => {
    const backend = { type: 'ringbuf', data: { size: 1024 } } as const;
    assert.deepEqual(resolve({ form: 'object', origin: 'c.yaml:3: chardevs[0]', id: 'r', backend }).result, { id: 'r', backend, mux: false });
  });

  test('warns about a deprecated backend alias once per process, prefixed with the origin', () => {
    const seen = new Set<string>();
    assert.deepEqual(resolve(cliItem('tty,id=t,path=/dev/null'), seen).warnings, [
      "-chardev tty,id=t,path=/dev/null: warning: The alias 'tty' is deprecated, use 'serial' instead",
    ]);
    assert.deepEqual(resolve(cliItem('tty,id=u,path=/dev/null'), seen).warnings, []);
  });

  test("refuses with the origin and QEMU's text", () => {
    const fails = (text: string, message: string): void => {
      assert.throws(() => resolve(cliItem(text)), new StartupChardevError(`-chardev ${text}: ${message}`));
    };
    fails('null', 'chardev: no id specified');
    fails('id=x', 'chardev: "x" missing backend');
    fails('bogus,id=b', "'bogus' is not a valid char driver name");
    fails('file,id=f', 'chardev: file: no filename given');
    fails('udp,id=u', 'chardev: udp: remote port not specified');
  });

  test('prints the alias warning before the error it leads to, as QEMU does', () => {
    const warnings: string[] = [];
    assert.throws(
      () => resolveStartupChardev(cliItem('tty,id=t'), new Set(), (w) => warnings.push(w)),
      new StartupChardevError('-chardev tty,id=t: chardev: serial/tty: no device path given'),
    );
    assert.deepEqual(warnings, ["-chardev tty,id=t: warning: The alias 'tty' is deprecated, use 'serial' instead"]);
  });

  test('lists the backends chardevd creates for -chardev help (exit status 0)', () => {
    assert.throws(
      () => resolve(cliItem('help')),
      (error: unknown) => error instanceof ChardevHelpRequest && error.exitStatus === 0 && error.message === chardevBackendHelp(SUPPORTED_KINDS),
    );
    assert.ok(chardevBackendHelp(SUPPORTED_KINDS).startsWith('Available chardev backend types: \n  '));
  });

  test('passes mux=on on, for the backend to become ID-base under a mux ID', () => {
    const item: StartupChardev = { form: 'option', origin: '-chardev stdio,id=s,mux=on', text: 'stdio,id=s,mux=on', id: 's', checkedWarnings: 0 };
    assert.deepEqual(resolve(item).result, { id: 's', backend: { type: 'stdio', data: { logappend: false, signal: true } }, mux: true });
  });
});

suite('creationErrorMessage', () => {
  test("drops chardev-add's prefix for a -chardev string, as QEMU prints the backend's message alone", () => {
    assert.equal(
      creationErrorMessage(cliItem('ringbuf,id=x,size=3'), 'x', "Failed to add chardev 'x': size of ringbuf chardev must be power of two"),
      '-chardev ringbuf,id=x,size=3: size of ringbuf chardev must be power of two',
    );
  });

  test("keeps chardev-add's wording for an object item", () => {
    const item: StartupChardev = { form: 'object', origin: "c.yaml:4: chardevs[1] (id 'x')", id: 'x', backend: { type: 'ringbuf', data: { size: 3 } } };
    assert.equal(
      creationErrorMessage(item, 'x', "Failed to add chardev 'x': size of ringbuf chardev must be power of two"),
      "c.yaml:4: chardevs[1] (id 'x'): Failed to add chardev 'x': size of ringbuf chardev must be power of two",
    );
  });

  test('adds a hint to the error of a -chardev socket that gives no address (an empty fd, which QEMU cannot parse)', () => {
    const unparsable = (fd: string): string => `Failed to add chardev 's': Unable to parse FD number ${fd}`;
    assert.equal(creationErrorMessage(cliItem('socket,id=s'), 's', unparsable('')), `-chardev socket,id=s: Unable to parse FD number \n${NO_ADDRESS_HINT}`);
    assert.equal(
      creationErrorMessage(cliItem('socket,id=s,port=5,server=on'), 's', unparsable('')),
      `-chardev socket,id=s,port=5,server=on: Unable to parse FD number \n${NO_ADDRESS_HINT}`,
    );
    assert.equal(creationErrorMessage(cliItem('socket,id=s,fd=abc'), 's', unparsable('abc')), '-chardev socket,id=s,fd=abc: Unable to parse FD number abc');
    // A mux's base is created under ID-base, whose errors carry no prefix.
    assert.equal(
      creationErrorMessage(cliItem('socket,id=s,mux=on'), 's', 'Unable to parse FD number '),
      `-chardev socket,id=s,mux=on: Unable to parse FD number \n${NO_ADDRESS_HINT}`,
    );
    const object: StartupChardev = {
      form: 'object',
      origin: "c.yaml:4: chardevs[0] (id 's')",
      id: 's',
      backend: { type: 'socket', data: { addr: { type: 'fd', data: { str: '' } } } },
    };
    assert.equal(creationErrorMessage(object, 's', unparsable('')), "c.yaml:4: chardevs[0] (id 's'): Failed to add chardev 's': Unable to parse FD number ");
  });

  test("leaves a socket's other errors as they are", () => {
    assert.equal(
      creationErrorMessage(cliItem('socket,id=s,tls-creds=t'), 's', "Failed to add chardev 's': No TLS credentials with id 't'"),
      "-chardev socket,id=s,tls-creds=t: No TLS credentials with id 't'",
    );
  });

  test('leaves a message without the prefix (a duplicate id) as it is', () => {
    assert.equal(creationErrorMessage(cliItem('null,id=a'), 'a', "Chardev with id 'a' already exists"), "-chardev null,id=a: Chardev with id 'a' already exists");
  });
});
