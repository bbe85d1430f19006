import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import type { ChardevBackendDefinition } from '../../../src/chardev/backend-definition.js';
import { backendOfKind, CHARDEV_BACKENDS } from '../../../src/chardev/backends.js';
import type { Chardev, ChardevContext } from '../../../src/chardev/chardev.js';
import { NullChardev } from '../../../src/chardev/null.js';
import type { ChardevBackend, ChardevBackendKind } from '../../../src/generated/qapi-types.gen.js';
import { qapiTypeTable } from '../../../src/generated/qapi-type-table.gen.js';

const SCHEMA_KINDS = (qapiTypeTable['ChardevBackendKind'] as { readonly values: readonly ChardevBackendKind[] }).values;

/** One QAPI description of every kind chardevd creates, valid for the constructor (nothing is opened). */
const SAMPLES: { readonly [K in ChardevBackendKind]?: ChardevBackend } = {
  file: { type: 'file', data: { out: 'never-opened' } },
  serial: { type: 'serial', data: { device: '/dev/never-opened' } },
  pipe: { type: 'pipe', data: { device: 'never-opened' } },
  socket: { type: 'socket', data: { addr: { type: 'unix', data: { path: 'never-opened.sock' } } } },
  udp: { type: 'udp', data: { remote: { type: 'inet', data: { host: '127.0.0.1', port: '9' } } } },
  pty: { type: 'pty', data: {} },
  null: { type: 'null', data: {} },
  mux: { type: 'mux', data: { chardev: 'base' } },
  hub: { type: 'hub', data: { chardevs: ['base'] } },
  stdio: { type: 'stdio', data: {} },
  ringbuf: { type: 'ringbuf', data: {} },
  memory: { type: 'memory', data: {} },
};

const context: ChardevContext = { log: () => {}, find: (id) => (id === 'base' ? new NullChardev('base') : undefined) };

function construct(kind: ChardevBackendKind): Chardev {
  const backend = backendOfKind(kind);
  const sample = SAMPLES[kind];
  assert.ok(backend !== undefined && 'create' in backend && sample !== undefined, `${kind} is created`);
  return backend.create('c', sample, context);
}

suite('the backend list', () => {
  test("every kind of the schema has exactly one backend, listed in the schema's order", () => {
    const listed = CHARDEV_BACKENDS.flatMap((backend) => backend.kinds);
    assert.deepEqual(listed, SCHEMA_KINDS);
    for (const kind of SCHEMA_KINDS) assert.equal(backendOfKind(kind)?.kinds.includes(kind), true, kind);
  });

  test('driver names are kinds of their own backend, and aliases name no driver', () => {
    const drivers = CHARDEV_BACKENDS.flatMap((backend: ChardevBackendDefinition) => {
      for (const driver of backend.drivers ?? []) assert.ok(backend.kinds.includes(driver), `${driver} is one of ${backend.kinds.join(', ')}`);
      return backend.drivers ?? backend.kinds;
    });
    const aliases = CHARDEV_BACKENDS.flatMap((backend) => backend.aliases ?? []);
    assert.deepEqual(aliases, ['tty', 'parport']);
    for (const alias of aliases) assert.equal(drivers.includes(alias as ChardevBackendKind), false, alias);
    assert.equal(drivers.includes('console'), false, 'QEMU on Linux has no console driver');
  });

  test('the kinds chardevd creates are the ones with a sample here; the others say why not', () => {
    for (const backend of CHARDEV_BACKENDS) {
      for (const kind of backend.kinds) {
        if ('create' in backend) assert.ok(SAMPLES[kind] !== undefined, `${kind} is created`);
        else assert.ok(SAMPLES[kind] === undefined && backend.unsupported.length > 0, `${kind} is refused with a reason`);
      }
    }
  });
});

suite('what each kind of chardev says of itself', () => {
  const created = Object.keys(SAMPLES) as ChardevBackendKind[];
  const having = (trait: (chardev: Chardev) => boolean): ChardevBackendKind[] => created.filter((kind) => trait(construct(kind)));

  test('lossless sinks, whose output a hub never drops: ringbuf, memory, file and null', () => {
    assert.deepEqual(having((chardev) => chardev.losslessSink).sort(), ['file', 'memory', 'null', 'ringbuf']);
  });

  test('multiplexers, which a hub refuses as members: mux and hub', () => {
    assert.deepEqual(having((chardev) => chardev.multiplexer).sort(), ['hub', 'mux']);
  });

  test('chardev-change refuses mux and hub with their QEMU texts, and nothing else', () => {
    const refusals: { [kind: string]: string } = {};
    for (const kind of created) {
      const refusal = construct(kind).hotswapRefusal;
      if (refusal !== undefined) refusals[kind] = refusal;
    }
    assert.deepEqual(refusals, { mux: 'Mux device hotswap not supported yet', hub: 'For mux or hub device hotswap is not supported yet' });
  });

  test('only the hub closes before the others, letting go of its members first', () => {
    assert.deepEqual(
      having((chardev) => chardev.closesFirst),
      ['hub'],
    );
  });
});
