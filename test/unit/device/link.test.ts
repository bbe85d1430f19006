import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, suite, test } from 'node:test';
import { Chardev } from '../../../src/chardev/chardev.js';
import { ChardevRegistry } from '../../../src/chardev/registry.js';
import type { RingbufChardev } from '../../../src/chardev/ringbuf.js';
import { DeviceRegistry } from '../../../src/device/registry.js';
import { parseDeviceOption } from '../../../src/device/device-option.js';
import { LinkDevice } from '../../../src/device/link.js';
import { waitFor } from '../../support/peer-process.js';

const dir = mkdtempSync(join(tmpdir(), 'chardevd-link-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const WAIT_MS = 10_000;
let socketCount = 0;

function registries(): { chardevs: ChardevRegistry; devices: DeviceRegistry } {
  const chardevs = new ChardevRegistry({ log: () => {} });
  return { chardevs, devices: new DeviceRegistry(chardevs) };
}

async function unixServer(chardevs: ChardevRegistry, id: string): Promise<{ chardev: Chardev; path: string }> {
  const path = join(dir, `${socketCount++}.sock`);
  const chardev = await chardevs.add(id, { type: 'socket', data: { addr: { type: 'unix', data: { path } }, server: true, wait: false } });
  return { chardev, path };
}

async function connected(path: string, chardev: Chardev): Promise<net.Socket> {
  const socket = net.connect(path);
  socket.on('error', () => {});
  await until(() => chardev.isOpen, `${chardev.id} to accept its client`);
  return socket;
}

const until = (done: () => boolean, what: string): Promise<void> => waitFor(done, what, WAIT_MS, 5);

const link = (text: string) => parseDeviceOption(text);

suite('link device: two chardevs back to back', () => {
  test('bytes a client sends to one socket chardev come out of the other, both ways', async () => {
    const { chardevs, devices } = registries();
    const a = await unixServer(chardevs, 'a');
    const b = await unixServer(chardevs, 'b');
    const device = devices.add(link('link,id=l0,chardev=a,peer=b')) as LinkDevice;
    const clientA = await connected(a.path, a.chardev);
    const clientB = await connected(b.path, b.chardev);
    let atB = '';
    let atA = '';
    clientB.on('data', (data: Buffer) => (atB += data.toString()));
    clientA.on('data', (data: Buffer) => (atA += data.toString()));
    clientA.write('from a\n');
    clientB.write('from b\n');
    await until(() => atB === 'from a\n' && atA === 'from b\n', 'the bytes to cross the link');
    assert.deepEqual(device.forwarded, { chardevToPeer: 7, peerToChardev: 7 });
    clientA.destroy();
    clientB.destroy();
    await chardevs.closeAll();
  });

  test('a guest socket linked to a ringbuf keeps its output for ringbuf-read', async () => {
    const { chardevs, devices } = registries();
    const guest = await unixServer(chardevs, 'guest');
    const ring = (await chardevs.add('console', { type: 'ringbuf', data: { size: 1024 } })) as RingbufChardev;
    devices.add(link('link,chardev=guest,peer=console'));
    const client = await connected(guest.path, guest.chardev);
    client.write('login: ');
    await until(() => ring.ring.unread === 7, 'the ringbuf to hold the output');
    assert.equal(Buffer.from(ring.ring.read(7)).toString(), 'login: ');
    client.destroy();
    await chardevs.closeAll();
  });

  test('a side that stops reading pauses the sender instead of queueing, and nothing is lost when it reads again', async () => {
    const { chardevs, devices } = registries();
    const a = await unixServer(chardevs, 'a');
    const b = await unixServer(chardevs, 'b');
    const device = devices.add(link('link,id=l0,chardev=a,peer=b')) as LinkDevice;
    const sender = await connected(a.path, a.chardev);
    const reader = await connected(b.path, b.chardev);
    reader.pause();
    const payload = randomBytes(32 << 20);
    let written = false;
    sender.write(payload, () => (written = true));
    // Wait until the link stops moving bytes: the reader's socket and the link's queue are full.
    let last = -1;
    let steadySince = Date.now();
    await until(() => {
      const now = device.forwarded.chardevToPeer;
      if (now !== last) [last, steadySince] = [now, Date.now()];
      return now > 0 && Date.now() - steadySince > 200;
    }, 'the link to stop while its peer does not read');
    assert.ok(
      device.forwarded.chardevToPeer < payload.length / 2,
      `forwarded ${device.forwarded.chardevToPeer} of ${payload.length} bytes to a reader that reads nothing`,
    );
    assert.equal(written, false, 'the sender was paused, so its write cannot have completed');
    const hash = createHash('sha256');
    let received = 0;
    reader.on('data', (data: Buffer) => {
      hash.update(data);
      received += data.length;
    });
    reader.resume();
    await until(() => received === payload.length, 'every byte to arrive once the reader reads');
    assert.equal(hash.digest('hex'), createHash('sha256').update(payload).digest('hex'));
    assert.equal(written, true);
    sender.destroy();
    reader.destroy();
    await chardevs.closeAll();
  });

  test('linked chardevs are in use: a second link and chardev-remove are refused; device_del frees them', async () => {
    const { chardevs, devices } = registries();
    await chardevs.add('a', { type: 'ringbuf', data: {} });
    await chardevs.add('b', { type: 'ringbuf', data: {} });
    await chardevs.add('c', { type: 'null', data: {} });
    devices.add(link('link,id=l0,chardev=a,peer=b'));
    assert.throws(() => devices.add(link('link,id=l1,chardev=c,peer=a')), { message: "Property 'link.peer' can't take value 'a': Device 'a' is in use" });
    assert.throws(() => devices.add(link('link,id=l0,chardev=c,peer=c')), { message: "Duplicate ID 'l0' for device" });
    assert.throws(() => devices.add(link('link,id=l1,chardev=c,peer=c')), { message: "Property 'link.peer' can't take value 'c': Device 'c' is in use" });
    await assert.rejects(chardevs.remove('a'), { message: "Chardev 'a' is busy" });
    assert.equal(devices.remove('l0').path, '/machine/peripheral/l0');
    assert.throws(() => devices.remove('l0'), { message: "Device 'l0' not found" });
    await chardevs.remove('a');
    devices.add(link('link,id=l0,chardev=b,peer=c'));
    await chardevs.closeAll();
  });

  test('device options are checked as QEMU checks -device: id, driver, bus, unknown and missing properties', () => {
    const { devices } = registries();
    assert.throws(() => parseDeviceOption('link,id=0bad'), { message: /^Parameter 'id' expects an identifier\n/ });
    assert.throws(() => devices.add(link('id=l0,chardev=a')), { message: "Parameter 'driver' is missing" });
    assert.throws(() => devices.add(link('serial,id=l0')), { message: "'serial' is not a valid device model name" });
    assert.throws(() => devices.add(link('link,bus=pci.0')), { message: "Bus 'pci.0' not found" });
    assert.throws(() => devices.add(link('link,speed=9600')), { message: "Property 'link.speed' not found" });
    assert.throws(() => devices.add(link('link,chardev=nope')), { message: "Property 'link.chardev' can't find value 'nope'" });
    assert.throws(() => devices.add(link('link')), { message: "Parameter 'chardev' is missing" });
    assert.deepEqual(devices.list(), []);
  });

  test('chardev-change under a link keeps the link: output goes to the new backend', async () => {
    const { chardevs, devices } = registries();
    const guest = await unixServer(chardevs, 'guest');
    await chardevs.add('out', { type: 'ringbuf', data: { size: 64 } });
    const device = devices.add(link('link,id=l0,chardev=guest,peer=out')) as LinkDevice;
    const replacement = (await chardevs.change('out', { type: 'ringbuf', data: { size: 128 } })) as RingbufChardev;
    assert.equal(device.peer, replacement);
    const client = await connected(guest.path, guest.chardev);
    client.write('after the change');
    await until(() => replacement.ring.unread === 16, 'the new ringbuf to receive the output');
    client.destroy();
    await chardevs.closeAll();
  });

  test('a tap gets a copy of what its side receives, not of the other way, and hears when the link lets go', async () => {
    const { chardevs } = registries();
    const guest = await unixServer(chardevs, 'guest');
    const peer = new FailingSink('peer');
    const device = new LinkDevice('l0', '/machine/peripheral/l0', guest.chardev, peer);
    let copied = '';
    let unlinked = 0;
    device.setTap(guest.chardev, { copy: (data) => (copied += data.toString()), unlinked: () => unlinked++ });
    const client = await connected(guest.path, guest.chardev);
    client.write('watched');
    await until(() => copied === 'watched', 'the copy at the tap');
    assert.equal(peer.written, 'watched');
    device.setTap(guest.chardev, undefined);
    client.write('-unwatched');
    await until(() => peer.written === 'watched-unwatched', 'the bytes at the peer');
    assert.equal(copied, 'watched');
    device.setTap(peer, { copy: (data) => (copied += data.toString()), unlinked: () => unlinked++ });
    device.detach();
    assert.equal(unlinked, 1);
    client.destroy();
    await chardevs.closeAll();
  });

  test('bytes the peer drops because it cannot write them are counted as lost, not as moved', async () => {
    const { chardevs } = registries();
    const guest = await unixServer(chardevs, 'guest');
    const sink = new FailingSink('sink');
    const device = new LinkDevice('l0', '/machine/peripheral/l0', guest.chardev, sink);
    const client = await connected(guest.path, guest.chardev);
    client.write('kept');
    await until(() => device.received === 4, 'the first bytes');
    sink.failing = true;
    client.write('dropped');
    await until(() => device.received === 11, 'the bytes the sink drops');
    assert.deepEqual(device.forwarded, { chardevToPeer: 4, peerToChardev: 0 });
    assert.deepEqual(device.lost, { chardevToPeer: 7, peerToChardev: 0 });
    assert.equal(sink.written, 'kept');
    device.detach();
    client.destroy();
    await chardevs.closeAll();
  });
});

/** A sink whose writes fail while `failing`: it drops the bytes and counts them, as a file that cannot write does. */
class FailingSink extends Chardev {
  readonly kind = 'null';
  failing = false;
  written = '';
  #lost = 0;

  get filename(): string {
    return 'failing';
  }

  async open(): Promise<void> {}

  protected writeToBackend(data: Buffer): boolean {
    if (this.failing) this.#lost += data.length;
    else this.written += data.toString();
    return true;
  }

  override get outputLost(): number {
    return this.#lost;
  }

  protected async closeBackend(): Promise<void> {}
}
