import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { ChardevRegistry } from '../../../../src/chardev/registry.js';
import type { QmpCommands } from '../../../../src/generated/qapi-commands.gen.js';
import { escapeControlCharacters, type HmpCall, HmpCommandError, type HmpQmpCommand, type QmpCall } from '../../../../src/monitor/hmp/commands.js';
import { HmpInterpreter, monitorText } from '../../../../src/monitor/hmp/interpreter.js';
import { CommandTally } from '../../../../src/qmp/command-tally.js';

/** What the QMP stand-in answers: a command's return value, or the error it fails with. */
type Replies = { [K in HmpQmpCommand]?: QmpCommands[K]['returns'] | Error };

/** Runs a line with a QMP stand-in that records the requests and answers from `replies`. */
async function run(line: string, replies: Replies = {}, observer?: CommandTally): Promise<{ output: string; requests: [HmpQmpCommand, unknown][] }> {
  const interpreter = new HmpInterpreter(undefined, observer);
  let output = '';
  const requests: [HmpQmpCommand, unknown][] = [];
  const qmp: QmpCall = async <K extends HmpQmpCommand>(command: K, args: QmpCommands[K]['arguments']) => {
    requests.push([command, args]);
    const reply: unknown = replies[command];
    if (reply instanceof Error) throw reply;
    // Where no reply is given the command's value goes unread ({} of chardev-remove, quit, ...).
    return reply ?? {};
  };
  const call: HmpCall = {
    print: (text) => {
      output += text;
    },
    qmp,
    chardevs: new ChardevRegistry({ log: () => {} }),
    monitor: undefined,
    monitorFds: undefined,
    help: (name) =>
      interpreter.help(name, (text) => {
        output += text;
      }),
    warnedAliases: interpreter.warnedAliases,
  };
  await interpreter.execute(line, call);
  return { output, requests };
}

suite('HmpInterpreter', () => {
  test('tells its observer each line run: the command (info subcommands with info), ok, error or bad-arguments', async () => {
    const tally = new CommandTally();
    await run('info version', { 'query-version': { qemu: { major: 0, minor: 1, micro: 0 }, package: '' } }, tally);
    await run('chardev-remove x', { 'chardev-remove': new HmpCommandError("Chardev 'x' not found") }, tally);
    await run('ringbuf_read', {}, tally);
    await run('no-such-command', {}, tally);
    await run('', {}, tally);
    assert.deepEqual(
      [...tally.entries()],
      [
        { command: 'info version', outcome: 'ok', count: 1 },
        { command: 'chardev-remove', outcome: 'error', count: 1 },
        { command: 'ringbuf_read', outcome: 'bad-arguments', count: 1 },
        { command: '', outcome: 'error', count: 1 },
      ],
    );
  });

  test("turns each command into the QMP command QEMU's hmp_* function calls", async () => {
    assert.deepEqual((await run('chardev-remove c0')).requests, [['chardev-remove', { id: 'c0' }]]);
    assert.deepEqual((await run('chardev-send-break c0')).requests, [['chardev-send-break', { id: 'c0' }]]);
    assert.deepEqual((await run('ringbuf_write r0 "a b"')).requests, [['ringbuf-write', { device: 'r0', data: 'a b' }]]);
    assert.deepEqual((await run('chardev-add ringbuf,id=r1,size=8')).requests, [
      ['chardev-add', { id: 'r1', backend: { type: 'ringbuf', data: { size: 8, logappend: false } } }],
    ]);
    assert.deepEqual((await run('quit')).requests, [['quit', undefined]]);
    assert.deepEqual((await run('object_add authz-simple,id=a0,identity=CN=a b')).requests, [
      ['object-add', { 'qom-type': 'authz-simple', id: 'a0', identity: 'CN=a b' }],
    ]);
    assert.deepEqual((await run('object_add {"qom-type": "authz-list", "id": "l0"}')).requests, [['object-add', { 'qom-type': 'authz-list', id: 'l0' }]]);
    assert.deepEqual((await run('object_del a0')).requests, [['object-del', { id: 'a0' }]]);
  });

  test("object_add refuses bad text before any QMP command, a bad id with QEMU's hint line", async () => {
    assert.deepEqual(await run('object_add authz-simple,id=a0'), { output: "Error: Parameter 'identity' is missing\n", requests: [] });
    assert.deepEqual(await run('object_add authz-simple,id=0a,identity=x'), {
      output: "Error: Parameter 'id' expects an identifier\nIdentifiers consist of letters, digits, '-', '.', '_', starting with a letter.\n",
      requests: [],
    });
  });

  test('prints a QMP error after "Error: "', async () => {
    const { output } = await run('chardev-remove c0', { 'chardev-remove': new HmpCommandError("Chardev 'c0' not found") });
    assert.equal(output, "Error: Chardev 'c0' not found\n");
  });

  test('drops QMP\'s "Failed to add chardev" prefix, which QEMU\'s human monitor does not print', async () => {
    const { output } = await run('chardev-add ringbuf,id=r1,size=8', { 'chardev-add': new HmpCommandError("Failed to add chardev 'r1': boom") });
    assert.equal(output, 'Error: boom\n');
  });

  test('formats info chardev and info version as QEMU', async () => {
    const chardev = await run('info chardev', { 'query-chardev': [{ label: 'r0', filename: 'ringbuf', 'frontend-open': false }] });
    assert.equal(chardev.output, 'r0: filename=ringbuf\n');
    const version = await run('info version', { 'query-version': { qemu: { major: 1, minor: 2, micro: 3 }, package: 'chardevd-1.2.3' } });
    assert.equal(version.output, '1.2.3chardevd-1.2.3\n');
  });

  test('prints help lines sorted by name, for info with the prefix', async () => {
    const { output } = await run('help info');
    assert.equal(output, 'info chardev  -- show the character devices\ninfo history  -- show the command line history\ninfo version  -- show the version of QEMU\n');
    assert.equal((await run('info')).output, output, 'info alone is help info');
  });

  test('refuses console outside a monitor connection', async () => {
    assert.match((await run('console r0')).output, /^Error: console needs an interactive monitor connection/);
  });

  test("escapes ringbuf_read's control characters as QEMU", () => {
    assert.equal(escapeControlCharacters('a\\b\r\n\t\x1b\x7f\u00e9\u0000'), 'a\\\\b\\u000D\n\t\\u001B\\u007F\u00e9\\u0000');
  });

  test('sends lines with CR LF ends', () => {
    assert.equal(monitorText('a\nb\n'), 'a\r\nb\r\n');
  });

  test('completes command names, info subcommands, help arguments and chardev ids', () => {
    const interpreter = new HmpInterpreter();
    const ids = () => [
      { id: 'r0', ringbuf: true },
      { id: 's0', ringbuf: false },
    ];
    assert.deepEqual(interpreter.complete('chardev-', ids), { start: 0, candidates: ['chardev-add', 'chardev-change', 'chardev-remove', 'chardev-send-break'] });
    assert.deepEqual(interpreter.complete('q', ids).candidates, ['quit', 'q']);
    assert.deepEqual(interpreter.complete('info v', ids), { start: 5, candidates: ['version'] });
    assert.deepEqual(interpreter.complete('help ring', ids).candidates, ['ringbuf_read', 'ringbuf_write']);
    assert.deepEqual(interpreter.complete('console ', ids).candidates, ['r0', 's0']);
    assert.deepEqual(interpreter.complete('ringbuf_read ', ids).candidates, ['r0']);
    assert.deepEqual(interpreter.complete('ringbuf_read r0 ', ids).candidates, []);
  });
});
