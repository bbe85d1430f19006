import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, suite, test } from 'node:test';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { waitFor } from '../support/peer-process.js';
import { Connection } from '../support/qmp-transcript.js';
import { connectGuest, startWebDaemon, type WebDaemon, WEB_TOKEN } from '../support/web-daemon.js';

/**
 * The web console's page in Debian's Chromium, driven by playwright-core:
 * the chardev list, terminals showing a guest's output in several tabs,
 * typing with and without a token, a late tab's history, a screenshot,
 * and a tab that stops reading, which never slows the guest or the other tabs.
 */

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium)`;
const WAIT_MS = 15_000;

/** The text xterm.js shows in the terminal of `chardev` on `page` (its DOM renderer's rows). */
async function screenText(page: Page, chardev: string): Promise<string> {
  return page.locator(`[data-console="${chardev}"] .xterm-rows`).innerText();
}

async function untilScreenShows(page: Page, chardev: string, text: string): Promise<void> {
  await waitFor(async () => (await screenText(page, chardev)).includes(text), `"${text}" on the screen of ${chardev}`, WAIT_MS);
}

suite('web console in a browser', { skip }, () => {
  let daemon: WebDaemon;
  let context: BrowserContext;
  let profile: string;
  before(async () => {
    daemon = await startWebDaemon(',queue-size=64K');
    profile = mkdtempSync(join(tmpdir(), 'chardevd-chromium-'));
    // A fresh profile (--user-data-dir) of its own, which playwright passes as the persistent context's directory.
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1000, height: 700 },
      // Chromium otherwise looks things up on the network, which is refused here.
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  after(async () => {
    await context?.close();
    await daemon?.stop();
    rmSync(profile, { recursive: true, force: true });
  });

  test('the page lists the chardevs, live', async () => {
    const page = await context.newPage();
    await page.goto(`${daemon.base}/`);
    for (const id of ['console0-log', 'console0', 'guest0']) await page.locator(`tr[data-chardev="${id}"]`).waitFor({ timeout: WAIT_MS });
    const guest = await connectGuest(daemon.guestPath);
    // guest0 opens when its client connects, and the list follows.
    await waitFor(async () => (await page.locator('tr[data-chardev="guest0"] td').nth(2).innerText()) === 'yes', 'guest0 shown open', WAIT_MS);
    guest.socket.destroy();
    await page.close();
  });

  test('two tabs show what the guest writes; keys typed in a writable tab reach it; a read-only tab cannot write; a late tab shows the earlier output', async () => {
    const guest = await connectGuest(daemon.guestPath);
    const writable = await context.newPage();
    const readOnly = await context.newPage();
    await writable.goto(`${daemon.base}/#view=console0&token=${WEB_TOKEN}`);
    await readOnly.goto(`${daemon.base}/#view=console0`);
    await writable.locator('[data-console="console0"] .mode').filter({ hasText: 'writable' }).waitFor({ timeout: WAIT_MS });
    await readOnly.locator('[data-console="console0"] .mode').filter({ hasText: 'read-only' }).waitFor({ timeout: WAIT_MS });
    guest.socket.write('login: written-by-the-guest\r\n');
    await untilScreenShows(writable, 'console0', 'written-by-the-guest');
    await untilScreenShows(readOnly, 'console0', 'written-by-the-guest');

    await writable.locator('[data-console="console0"] .xterm').click();
    await writable.keyboard.type('typed-in-the-browser');
    await writable.keyboard.press('Enter');
    await waitFor(() => guest.received.bytes.includes('typed-in-the-browser\r'), 'the keys at the guest', WAIT_MS);

    // A read-only terminal takes no keys; bytes the page's script sends anyway are refused with a message.
    await readOnly.locator('[data-console="console0"] .xterm').click();
    await readOnly.keyboard.type('from-the-read-only-tab');
    const refusal = await readOnly.evaluate(`new Promise((resolve) => {
      const socket = new WebSocket(new URL('ws/console0', location.href.replace(/^http/, 'ws')), ['chardevd']);
      socket.onopen = () => socket.send(new TextEncoder().encode('forced-by-the-script'));
      socket.onmessage = (event) => {
        if (typeof event.data === 'string' && JSON.parse(event.data).type === 'error') { socket.close(); resolve(JSON.parse(event.data).message); }
      };
    })`);
    assert.match(String(refusal), /^this viewer is read-only/);
    await writable.keyboard.type('marker-after-the-read-only-keys');
    await waitFor(() => guest.received.bytes.includes('marker-after-the-read-only-keys'), 'the marker at the guest', WAIT_MS);
    assert.equal(guest.received.bytes.includes('from-the-read-only-tab'), false);
    assert.equal(guest.received.bytes.includes('forced-by-the-script'), false);

    const late = await context.newPage();
    await late.goto(`${daemon.base}/#view=guest0`);
    await untilScreenShows(late, 'guest0', 'written-by-the-guest');
    assert.match(await late.locator('[data-console="guest0"] .title').innerText(), /hub console0/);

    const dir = mkdtempSync(join(tmpdir(), 'chardevd-screenshot-'));
    try {
      const file = join(dir, 'console.png');
      await late.screenshot({ path: file });
      // A page with a terminal of text is some kilobytes of PNG; a blank page is a few hundred bytes.
      assert.ok(statSync(file).size > 10_000, `screenshot of ${statSync(file).size} bytes`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await Promise.all([writable.close(), readOnly.close(), late.close()]);
    guest.socket.destroy();
  });

  test('the terminal fits the window, finds text and copies it', async () => {
    const guest = await connectGuest(daemon.guestPath);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: daemon.base });
    const page = await context.newPage();
    await page.setViewportSize({ width: 1000, height: 700 });
    await page.goto(`${daemon.base}/#view=console0`);
    await page.locator('[data-console="console0"] .mode').filter({ hasText: 'read-only' }).waitFor({ timeout: WAIT_MS });
    guest.socket.write('needle-in-the-haystack\r\n');
    await untilScreenShows(page, 'console0', 'needle-in-the-haystack');
    const width = async (): Promise<number> => (await page.locator('[data-console="console0"] .xterm-screen').boundingBox())?.width ?? 0;
    const wide = await width();
    await page.setViewportSize({ width: 600, height: 700 });
    await waitFor(async () => (await width()) < wide - 200, 'the terminal to fit the narrower window', WAIT_MS);

    await page.locator('[data-console="console0"] input[type=search]').fill('haystack');
    await page.locator('[data-console="console0"] input[type=search]').press('Enter');
    await page.locator('[data-console="console0"] button', { hasText: 'copy' }).click();
    await page.locator('[data-console="console0"] button', { hasText: 'copied' }).waitFor({ timeout: WAIT_MS });
    // The search selected its match, and copy took the selection.
    assert.equal(await page.evaluate('navigator.clipboard.readText()'), 'haystack');
    await page.close();
    guest.socket.destroy();
  });

  test('a tab whose script stops is no longer sent to and loses its oldest output, shown on the page and in query-chardev, while the guest and the other tab go on', async () => {
    const qmp = await Connection.open(daemon.server.qmpPath);
    await qmp.execute('qmp_capabilities');
    const guest = await connectGuest(daemon.guestPath);
    const live = await context.newPage();
    const stopped = await context.newPage();
    await live.goto(`${daemon.base}/#view=console0`);
    await stopped.goto(`${daemon.base}/#view=console0`);
    for (const page of [live, stopped]) await page.locator('[data-console="console0"] .mode').filter({ hasText: 'read-only' }).waitFor({ timeout: WAIT_MS });
    // The tab's script stops at its next statement (the next output's handler), as a hung or throttled tab's would.
    const cdp = await context.newCDPSession(stopped);
    await cdp.send('Debugger.enable');
    await cdp.send('Debugger.pause');

    // 4 MiB in rounds of 256 KiB, each once the live tab shows the one before: it keeps up, the stopped tab renders nothing.
    for (let i = 1; i <= 16; i++) {
      guest.socket.write(`${'y'.repeat(256 << 10)}\r\nround-${i}-done\r\n`);
      await untilScreenShows(live, 'console0', `round-${i}-done`);
    }
    const members = (
      ((await qmp.execute('query-chardev'))['return'] as { label: string; hub?: { members: { id: string; dropped: number }[] } }[]).find(
        (chardev) => chardev.label === 'console0',
      )?.hub?.members ?? []
    ).filter((member) => member.id.startsWith('web-viewer-'));
    const lossy = members.filter((member) => member.dropped > 0);
    assert.equal(lossy.length, 1, 'one viewer, the stopped tab, dropped output');
    // The live tab's list shows the stopped tab's drops.
    await live.locator(`tr[data-chardev="console0"] .member.lossy`).filter({ hasText: lossy[0]!.id }).waitFor({ timeout: WAIT_MS });

    // Running again, the tab is told how much it lost and shows the latest output.
    await cdp.send('Debugger.resume');
    guest.socket.write('after-the-stop\r\n');
    await untilScreenShows(stopped, 'console0', 'after-the-stop');
    await waitFor(
      async () => Number(await stopped.locator('[data-console="console0"] .dropped').getAttribute('data-bytes')) > 0,
      'the drop count on the tab that stopped',
      WAIT_MS,
    );
    await Promise.all([live.close(), stopped.close()]);
    guest.socket.destroy();
    qmp.socket.destroy();
  });
});
