import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { qapiTypeTable } from '../../../src/generated/qapi-type-table.gen.js';
import { InputValidator, QapiInputError } from '../../../src/qapi-runtime/input-visitor.js';
import type { TypeTable } from '../../../src/qapi-runtime/type-table.js';
import { JsonDouble } from '../../../src/qobject/json-double.js';
import type { JsonObject } from '../../../src/qobject/json-value.js';

// Shapes of QEMU's own argument types (qmp_capabilities, human-monitor-command,
// chardev-add with its wrapped backend union), so that the expected messages
// can be, and were, checked against QEMU 7.2.
const table: TypeTable = {
  'q_obj_qmp_capabilities-arg': { kind: 'object', members: [{ name: 'enable', type: 'QMPCapabilityList', optional: true }] },
  QMPCapabilityList: { kind: 'array', element: 'QMPCapability' },
  QMPCapability: { kind: 'enum', values: ['oob'] },
  'q_obj_human-monitor-command-arg': {
    kind: 'object',
    members: [
      { name: 'command-line', type: 'str' },
      { name: 'cpu-index', type: 'int', optional: true },
    ],
  },
  'q_obj_chardev-add-arg': {
    kind: 'object',
    members: [
      { name: 'id', type: 'str' },
      { name: 'backend', type: 'ChardevBackend' },
    ],
  },
  ChardevBackend: {
    kind: 'object',
    members: [{ name: 'type', type: 'ChardevBackendKind' }],
    tag: 'type',
    variants: { udp: 'ChardevUdpWrapper', ringbuf: 'ChardevRingbufWrapper' },
  },
  ChardevBackendKind: { kind: 'enum', values: ['udp', 'ringbuf', 'null'] },
  ChardevUdpWrapper: { kind: 'object', members: [{ name: 'data', type: 'ChardevUdp' }] },
  ChardevUdp: {
    kind: 'object',
    members: [
      { name: 'remote', type: 'SocketAddressLegacy' },
      { name: 'local', type: 'SocketAddressLegacy', optional: true },
    ],
  },
  SocketAddressLegacy: { kind: 'object', members: [{ name: 'type', type: 'str' }] },
  ChardevRingbufWrapper: { kind: 'object', members: [{ name: 'data', type: 'ChardevRingbuf' }] },
  ChardevRingbuf: { kind: 'object', members: [{ name: 'size', type: 'int', optional: true }] },
  Ranges: {
    kind: 'object',
    members: [
      { name: 'u8', type: 'uint8', optional: true },
      { name: 'i16', type: 'int16', optional: true },
      { name: 'u64', type: 'uint64', optional: true },
      { name: 'num', type: 'number', optional: true },
      { name: 'alt', type: 'StrOrInt', optional: true },
      { name: 'list', type: 'RangesList', optional: true },
    ],
  },
  RangesList: { kind: 'array', element: 'Ranges' },
  StrOrInt: { kind: 'alternate', branches: ['str', 'int'] },
};

const validator = new InputValidator(table);

function args(json: string): JsonObject {
  return JSON.parse(json) as JsonObject;
}

function refuses(type: string, value: JsonObject, message: string): void {
  assert.throws(
    () => validator.validateArguments(type, value),
    (error: unknown) => {
      assert.ok(error instanceof QapiInputError);
      assert.equal(error.message, message);
      return true;
    },
  );
}

suite('InputValidator', () => {
  test('accepts absent arguments for a type whose members are all optional', () => {
    assert.deepEqual(validator.validateArguments('q_obj_qmp_capabilities-arg', undefined), {});
  });

  test('returns only schema members, in a fresh object', () => {
    const input = args('{"enable": ["oob"]}');
    const out = validator.validateArguments('q_obj_qmp_capabilities-arg', input);
    assert.deepEqual(out, { enable: ['oob'] });
    assert.notEqual(out, input);
  });

  test('names a list element by index in a type error', () => {
    refuses('q_obj_qmp_capabilities-arg', args('{"enable": [1]}'), "Invalid parameter type for 'enable[0]', expected: string");
  });

  test('names a list element null in an enum error, as QEMU does', () => {
    refuses('q_obj_qmp_capabilities-arg', args('{"enable": ["bogus"]}'), "Parameter 'null' does not accept value 'bogus'");
  });

  test('says an array was expected', () => {
    refuses('q_obj_qmp_capabilities-arg', args('{"enable": "oob"}'), "Invalid parameter type for 'enable', expected: array");
  });

  test('reports a missing member before an unexpected one', () => {
    refuses('q_obj_human-monitor-command-arg', args('{"zz": 1}'), "Parameter 'command-line' is missing");
  });

  test('reports a wrong type before an unexpected member', () => {
    refuses('q_obj_human-monitor-command-arg', args('{"command-line": "x", "cpu-index": "a", "zz": 1}'), "Invalid parameter type for 'cpu-index', expected: integer");
  });

  test('refuses an integral double where an integer is expected', () => {
    refuses('q_obj_human-monitor-command-arg', { 'command-line': 'x', 'cpu-index': new JsonDouble(1) }, "Invalid parameter type for 'cpu-index', expected: integer");
  });

  test('names nested members by their dotted path', () => {
    refuses(
      'q_obj_chardev-add-arg',
      args('{"id": "a", "backend": {"type": "udp", "data": {"remote": {"type": "inet"}, "local": []}}}'),
      "Invalid parameter type for 'backend.data.local', expected: object",
    );
    refuses('q_obj_chardev-add-arg', args('{"id": "a", "backend": {"type": "ringbuf", "data": {"qq": 1}}}'), "Parameter 'backend.data.qq' is unexpected");
  });

  test('requires the wrapped data member of a union branch', () => {
    refuses('q_obj_chardev-add-arg', args('{"id": "a", "backend": {"type": "ringbuf"}}'), "Parameter 'backend.data' is missing");
  });

  test('names only the member in an enum error', () => {
    refuses('q_obj_chardev-add-arg', args('{"id": "a", "backend": {"type": "bogus", "data": {}}}'), "Parameter 'type' does not accept value 'bogus'");
  });

  test('treats an empty union branch as having no members', () => {
    refuses('q_obj_chardev-add-arg', args('{"id": "a", "backend": {"type": "null", "data": {}}}'), "Parameter 'backend.data' is unexpected");
  });

  test('does not take null for an absent optional member', () => {
    refuses('q_obj_qmp_capabilities-arg', args('{"enable": null}'), "Invalid parameter type for 'enable', expected: array");
  });

  test('checks the range of sized integers after reading them', () => {
    refuses('Ranges', args('{"u8": 256}'), "Parameter 'u8' expects uint8");
    refuses('Ranges', args('{"i16": -32769}'), "Parameter 'i16' expects int16");
    assert.deepEqual(validator.validateArguments('Ranges', args('{"u8": 255, "i16": -32768}')), { u8: 255, i16: -32768 });
  });

  test("reads a negative uint64 as its two's complement, as QEMU does for compatibility", () => {
    assert.deepEqual(validator.validateArguments('Ranges', args('{"u64": -1}')), { u64: 2 ** 64 - 1 });
    refuses('Ranges', args('{"u8": -1}'), "Parameter 'u8' expects uint8");
  });

  test('accepts integers and doubles as numbers', () => {
    assert.deepEqual(validator.validateArguments('Ranges', { num: new JsonDouble(2) }), { num: 2 });
    assert.deepEqual(validator.validateArguments('Ranges', args('{"num": 1.5}')), { num: 1.5 });
  });

  test('picks an alternate branch by JSON type and names the alternate when none fits', () => {
    assert.deepEqual(validator.validateArguments('Ranges', args('{"alt": "x"}')), { alt: 'x' });
    assert.deepEqual(validator.validateArguments('Ranges', args('{"alt": 3}')), { alt: 3 });
    refuses('Ranges', args('{"alt": true}'), "Invalid parameter type for 'alt', expected: StrOrInt");
  });

  test('names members of objects inside lists with index and dot', () => {
    refuses('Ranges', args('{"list": [{}, {"u8": "x"}]}'), "Invalid parameter type for 'list[1].u8', expected: integer");
  });
});

suite('linking the type table', () => {
  test('links every object type of the generated table the first time it is needed', () => {
    const generated = new InputValidator(qapiTypeTable);
    const objects = Object.entries(qapiTypeTable).filter(([, spec]) => spec.kind === 'object');
    assert.ok(objects.length > 20);
    for (const [name] of objects) {
      try {
        generated.validateArguments(name, {});
      } catch (error: unknown) {
        // Missing members are the caller's error; a TypeError would be a table that does not link.
        assert.ok(error instanceof QapiInputError, `${name}: ${(error as Error).message}`);
      }
    }
  });

  test('validates a type that refers to itself, naming the member at its depth', () => {
    const recursive = new InputValidator({
      Tree: {
        kind: 'object',
        members: [
          { name: 'children', type: 'TreeList', optional: true },
          { name: 'leaf', type: 'bool', optional: true },
        ],
      },
      TreeList: { kind: 'array', element: 'Tree' },
    });
    assert.deepEqual(recursive.validateArguments('Tree', { children: [{ children: [{ leaf: true }] }] }), { children: [{ children: [{ leaf: true }] }] });
    assert.throws(
      () => recursive.validateArguments('Tree', { children: [{ children: [{ leaf: 1 }] }] }),
      (error: unknown) => error instanceof QapiInputError && error.message === "Invalid parameter type for 'children[0].children[0].leaf', expected: boolean",
    );
  });

  test('a type the table does not hold is an internal error when a command needs it, not before', () => {
    const broken = new InputValidator({ Holder: { kind: 'object', members: [{ name: 'x', type: 'Missing' }] } });
    assert.throws(() => broken.validateArguments('Holder', { x: 1 }), { name: 'TypeError', message: 'unknown QAPI type Missing' });
    assert.throws(() => broken.validateArguments('Absent', {}), { name: 'TypeError', message: 'unknown QAPI type Absent' });
  });
});
