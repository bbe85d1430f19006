import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, suite, test } from 'node:test';
import { ChardevRegistry } from '../../../src/chardev/registry.js';
import { DemuxDevice } from '../../../src/device/demux.js';
import { parseDemuxServiceOption } from '../../../src/device/demux-service-option.js';
import { parseDeviceOption } from '../../../src/device/device-option.js';
import { addDevice, DeviceRegistry } from '../../../src/device/registry.js';

const dir = mkdtempSync(join(tmpdir(), 'chardevd-demux-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function registries(): Promise<{ chardevs: ChardevRegistry; devices: DeviceRegistry }> {
  const chardevs = new ChardevRegistry({ log: () => {} });
  await chardevs.add('c0', { type: 'null', data: {} });
  await chardevs.add('c1', { type: 'null', data: {} });
  return { chardevs, devices: new DeviceRegistry(chardevs) };
}

suite('demux device: -device demux and device_add', () => {
  test('takes its chardev, vsock and max-channels; refuses other properties, a missing or busy chardev and a bad limit in QEMU words', async () => {
    const { devices } = await registries();
    const device = await addDevice(devices, parseDeviceOption('demux,id=dm0,chardev=c0,max-channels=4'));
    assert.ok(device instanceof DemuxDevice);
    assert.equal(device.session.maxChannels, 4);
    await assert.rejects(addDevice(devices, parseDeviceOption('demux,id=dm1,chardev=c0')), {
      message: "Property 'demux.chardev' can't take value 'c0': Device 'c0' is in use",
    });
    await assert.rejects(addDevice(devices, parseDeviceOption('demux,id=dm1,chardev=nope')), { message: "Property 'demux.chardev' can't find value 'nope'" });
    await assert.rejects(addDevice(devices, parseDeviceOption('demux,id=dm1')), { message: "Parameter 'chardev' is missing" });
    await assert.rejects(addDevice(devices, parseDeviceOption('demux,id=dm1,chardev=c1,speed=1')), { message: "Property 'demux.speed' not found" });
    await assert.rejects(addDevice(devices, parseDeviceOption('demux,id=dm1,chardev=c1,max-channels=0')), {
      message: "Property 'demux.max-channels' doesn't take value '0' (1 to 4294967295)",
    });
    assert.equal(devices.remove('dm0'), device);
    assert.equal(devices.list().length, 0);
  });

  test('a vsock socket that cannot be opened fails device_add and leaves no device and a free chardev', async () => {
    const { devices, chardevs } = await registries();
    await assert.rejects(
      addDevice(devices, parseDeviceOption(`demux,id=dm0,chardev=c0,vsock=${join(dir, 'missing', 'v.sock')}`)),
      /^DeviceError: Property 'demux.vsock' can't take value/,
    );
    assert.equal(devices.list().length, 0);
    assert.equal(chardevs.get('c0')?.busy, false);
  });

  test('services: names and ports are unique, exactly one target, listeners open and close with the service', async () => {
    const { devices } = await registries();
    const device = (await addDevice(devices, parseDeviceOption('demux,id=dm0,chardev=c0'))) as DemuxDevice;
    await device.addService(parseDemuxServiceOption(`dm0,name=a,port=7,listen=unix:${join(dir, 'a.sock')}`));
    await assert.rejects(device.addService(parseDemuxServiceOption('dm0,name=a,connect=unix:x')), { message: "Demux device 'dm0' already has a service 'a'" });
    await assert.rejects(device.addService(parseDemuxServiceOption('dm0,name=b,port=7,connect=unix:x')), {
      message: "Demux device 'dm0' already has a service with port 7",
    });
    await assert.rejects(device.addService(parseDemuxServiceOption('dm0,name=b,connect=unix:x,chardev=c1')), {
      message: "Service 'b' needs exactly one of connect, listen and chardev",
    });
    await assert.rejects(device.addService(parseDemuxServiceOption('dm0,name=b,chardev=nope')), { message: "Chardev 'nope' not found" });
    assert.deepEqual(
      device.services().map((s) => s.spec.name),
      ['a'],
    );
    device.removeService('a');
    assert.throws(() => device.removeService('a'), { message: "Demux device 'dm0' has no service 'a'" });
    devices.removeAll();
  });

  test('-demux-service text: the device first or as device=, a port, a target; mistakes in QemuOpts words', () => {
    assert.deepEqual(parseDemuxServiceOption('dm0,name=ssh,port=22,connect=tcp:127.0.0.1:22'), { device: 'dm0', name: 'ssh', port: 22, connect: 'tcp:127.0.0.1:22' });
    assert.deepEqual(parseDemuxServiceOption('device=dm0,name=x,listen=unix:a,,b.sock'), { device: 'dm0', name: 'x', listen: 'unix:a,b.sock' });
    assert.throws(() => parseDemuxServiceOption('name=x'), { message: "Parameter 'device' is missing" });
    assert.throws(() => parseDemuxServiceOption('dm0,name=x,port=99999999999'), { message: "Parameter 'port' expects a number from 0 to 4294967295" });
  });
});
