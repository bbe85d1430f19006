import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import type { HubChardev } from '../../../src/chardev/hub.js';
import { NullChardev } from '../../../src/chardev/null.js';
import { parseDeviceOption } from '../../../src/device/device-option.js';
import type { MonitorConfig } from '../../../src/daemon/monitor-option.js';
import { ObjectRegistry } from '../../../src/objects/object-registry.js';
import { type ListenerSource, listenerText, runningConfig } from '../../../src/daemon/running-config.js';
import { TrackedChardevRegistry, TrackedDeviceRegistry } from '../../../src/daemon/tracked-registries.js';
import type { ChardevBackend } from '../../../src/generated/qapi-types.gen.js';

const ringbuf: ChardevBackend = { type: 'ringbuf', data: { size: 4096 } };
const nothing: ChardevBackend = { type: 'null', data: {} };

/** Registries that count the changes they report, and the configuration read from them. */
function setup(qmp: readonly ListenerSource[] = [], monitors: readonly MonitorConfig[] = []) {
  const changes = { count: 0 };
  const changed = (): void => {
    changes.count++;
  };
  const chardevs = new TrackedChardevRegistry({ log: () => {} }, changed);
  const devices = new TrackedDeviceRegistry(chardevs, changed);
  const config = () => runningConfig({ chardevs, devices, objects: new ObjectRegistry(), qmp, monitors });
  const ids = () => config().chardevs.map((item) => item.id);
  return { chardevs, devices, changes, config, ids };
}

suite('runningConfig', () => {
  test('lists every chardev with the backend it was created with, in creation order; a removed one is gone', async () => {
    const { chardevs, changes, config } = setup();
    await chardevs.add('r0', ringbuf);
    await chardevs.add('n0', nothing);
    await chardevs.add('n1', nothing);
    await chardevs.remove('n0');
    assert.deepEqual(config().chardevs, [
      { id: 'r0', backend: ringbuf },
      { id: 'n1', backend: nothing },
    ]);
    assert.equal(changes.count, 4);
    await chardevs.closeAll();
  });

  test('a changed chardev has its new backend, also when the change failed after the old one went', async () => {
    const { chardevs, changes, config } = setup();
    await chardevs.add('c', nothing);
    await chardevs.change('c', ringbuf);
    assert.deepEqual(config().chardevs, [{ id: 'c', backend: ringbuf }]);
    // Without a frontend QEMU removes the old chardev before it creates the new one.
    await assert.rejects(chardevs.change('c', { type: 'ringbuf', data: { size: 1000 } }));
    assert.deepEqual(config().chardevs, []);
    assert.ok(changes.count >= 3, `${changes.count} changes reported`);
    await chardevs.closeAll();
  });

  test('mux=on is the base as ID-base and a mux chardev ID on it', async () => {
    const { chardevs, config } = setup();
    await chardevs.addMuxed('con', ringbuf);
    assert.deepEqual(config().chardevs, [
      { id: 'con-base', backend: ringbuf },
      { id: 'con', backend: { type: 'mux', data: { chardev: 'con-base' } } },
    ]);
    await chardevs.closeAll();
  });

  test("a hub lists the members it has now, each before the hub, and not a console's member, which no file creates", async () => {
    const { chardevs, ids, config } = setup();
    await chardevs.add('m0', nothing);
    await chardevs.add('m1', nothing);
    await chardevs.add('h0', { type: 'hub', data: { chardevs: ['m0', 'm1'], backpressure: true } });
    await chardevs.add('late', ringbuf);
    const hub = chardevs.get('h0') as HubChardev;
    hub.addMember('late');
    hub.removeMember('m0');
    const console = new NullChardev('monitor-console');
    hub.join(console);
    assert.deepEqual(ids(), ['m0', 'm1', 'late', 'h0']);
    assert.deepEqual(config().chardevs.find((item) => item.id === 'h0')?.backend, { type: 'hub', data: { chardevs: ['m1', 'late'], backpressure: true } });
    hub.leave(console);
    await chardevs.closeAll();
  });

  test('lists devices as device_add arguments, in the order added', async () => {
    const { chardevs, devices, changes, config } = setup();
    for (const id of ['a', 'b', 'c', 'd']) await chardevs.add(id, nothing);
    changes.count = 0;
    devices.add(parseDeviceOption('link,id=l0,chardev=a,peer=b'));
    devices.add(parseDeviceOption('link,chardev=c,peer=d'));
    devices.remove('l0');
    devices.add(parseDeviceOption('link,id=l1,chardev=a,peer=b'));
    assert.deepEqual(config().devices, [
      { driver: 'link', chardev: 'c', peer: 'd' },
      { driver: 'link', id: 'l1', chardev: 'a', peer: 'b' },
    ]);
    assert.equal(changes.count, 4);
    devices.removeAll();
    await chardevs.closeAll();
  });

  test('lists listeners as given and monitors on chardevs as chardev:ID, QMP ones after the QMP listeners', () => {
    const unix = { address: { type: 'unix', path: 'q.sock' }, wait: false } as const;
    const { config } = setup(
      [{ option: unix, text: 'unix:q.sock,nowait,server' }, { option: { address: { type: 'inet', host: '::', port: 4444 }, wait: true } }],
      [
        { origin: '-mon qmon,mode=control', target: { type: 'chardev', id: 'qmon', mode: 'control', pretty: true } },
        { origin: '-monitor unix:h.sock,server=on', target: { type: 'listener', option: unix, text: 'unix:h.sock,server=on' } },
        { origin: '-mon con', target: { type: 'chardev', id: 'con', mode: 'readline', pretty: false } },
      ],
    );
    assert.deepEqual(config(), {
      objects: [],
      qmp: ['unix:q.sock,nowait,server', 'tcp:[::]:4444,server=on', 'chardev:qmon'],
      hmp: ['unix:h.sock,server=on', 'chardev:con'],
      chardevs: [],
      devices: [],
    });
  });
});

suite('listenerText', () => {
  test('writes a listener given without its text in -qmp syntax, a comma in a path twice', () => {
    assert.equal(listenerText({ address: { type: 'unix', path: 'a,b.sock' }, wait: false }), 'unix:a,,b.sock,server=on,wait=off');
    assert.equal(listenerText({ address: { type: 'inet', host: '127.0.0.1', port: 0 }, wait: true }), 'tcp:127.0.0.1:0,server=on');
    assert.equal(listenerText({ address: { type: 'inet', host: '::1', port: 4444, ipv6Only: true }, wait: false }), 'tcp:[::1]:4444,ipv6=on,server=on,wait=off');
  });
});
