import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import type { QmpCommandHandlers } from '../../../src/generated/qapi-commands.gen.js';
import { type CommandSpec, InputValidator } from '../../../src/qapi-runtime/index.js';
import { CommandTally } from '../../../src/qmp/command-tally.js';
import { type DispatchMode, QmpDispatcher } from '../../../src/qmp/dispatch.js';
import { ChardevdError } from '../../../src/base/error.js';
import { DeviceNotFoundError, type QmpError } from '../../../src/qmp/errors.js';
import type { JsonObject, JsonValue } from '../../../src/qobject/json-value.js';

const specs: CommandSpec[] = [
  { name: 'echo', argType: 'q_obj_echo-arg', boxed: false, allowOob: false, allowPreconfig: false, features: [] },
  { name: 'later', boxed: false, allowOob: false, allowPreconfig: false, features: [] },
  { name: 'crash', boxed: false, allowOob: false, allowPreconfig: false, features: [] },
  { name: 'missing-device', boxed: false, allowOob: false, allowPreconfig: false, features: [] },
  { name: 'domain', boxed: false, allowOob: false, allowPreconfig: false, features: [] },
  { name: 'unmapped', boxed: false, allowOob: false, allowPreconfig: false, features: [] },
  { name: 'ping-oob', boxed: false, allowOob: true, allowPreconfig: false, features: [] },
];

class DomainError extends ChardevdError {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function setup(observer?: CommandTally): { dispatcher: QmpDispatcher<null>; calls: unknown[]; internal: string[] } {
  const calls: unknown[] = [];
  const internal: string[] = [];
  const handlers = {
    echo: (args: unknown) => {
      calls.push(args);
      return args;
    },
    later: () => Promise.resolve({ done: true }),
    crash: () => {
      throw new TypeError('boom');
    },
    'missing-device': () => {
      throw new DeviceNotFoundError("Device 'x' not found");
    },
    domain: () => {
      throw new DomainError('MAPPED', 'a domain failure');
    },
    unmapped: () => {
      throw new DomainError('UNMAPPED', 'nobody maps this');
    },
    'ping-oob': () => ({}),
  } as unknown as QmpCommandHandlers<null>;
  const validator = new InputValidator({ 'q_obj_echo-arg': { kind: 'object', members: [{ name: 'text', type: 'str' }] } });
  const toQmpError = (error: unknown): QmpError | undefined =>
    error instanceof DomainError && error.code === 'MAPPED' ? new DeviceNotFoundError(error.message) : undefined;
  const reportInternalError = (command: string): void => {
    internal.push(command);
  };
  const options = { specs, handlers, validator, toQmpError, reportInternalError };
  return { dispatcher: new QmpDispatcher(observer === undefined ? options : { ...options, observer }), calls, internal };
}

const commandMode: DispatchMode = { oobEnabled: false, isAvailable: () => true };
const oobMode: DispatchMode = { oobEnabled: true, isAvailable: () => true };

function run(request: JsonValue, mode = commandMode): JsonObject {
  const response = setup().dispatcher.dispatch(request, mode, null);
  assert.ok(!(response instanceof Promise));
  return response;
}

function desc(response: JsonObject): unknown {
  return (response['error'] as JsonObject | undefined)?.['desc'];
}

// Error texts and which member is named first were observed on QEMU 7.2.
suite('QmpDispatcher', () => {
  test('tells its observer every answer: the command and ok or the error class, no name for a command it lacks', async () => {
    const tally = new CommandTally();
    const { dispatcher } = setup(tally);
    for (const request of [
      { execute: 'echo', arguments: { text: 'a' } },
      { execute: 'echo', arguments: { text: 1 } },
      { execute: 'missing-device' },
      { execute: 'made-up-name' },
      { execute: 'later' },
    ]) {
      await dispatcher.dispatch(request, commandMode, null);
    }
    assert.deepEqual(
      [...tally.entries()],
      [
        { command: 'echo', outcome: 'ok', count: 1 },
        { command: 'echo', outcome: 'GenericError', count: 1 },
        { command: 'missing-device', outcome: 'DeviceNotFound', count: 1 },
        { command: '', outcome: 'CommandNotFound', count: 1 },
        { command: 'later', outcome: 'ok', count: 1 },
      ],
    );
  });

  test('answers non-object input without an id', () => {
    for (const input of [[], 'x', 1, true, null] as JsonValue[]) {
      assert.deepEqual(run(input), { error: { class: 'GenericError', desc: 'QMP input must be a JSON object' } });
    }
  });

  test('echoes any id, null included, on success and on error', () => {
    assert.deepEqual(run({ execute: 'echo', arguments: { text: 'a' }, id: { k: [1] } }), { return: { text: 'a' }, id: { k: [1] } });
    assert.deepEqual(run({ execute: 'nope', id: null })['id'], null);
    assert.deepEqual(run({ id: 5 }), { error: { class: 'GenericError', desc: "QMP input lacks member 'execute'" }, id: 5 });
  });

  test("checks envelope members in QEMU's order and reports the first offence", () => {
    assert.equal(desc(run({ foo: 1, bar: 2, execute: 'x' })), "QMP input member 'bar' is unexpected");
    assert.equal(desc(run({ execute: 1 })), "QMP input member 'execute' must be a string");
    assert.equal(desc(run({ execute: 'echo', arguments: [] })), "QMP input member 'arguments' must be an object");
    assert.equal(desc(run({ execute: 'echo', arguments: null })), "QMP input member 'arguments' must be an object");
  });

  test('treats exec-oob as unexpected unless OOB is enabled', () => {
    assert.equal(desc(run({ execute: 1, 'exec-oob': 'x', arguments: [] })), "QMP input member 'exec-oob' is unexpected");
    assert.equal(desc(run({ 'exec-oob': 'ping-oob', execute: 'ping-oob' }, oobMode)), "QMP input member 'execute' clashes with 'exec-oob'");
  });

  test('runs exec-oob only for commands that allow it', () => {
    assert.deepEqual(run({ 'exec-oob': 'ping-oob', id: 1 }, oobMode), { return: {}, id: 1 });
    assert.equal(desc(run({ 'exec-oob': 'echo', id: 1 }, oobMode)), 'The command echo does not support OOB');
  });

  test('answers CommandNotFound for unknown and unavailable commands', () => {
    assert.deepEqual(run({ execute: 'nonexistent' }), { error: { class: 'CommandNotFound', desc: 'The command nonexistent has not been found' } });
    const echoless: DispatchMode = { oobEnabled: false, isAvailable: (c) => c !== 'echo' };
    assert.deepEqual(run({ execute: 'echo' }, echoless), { error: { class: 'CommandNotFound', desc: 'The command echo has not been found' } });
  });

  test('answers a command not found before negotiation with the negotiation hint, as monitor_qmp_dispatch() does', () => {
    const negotiating: DispatchMode = { oobEnabled: false, isAvailable: (c) => c === 'qmp_capabilities', negotiated: false };
    const hint = { error: { class: 'CommandNotFound', desc: "Expecting capabilities negotiation with 'qmp_capabilities'" } };
    assert.deepEqual(run({ execute: 'echo', arguments: { text: 'a' } }, negotiating), hint);
    assert.deepEqual(run({ execute: 'nonexistent', id: 1 }, negotiating), { ...hint, id: 1 });
    const negotiated: DispatchMode = { ...negotiating, isAvailable: () => true, negotiated: true };
    assert.equal(desc(run({ execute: 'nonexistent' }, negotiated)), 'The command nonexistent has not been found');
  });

  test('validates arguments before the handler runs', () => {
    const { dispatcher, calls } = setup();
    const response = dispatcher.dispatch({ execute: 'echo', arguments: { text: 1 } }, commandMode, null);
    assert.deepEqual(response, { error: { class: 'GenericError', desc: "Invalid parameter type for 'text', expected: string" } });
    assert.deepEqual(calls, []);
  });

  test('refuses arguments to a command that takes none', () => {
    assert.equal(desc(run({ execute: 'later', arguments: { x: 1 } })), "Parameter 'x' is unexpected");
  });

  test('keeps the wire class of a QmpError', () => {
    assert.deepEqual(run({ execute: 'missing-device' }), { error: { class: 'DeviceNotFound', desc: "Device 'x' not found" } });
  });

  test('answers a domain error as the injected converter says, without reporting it', () => {
    const { dispatcher, internal } = setup();
    assert.deepEqual(dispatcher.dispatch({ execute: 'domain' }, commandMode, null), { error: { class: 'DeviceNotFound', desc: 'a domain failure' } });
    assert.deepEqual(internal, []);
  });

  test('answers a domain error the converter does not know as GenericError and reports it', () => {
    const { dispatcher, internal } = setup();
    assert.deepEqual(dispatcher.dispatch({ execute: 'unmapped' }, commandMode, null), { error: { class: 'GenericError', desc: 'nobody maps this' } });
    assert.deepEqual(internal, ['unmapped']);
  });

  test('answers a handler bug as GenericError and reports it', () => {
    const { dispatcher, internal } = setup();
    assert.deepEqual(dispatcher.dispatch({ execute: 'crash' }, commandMode, null), { error: { class: 'GenericError', desc: 'boom' } });
    assert.deepEqual(internal, ['crash']);
  });

  test('resolves asynchronous handlers to a reply with the id', async () => {
    assert.deepEqual(await setup().dispatcher.dispatch({ execute: 'later', id: 'x' }, commandMode, null), { return: { done: true }, id: 'x' });
  });
});
