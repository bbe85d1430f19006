import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { ChardevdError } from '../../../src/base/error.js';
import { toQmpError } from '../../../src/commands/qmp-error-table.js';
import { DeviceError, DeviceNotFoundError } from '../../../src/device/device-error.js';
import type { QmpCommandHandlers } from '../../../src/generated/qapi-commands.gen.js';
import { InputValidator } from '../../../src/qapi-runtime/index.js';
import { QmpDispatcher } from '../../../src/qmp/dispatch.js';
import { QmpError } from '../../../src/qmp/errors.js';

/** An error carrying any code, for codes whose classes live elsewhere. */
class Coded extends ChardevdError {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Every domain code a QMP handler can raise, and the wire class QEMU 7.2 answers that failure with. */
const QEMU_CLASSES: readonly (readonly [code: string, errorClass: string])[] = [
  ['CHARDEV_FAILED', 'GenericError'],
  ['DEVICE_FAILED', 'GenericError'],
  ['DEVICE_NOT_FOUND', 'DeviceNotFound'],
  ['WEB_TOKEN_INVALID', 'GenericError'],
  ['OBJECT_FAILED', 'GenericError'],
  ['OBJECT_PATH_NOT_FOUND', 'DeviceNotFound'],
];

suite('toQmpError', () => {
  test('gives every code the wire class QEMU uses, with the message as desc', () => {
    for (const [code, errorClass] of QEMU_CLASSES) {
      const error = new Coded(code, `text of ${code}`);
      const converted = toQmpError(error);
      assert.ok(converted instanceof QmpError, code);
      assert.deepEqual([converted.errorClass, converted.desc, converted.cause], [errorClass, `text of ${code}`, error], code);
    }
  });

  test("gives device_add's errors GenericError and device_del's not-found DeviceNotFound", () => {
    assert.equal(toQmpError(new DeviceError("Duplicate ID 'l0' for device"))?.errorClass, 'GenericError');
    assert.equal(toQmpError(new DeviceNotFoundError("Device 'l0' not found"))?.errorClass, 'DeviceNotFound');
  });

  test('knows nothing else: not errors of option strings or the monitor, not bugs', () => {
    for (const error of [new Coded('QEMU_OPTS_INVALID', 'x'), new Coded('HMP_COMMAND_FAILED', 'x'), new TypeError('x'), 'x', undefined]) {
      assert.equal(toQmpError(error), undefined);
    }
  });

  test('wired into the dispatcher, an unknown error is answered as GenericError and reported as internal', () => {
    const reported: unknown[] = [];
    const bug = new TypeError("Cannot read properties of undefined (reading 'id')");
    const dispatcher = new QmpDispatcher<null>({
      specs: [{ name: 'crash', boxed: false, allowOob: false, allowPreconfig: false, features: [] }],
      handlers: {
        crash: () => {
          throw bug;
        },
      } as unknown as QmpCommandHandlers<null>,
      validator: new InputValidator({}),
      toQmpError,
      reportInternalError: (command, error) => reported.push(command, error),
    });
    const mode = { oobEnabled: false, isAvailable: () => true };
    assert.deepEqual(dispatcher.dispatch({ execute: 'crash', id: 1 }, mode, null), {
      error: { class: 'GenericError', desc: "Cannot read properties of undefined (reading 'id')" },
      id: 1,
    });
    assert.deepEqual(reported, ['crash', bug]);
  });
});
