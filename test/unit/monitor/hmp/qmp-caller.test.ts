import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { ChardevRegistry } from '../../../../src/chardev/registry.js';
import type { QmpContext } from '../../../../src/commands/context.js';
import { qmpHandlers } from '../../../../src/commands/handlers.js';
import { toQmpError } from '../../../../src/commands/qmp-error-table.js';
import { qmpCommandSpecs } from '../../../../src/generated/qapi-commands.gen.js';
import { qapiTypeTable } from '../../../../src/generated/qapi-type-table.gen.js';
import { HmpCommandError } from '../../../../src/monitor/hmp/commands.js';
import { type HmpQmpHandlers, QmpCaller } from '../../../../src/monitor/hmp/qmp-caller.js';
import { InputValidator } from '../../../../src/qapi-runtime/index.js';
import { QmpDispatcher } from '../../../../src/qmp/dispatch.js';

/** The real handlers (or `overrides`) against a fresh registry, run as a monitor connection runs them: without a QMP session. */
function setup(overrides: Partial<HmpQmpHandlers> = {}) {
  const chardevs = new ChardevRegistry({ log: () => {} });
  const reported: [string, unknown][] = [];
  const handlers: HmpQmpHandlers = {
    ...qmpHandlers,
    ...overrides,
  };
  const validator = new InputValidator(qapiTypeTable);
  const dispatcher = new QmpDispatcher<QmpContext>({
    specs: qmpCommandSpecs,
    handlers: qmpHandlers,
    validator,
    toQmpError,
    reportInternalError: (command, error) => reported.push([command, error]),
  });
  const caller = new QmpCaller(handlers, validator, (command, error) => dispatcher.errorFor(command, error));
  // The handlers run here read only the registry (and the session, to find it missing).
  const context = { session: undefined, daemon: { chardevs } } as unknown as QmpContext;
  return { chardevs, reported, qmp: caller.callerFor(context) };
}

const failure = (message: string): HmpCommandError => new HmpCommandError(message);

suite('QmpCaller', () => {
  test('runs the handler with the checked arguments and resolves with its value', async () => {
    const { chardevs, qmp } = setup();
    assert.deepEqual(await qmp('chardev-add', { id: 'r0', backend: { type: 'ringbuf', data: { size: 8 } } }), {});
    assert.deepEqual(await qmp('query-chardev', undefined), [{ label: 'r0', filename: 'ringbuf', 'frontend-open': false }]);
    await chardevs.closeAll();
  });

  test("refuses what the schema refuses with the input visitor's text, before the handler runs", async () => {
    const { chardevs, qmp } = setup();
    // The option parser lets a logsize beyond 2^53 through; QMP input checking does not.
    await assert.rejects(
      qmp('chardev-add', { id: 'r0', backend: { type: 'ringbuf', data: { logsize: 2 ** 60 } } }),
      failure("Invalid parameter type for 'backend.data.logsize', expected: integer"),
    );
    await assert.rejects(qmp('chardev-add', { id: 'r0', backend: { type: 'ringbuf', data: { logbackups: 2 ** 33 } } }), failure("Parameter 'logbackups' expects uint32"));
    assert.equal(chardevs.get('r0'), undefined);
  });

  test("fails with a QMP error's desc, code HMP_COMMAND_FAILED", async () => {
    const { qmp } = setup();
    const error = await qmp('chardev-remove', { id: 'nope' }).catch((e: unknown) => e);
    assert.deepEqual(error, failure("Chardev 'nope' not found"));
    assert.equal(error.code, 'HMP_COMMAND_FAILED');
  });

  test('a command that acts on its QMP session fails without one', async () => {
    const { qmp } = setup();
    await assert.rejects(qmp('query-commands', undefined), failure('this command needs a QMP connection; the human monitor has none'));
  });

  test("reports a handler's bug as the dispatcher does, and fails with its message", async () => {
    const bug = new TypeError('boom');
    const { qmp, reported } = setup({
      'query-version'() {
        throw bug;
      },
    });
    await assert.rejects(qmp('query-version', undefined), failure('boom'));
    assert.deepEqual(reported, [['query-version', bug]]);
  });
});
