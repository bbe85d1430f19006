import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, suite, test } from 'node:test';
import type { Chardev } from '../../../src/chardev/chardev.js';
import type { HubChardev } from '../../../src/chardev/hub.js';
import { ChardevRegistry } from '../../../src/chardev/registry.js';
import { parseDeviceOption } from '../../../src/device/device-option.js';
import { DeviceRegistry } from '../../../src/device/registry.js';
import { chardevList } from '../../../src/web/chardev-list.js';
import { viewTarget } from '../../../src/web/console-target.js';

const none = (): HubChardev | undefined => undefined;

suite('viewTarget and chardevList', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chardevd-view-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a hub, a chardev linked to a hub, a free source, a sink, a chardev linked to no hub and one held otherwise', async () => {
    const chardevs = new ChardevRegistry({ log: () => {} });
    const devices = new DeviceRegistry(chardevs);
    const socket = (id: string): Promise<Chardev> =>
      chardevs.add(id, { type: 'socket', data: { addr: { type: 'unix', data: { path: join(dir, `${id}.sock`) } }, server: true, wait: false } });
    await chardevs.add('log0', { type: 'ringbuf', data: { size: 4096 } });
    const member = await socket('member0');
    const hub = await chardevs.add('console0', { type: 'hub', data: { chardevs: ['log0', 'member0'] } });
    const guest = await socket('guest0');
    const free = await socket('free0');
    const held = await socket('held0');
    await chardevs.add('log1', { type: 'ringbuf', data: { size: 4096 } });
    devices.add(parseDeviceOption('link,id=l0,chardev=guest0,peer=console0'));
    devices.add(parseDeviceOption('link,id=l1,chardev=held0,peer=log1'));
    const links = devices.links();

    assert.deepEqual(viewTarget(hub, links, none), { hub });
    assert.deepEqual(viewTarget(guest, links, none), { hub });
    assert.deepEqual(viewTarget(free, links, none), { madeFor: free });
    assert.deepEqual(
      viewTarget(free, links, () => hub as HubChardev),
      { hub },
    );
    assert.deepEqual(viewTarget(chardevs.get('log1')!, links, none), {
      refusal: "Chardev 'log1' cannot be viewed: it only stores what is written to it (docs/web.md)",
    });
    assert.deepEqual(viewTarget(held, links, none), { madeFor: held, tapping: links[1] });
    assert.deepEqual(viewTarget(member, links, none), {
      refusal: "Chardev 'member0' cannot be viewed: it is in use, and not by a link (docs/web.md)",
    });

    assert.deepEqual(
      chardevList(chardevs.list(), links, none).map(({ id, viewable, hub: joins, members }) => [id, viewable, joins, members?.map((member) => member.id)]),
      [
        ['log0', false, undefined, undefined],
        ['member0', false, undefined, undefined],
        ['console0', true, 'console0', ['log0', 'member0']],
        ['guest0', true, 'console0', undefined],
        ['free0', true, undefined, undefined],
        ['held0', true, undefined, undefined],
        ['log1', false, undefined, undefined],
      ],
    );
    devices.removeAll();
    await chardevs.closeAll();
  });
});
