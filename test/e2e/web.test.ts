import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, suite, test } from 'node:test';
import WebSocket from 'ws';
import { waitFor } from '../support/peer-process.js';
import { Connection } from '../support/qmp-transcript.js';
import { MonitorClient } from '../support/monitor-client.js';
import { connectGuest, RawViewer, startWebDaemon, type WebDaemon, WEB_TOKEN } from '../support/web-daemon.js';

/**
 * The web console over plain HTTP and WebSockets, as programs use it:
 * the chardev list, viewers joining a console's hub with its history,
 * writing only with a token, flow control that never paces the guest,
 * /metrics, and refusals of bad input. The page in a browser is
 * web-browser.test.ts.
 */

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, type: String(response.headers['content-type']), body }));
    })
      .on('error', reject)
      .end();
  });
}

/** One sample's value from Prometheus' text format, or undefined. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}{${labels}} `) || (labels === '' && candidate.startsWith(`${name} `)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const fds = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

suite('web console', () => {
  let daemon: WebDaemon;
  let qmp: Connection;
  before(async () => {
    daemon = await startWebDaemon(',queue-size=64K', (dir) => [
      '-chardev',
      'ringbuf,id=lonely,size=4K',
      '-chardev',
      `socket,id=free0,path=${join(dir, 'free0.sock')},server=on,wait=off`,
      '-monitor',
      `unix:${join(dir, 'hmp.sock')},server=on,wait=off`,
    ]);
    qmp = await Connection.open(daemon.server.qmpPath);
    await qmp.execute('qmp_capabilities');
  });
  after(async () => {
    qmp.socket.destroy();
    await daemon.stop();
  });

  test('serves the page, its scripts and the chardev list', async () => {
    const page = await get(`${daemon.base}/`);
    assert.equal(page.status, 200);
    assert.match(page.body, /<script type="module" src="app.js">/);
    for (const file of ['app.js', 'xterm.mjs', 'addon-fit.mjs', 'addon-search.mjs', 'xterm.css', 'style.css']) {
      assert.equal((await get(`${daemon.base}/${file}`)).status, 200, file);
    }
    const list = JSON.parse((await get(`${daemon.base}/api/chardevs`)).body) as { id: string; viewable: boolean; hub?: string }[];
    assert.deepEqual(
      list.map(({ id, viewable, hub }) => [id, viewable, hub]),
      [
        ['console0-log', false, undefined],
        ['console0', true, 'console0'],
        ['guest0', true, 'console0'],
        ['lonely', false, undefined],
        ['free0', true, undefined],
      ],
    );
    assert.equal((await get(`${daemon.base}/nothing`)).status, 404);
  });

  test('a viewer gets the earlier output first, then the live output; with the token its keys reach the guest', async () => {
    const guest = await connectGuest(daemon.guestPath);
    guest.socket.write('before-viewer\r\n');
    await waitFor(async () => (await qmp.execute('ringbuf-read', { device: 'console0-log', size: 65536 }))['return'] !== '', 'the log to fill');
    const viewer = await RawViewer.open(daemon.base, 'guest0', { token: WEB_TOKEN });
    await waitFor(() => viewer.output.bytes.includes('before-viewer'), 'the history');
    assert.deepEqual(viewer.messages[0], { type: 'hello', chardev: 'guest0', hub: 'console0', writable: true });
    guest.socket.write('after-viewer\r\n');
    await waitFor(() => viewer.output.bytes.includes('after-viewer'), 'the live output');
    viewer.socket.send(Buffer.from('typed-in-web\r'));
    await waitFor(() => guest.received.bytes.includes('typed-in-web'), 'the keys at the guest');
    viewer.socket.close();
    guest.socket.destroy();
  });

  test('a viewer without a token is read-only: its keys are refused with a message and never reach the guest', async () => {
    const guest = await connectGuest(daemon.guestPath);
    const viewer = await RawViewer.open(daemon.base, 'console0');
    assert.equal(viewer.messages[0]?.['writable'], false);
    viewer.socket.send(Buffer.from('not-allowed'));
    await waitFor(() => viewer.messages.some((message) => message['type'] === 'error'), 'the refusal');
    assert.match(String(viewer.messages.at(-1)?.['message']), /read-only/);
    assert.equal(guest.received.bytes.includes('not-allowed'), false);
    viewer.socket.close();
    guest.socket.destroy();
  });

  test('web-token-add makes a token that writes; an unknown token is refused; an expiry out of range is an error', async () => {
    const reply = (await qmp.execute('web-token-add', { expiry: 60 }))['return'] as { token: string; expires: number };
    assert.match(reply.token, /^[0-9a-f]{32}$/);
    assert.ok(reply.expires > Date.now() / 1000);
    const guest = await connectGuest(daemon.guestPath);
    const viewer = await RawViewer.open(daemon.base, 'console0', { token: reply.token });
    viewer.socket.send(Buffer.from('minted-token-keys'));
    await waitFor(() => guest.received.bytes.includes('minted-token-keys'), 'the keys at the guest');
    viewer.socket.close();
    guest.socket.destroy();
    await assert.rejects(RawViewer.open(daemon.base, 'console0', { token: 'ffffffffffffffffffffffffffffffff' }), /^Error: 401: Token not valid/);
    assert.deepEqual((await qmp.execute('web-token-add', { expiry: 0 }))['error'], {
      class: 'GenericError',
      desc: "Parameter 'expiry' must be between 1 and 604800 seconds",
    });
  });

  test('a viewer that stops reading loses its oldest output, counted, while the guest and another viewer go at full speed', async () => {
    const guest = await connectGuest(daemon.guestPath);
    const reader = await RawViewer.open(daemon.base, 'console0');
    const stalled = await RawViewer.open(daemon.base, 'console0', { acking: false });
    // 4 MiB in rounds of 256 KiB, each sent once the reading viewer has the one before: the reader keeps up, the stalled
    // viewer (which acknowledges nothing) falls far behind its window and queue, and the guest never waits for it.
    const round = Buffer.alloc(256 << 10, 'x');
    for (let i = 1; i <= 16; i++) {
      guest.socket.write(round);
      await waitFor(() => reader.output.bytes.length >= i * round.length, `round ${i} at the reading viewer`, 30_000, 5);
    }
    const members = (
      ((await qmp.execute('query-chardev'))['return'] as { label: string; hub?: { members: { id: string; dropped: number; queued: number }[] } }[]).find(
        (chardev) => chardev.label === 'console0',
      )?.hub?.members ?? []
    ).filter((member) => member.id.startsWith('web-viewer-'));
    assert.equal(members.length, 2);
    const dropped = members.map((member) => member.dropped).sort((a, b) => a - b);
    assert.equal(dropped[0], 0);
    assert.ok(dropped[1]! > 0, 'the stalled viewer dropped output');
    assert.ok(members.every((member) => member.queued <= 64 << 10));
    // Once it reads again it is told how much it lost, then gets the most recent output.
    stalled.socket.send(JSON.stringify({ type: 'ack', bytes: stalled.output.bytes.length }));
    guest.socket.write('AFTER-STALL');
    await waitFor(() => stalled.output.bytes.includes('AFTER-STALL'), 'the stalled viewer to catch up');
    const told = stalled.messages.find((message) => message['type'] === 'dropped');
    assert.ok(told !== undefined && Number(told['total']) === dropped[1]);
    reader.socket.close();
    stalled.socket.close();
    guest.socket.destroy();
  });

  test('a chardev with no frontend gets a hub made for its viewers, busy while they view it, free again once they left', async () => {
    const viewer = await RawViewer.open(daemon.base, 'free0', { token: WEB_TOKEN });
    assert.deepEqual(viewer.messages[0], { type: 'hello', chardev: 'free0', hub: 'free0', writable: true });
    const peer = await connectGuest(join(daemon.server.dir, 'free0.sock'));
    peer.socket.write('from-the-free-chardev');
    await waitFor(() => viewer.output.bytes.includes('from-the-free-chardev'), 'the output at the viewer');
    viewer.socket.send(Buffer.from('to-the-free-chardev'));
    await waitFor(() => peer.received.bytes.includes('to-the-free-chardev'), 'the keys at the peer');
    const late = await RawViewer.open(daemon.base, 'free0');
    await waitFor(() => late.output.bytes.includes('from-the-free-chardev'), 'the history at a second viewer');
    assert.deepEqual((await qmp.execute('chardev-remove', { id: 'free0' }))['error'], { class: 'GenericError', desc: "Chardev 'free0' is busy" });
    viewer.socket.close();
    late.socket.close();
    peer.socket.destroy();
    await waitFor(async () => (await qmp.execute('chardev-remove', { id: 'free0' }))['return'] !== undefined, 'free0 to be free, and removed');
  });

  test('the viewers of a chardev with no frontend are in its query-chardev entry, /metrics and HUB_MEMBER_DROPPED: one that stops reading loses output, counted, the other none', async () => {
    const path = join(daemon.server.dir, 'free1.sock');
    const added = await qmp.execute('chardev-add', {
      id: 'free1',
      backend: { type: 'socket', data: { addr: { type: 'unix', data: { path } }, server: true, wait: false } },
    });
    assert.deepEqual(added['return'], {});
    type Entry = { label: string; 'frontend-open': boolean; viewers?: { 'queue-size': number; members: { id: string; dropped: number; queued: number }[] } };
    const entry = async (): Promise<Entry | undefined> => ((await qmp.execute('query-chardev'))['return'] as Entry[]).find((chardev) => chardev.label === 'free1');
    assert.equal((await entry())?.viewers, undefined);
    const reader = await RawViewer.open(daemon.base, 'free1', { keep: false });
    const stalled = await RawViewer.open(daemon.base, 'free1', { acking: false, keep: false });
    const peer = await connectGuest(path);
    // 4 MiB in rounds of 256 KiB, each sent once the reading viewer has the one before: the stalled viewer (which
    // acknowledges nothing) falls beyond its window and its queue in the hub made for free1's viewers.
    const round = Buffer.alloc(256 << 10, 'y');
    for (let i = 1; i <= 16; i++) {
      peer.socket.write(round);
      await waitFor(() => reader.received >= i * round.length, `round ${i} at the reading viewer`, 30_000, 5);
    }
    const viewed = await entry();
    assert.equal(viewed?.['frontend-open'], true);
    const members = viewed?.viewers?.members ?? [];
    assert.equal(members.length, 2);
    const [readerInfo, stalledInfo] = members as [(typeof members)[0], (typeof members)[0]];
    assert.equal(readerInfo.dropped, 0);
    assert.ok(stalledInfo.dropped > 0, 'the stalled viewer dropped output');
    assert.ok(stalledInfo.queued <= (viewed?.viewers?.['queue-size'] ?? 0));
    // Everything sent has reached the hub (the reader has it all), so the count no longer moves.
    const metrics = (await get(`${daemon.base}/metrics`)).body;
    assert.equal(sample(metrics, 'chardevd_hub_members', 'hub="free1"'), 2);
    assert.equal(sample(metrics, 'chardevd_hub_member_dropped_bytes_total', `hub="free1",member="${stalledInfo.id}"`), stalledInfo.dropped);
    assert.equal(sample(metrics, 'chardevd_hub_member_dropped_bytes_total', `hub="free1",member="${readerInfo.id}"`), 0);
    await qmp.until(
      (lines) => lines.some((line) => line.includes('"HUB_MEMBER_DROPPED"') && line.includes('"free1"') && line.includes(`"${stalledInfo.id}"`)),
      'HUB_MEMBER_DROPPED for the stalled viewer',
    );
    reader.socket.close();
    stalled.socket.close();
    peer.socket.destroy();
    await waitFor(async () => (await entry())?.viewers === undefined, 'the viewers to leave free1 entry');
    assert.equal(sample((await get(`${daemon.base}/metrics`)).body, 'chardevd_hub_members', 'hub="free1"'), undefined);
    await waitFor(async () => (await qmp.execute('chardev-remove', { id: 'free1' }))['return'] !== undefined, 'free1 to be free, and removed');
  });

  test('a chardev linked to one that is no hub is watched on a tap: read-only, lossy for a viewer that stops reading, never holding the link back, gone with the link', async () => {
    const add = async (id: string): Promise<string> => {
      const path = join(daemon.server.dir, `${id}.sock`);
      const reply = await qmp.execute('chardev-add', { id, backend: { type: 'socket', data: { addr: { type: 'unix', data: { path } }, server: true, wait: false } } });
      assert.deepEqual(reply['return'], {});
      return path;
    };
    const watchedPath = await add('watched0');
    const partnerPath = await add('partner0');
    assert.deepEqual((await qmp.execute('device_add', { driver: 'link', id: 'wl0', chardev: 'watched0', peer: 'partner0' }))['return'], {});
    const source = await connectGuest(watchedPath);
    const partner = await connectGuest(partnerPath);
    const reader = await RawViewer.open(daemon.base, 'watched0', { token: WEB_TOKEN });
    assert.deepEqual(reader.messages[0], { type: 'hello', chardev: 'watched0', hub: 'watched0', writable: false });
    const stalled = await RawViewer.open(daemon.base, 'watched0', { acking: false, keep: false });
    source.socket.write('through-the-link');
    await waitFor(() => partner.received.bytes.includes('through-the-link'), 'the bytes at the link peer');
    await waitFor(() => reader.output.bytes.includes('through-the-link'), 'the copy at the viewer');
    reader.socket.send(Buffer.from('keys-from-a-watcher'));
    await waitFor(() => reader.messages.some((message) => message['type'] === 'error'), 'the refusal of the keys');
    assert.match(String(reader.messages.at(-1)?.['message']), /read-only/);
    // 4 MiB in rounds of 256 KiB, each sent once the peer has the one before: the link goes at the peer's pace, the
    // stalled viewer falls beyond its window and queue and loses output, counted under watched0's viewers.
    const round = Buffer.alloc(256 << 10, 'w');
    const start = partner.received.bytes.length;
    for (let i = 1; i <= 16; i++) {
      source.socket.write(round);
      await waitFor(() => partner.received.bytes.length >= start + i * round.length, `round ${i} at the link peer`, 30_000, 5);
    }
    await waitFor(() => reader.output.bytes.length >= start + 16 * round.length, 'every round at the reading viewer', 30_000, 5);
    type Entry = { label: string; viewers?: { members: { id: string; dropped: number }[] } };
    const entry = async (): Promise<Entry | undefined> => ((await qmp.execute('query-chardev'))['return'] as Entry[]).find((chardev) => chardev.label === 'watched0');
    const dropped = (await entry())?.viewers?.members.map((member) => member.dropped) ?? [];
    assert.equal(dropped.length, 2);
    assert.equal(dropped[0], 0);
    assert.ok(dropped[1]! > 0, 'the stalled viewer dropped output');
    assert.equal(partner.received.bytes.includes('keys-from-a-watcher'), false);
    assert.equal(source.received.bytes.includes('keys-from-a-watcher'), false);
    reader.socket.close();
    stalled.socket.close();
    await waitFor(async () => (await entry())?.viewers === undefined, 'the viewers to leave');
    source.socket.write('after-the-watchers');
    await waitFor(() => partner.received.bytes.includes('after-the-watchers'), 'the link to go on alone');
    // The link going takes the watchers with it; the chardev is then free, and its viewers' hub is its own.
    const watcher = await RawViewer.open(daemon.base, 'watched0');
    const closed = watcher.closed();
    assert.deepEqual((await qmp.execute('device_del', { id: 'wl0' }))['return'], {});
    assert.equal(await closed, 1001);
    await waitFor(async () => (await entry())?.viewers === undefined, 'the watcher to leave');
    const owner = await RawViewer.open(daemon.base, 'watched0', { token: WEB_TOKEN });
    assert.equal(owner.messages[0]?.['writable'], true);
    owner.socket.close();
    source.socket.destroy();
    partner.socket.destroy();
    for (const id of ['watched0', 'partner0']) await waitFor(async () => (await qmp.execute('chardev-remove', { id }))['return'] !== undefined, `${id} to be removed`);
  });

  test('/metrics is Prometheus text whose counters move with traffic, QMP and human monitor commands and connections', async () => {
    const before = await get(`${daemon.base}/metrics`);
    assert.equal(before.status, 200);
    assert.match(before.type, /^text\/plain; version=0\.0\.4/);
    assert.match(before.body, /^# TYPE chardevd_chardev_received_bytes_total counter$/m);
    assert.match(before.body, /^process_cpu_seconds_total /m);
    const guest = await connectGuest(daemon.guestPath);
    guest.socket.write(Buffer.alloc(1000, 'm'));
    await waitFor(
      async () =>
        (sample((await get(`${daemon.base}/metrics`)).body, 'chardevd_chardev_received_bytes_total', 'chardev="guest0"') ?? 0) >=
        (sample(before.body, 'chardevd_chardev_received_bytes_total', 'chardev="guest0"') ?? 0) + 1000,
      'the received bytes to grow',
    );
    await qmp.execute('query-chardev');
    await qmp.execute('no-such-command');
    const after = (await get(`${daemon.base}/metrics`)).body;
    const count = (text: string, labels: string): number => sample(text, 'chardevd_qmp_commands_total', labels) ?? 0;
    assert.ok(count(after, 'command="query-chardev",outcome="ok"') > count(before.body, 'command="query-chardev",outcome="ok"'));
    assert.ok(count(after, 'command="",outcome="CommandNotFound"') >= 1);
    assert.equal(sample(after, 'chardevd_chardev_open', 'chardev="guest0",backend="socket"'), 1);
    assert.equal(sample(after, 'chardevd_qmp_connections', ''), 1);
    assert.ok((sample(after, 'chardevd_hub_members', 'hub="console0"') ?? 0) >= 1);
    guest.socket.destroy();

    const monitor = await MonitorClient.open(join(daemon.server.dir, 'hmp.sock'));
    monitor.send('info version\r');
    await monitor.until(() => monitor.received.split('(chardevd) ').length >= 3, 'the second prompt');
    monitor.send('info nothing-such\r');
    await monitor.until(() => monitor.received.split('(chardevd) ').length >= 4, 'the third prompt');
    const withMonitor = (await get(`${daemon.base}/metrics`)).body;
    assert.equal(sample(withMonitor, 'chardevd_hmp_commands_total', 'command="info version",outcome="ok"'), 1);
    assert.equal(sample(withMonitor, 'chardevd_hmp_commands_total', 'command="",outcome="error"'), 1);
    assert.equal(sample(withMonitor, 'chardevd_hmp_connections', ''), 1);
    assert.equal(sample(withMonitor, 'chardevd_hmp_connections_total', ''), 1);
    monitor.socket.destroy();
  });

  test('refuses clearly: an unknown chardev, one that only stores, another origin or host, a bad path, a wrong method, an oversized frame', async () => {
    await assert.rejects(RawViewer.open(daemon.base, 'nope'), /^Error: 404: Chardev 'nope' not found$/);
    await assert.rejects(RawViewer.open(daemon.base, 'lonely'), /^Error: 409: Chardev 'lonely' cannot be viewed: it only stores what is written to it/);
    await assert.rejects(RawViewer.open(daemon.base, 'console0-log'), /^Error: 409: Chardev 'console0-log' cannot be viewed/);
    await assert.rejects(RawViewer.open(daemon.base, 'console0', { origin: 'http://evil.example' }), /^Error: 403: Origin http:\/\/evil\.example not allowed/);
    assert.equal((await get(`${daemon.base}/`, { host: 'evil.example' })).status, 403);
    assert.equal((await get(`${daemon.base}/../../etc/passwd`)).status, 404);
    const viewer = await RawViewer.open(daemon.base, 'console0', { token: WEB_TOKEN });
    viewer.socket.send(Buffer.alloc(65 << 10));
    assert.equal(await viewer.closed(), 1009);
  });

  test('a viewer that acknowledges output it never reads is disconnected, and the guest goes on', async () => {
    const viewers = async (): Promise<string[]> =>
      (
        ((await qmp.execute('query-chardev'))['return'] as { label: string; hub?: { members: { id: string }[] } }[]).find((chardev) => chardev.label === 'console0')?.hub
          ?.members ?? []
      )
        .map((member) => member.id)
        .filter((id) => id.startsWith('web-viewer-'));
    const before = await viewers();
    const guest = await connectGuest(daemon.guestPath);
    const liar = await RawViewer.open(daemon.base, 'console0', { acking: false, keep: false });
    const [id] = (await viewers()).filter((member) => !before.includes(member));
    assert.ok(id !== undefined);
    const tcp = (liar.socket as unknown as { _socket: Socket })._socket;
    tcp.pause();
    const chunk = Buffer.alloc(1 << 20, 'z');
    // Acknowledging far more than it got: without the bound on what waits unsent, the daemon would keep it all.
    let gone = false;
    for (let mib = 0; mib < 64 && !gone; mib++) {
      liar.socket.send(JSON.stringify({ type: 'ack', bytes: 1 << 30 }));
      if (!guest.socket.write(chunk)) await new Promise((resolve) => guest.socket.once('drain', resolve));
      gone = !(await viewers()).includes(id);
    }
    assert.ok(gone, 'the viewer was disconnected');
    tcp.resume();
    await liar.closed();
    guest.socket.destroy();
  });

  test('a thousand connections opened and dropped leave no descriptor behind, the hub limit refuses the excess, another viewer sees on', async () => {
    const guest = await connectGuest(daemon.guestPath);
    const watcher = await RawViewer.open(daemon.base, 'console0');
    const baseline = fds(daemon.server.pid);
    const hub = ((await qmp.execute('query-chardev'))['return'] as { label: string; hub?: { members: unknown[] } }[]).find((chardev) => chardev.label === 'console0');
    const room = 256 - (hub?.hub?.members.length ?? 0);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 1000 }, async () => {
        const viewer = await RawViewer.open(daemon.base, 'console0');
        return viewer;
      }),
    );
    const opened = outcomes.filter((outcome) => outcome.status === 'fulfilled').map((outcome) => outcome.value);
    const refused = outcomes.filter((outcome) => outcome.status === 'rejected').map((outcome) => String(outcome.reason));
    // The hub takes 256 members: the log, the watcher and the rest.
    assert.equal(opened.length, room);
    assert.ok(
      refused.every((reason) => reason.startsWith("Error: 503: hub: too many uses of chardevs 'console0'")),
      refused[0],
    );
    for (const viewer of opened) viewer.socket.terminate();
    await waitFor(() => fds(daemon.server.pid) <= baseline, 'the descriptors to return to their number before');
    guest.socket.write('still-watching');
    await waitFor(() => watcher.output.bytes.includes('still-watching'), 'the watcher to see on');
    watcher.socket.close();
    guest.socket.destroy();
    assert.equal(WebSocket.OPEN, 1);
  });
});
