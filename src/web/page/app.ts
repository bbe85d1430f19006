// The web console's page: the chardev list, kept current from the
// daemon's event stream, and a terminal per console viewed, each on a
// WebSocket of its own. Output is acknowledged once xterm.js has
// rendered it, so the daemon sends no faster than this tab draws; a tab
// that falls behind is sent nothing until it catches up and is told how
// much it lost. `#view=ID,ID&token=TOKEN` in the address opens consoles
// at load, writable with the token.
import { FitAddon } from './addon-fit.mjs';
import { SearchAddon } from './addon-search.mjs';
import { Terminal } from './xterm.mjs';

interface MemberView {
  readonly id: string;
  readonly open: boolean;
  readonly queued: number;
  readonly dropped: number;
}

interface ChardevView {
  readonly id: string;
  readonly filename: string;
  readonly open: boolean;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly viewable: boolean;
  readonly hub?: string;
  readonly members?: readonly MemberView[];
}

type ServerMessage =
  | { type: 'hello'; chardev: string; hub: string; writable: boolean }
  | { type: 'dropped'; bytes: number; total: number }
  | { type: 'error'; message: string };

const params = new URLSearchParams(location.hash.slice(1));
const token = params.get('token') ?? undefined;
const consoles = new Map<string, () => void>();

function element<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function bytes(count: number): string {
  if (count < 1024) return `${count} B`;
  if (count < 1 << 20) return `${(count / 1024).toFixed(1)} KiB`;
  return `${(count / (1 << 20)).toFixed(1)} MiB`;
}

function showList(list: readonly ChardevView[]): void {
  const body = document.querySelector('#chardevs tbody')!;
  body.replaceChildren(
    ...list.map((chardev) => {
      const members = (chardev.members ?? []).map((member) =>
        element(
          'div',
          { className: member.dropped > 0 ? 'member lossy' : 'member', title: member.open ? 'open' : 'closed' },
          `${member.id} (${bytes(member.queued)}, ${bytes(member.dropped)} dropped)`,
        ),
      );
      const view = chardev.hub === undefined ? '' : element('button', { type: 'button', textContent: 'view', onclick: () => openConsole(chardev.id) });
      const row = element(
        'tr',
        {},
        element('td', {}, chardev.id),
        element('td', {}, chardev.filename),
        element('td', {}, chardev.open ? 'yes' : 'no'),
        element('td', {}, bytes(chardev.bytesIn)),
        element('td', {}, bytes(chardev.bytesOut)),
        element('td', { className: 'members' }, ...members),
        element('td', {}, view),
      );
      row.dataset['chardev'] = chardev.id;
      return row;
    }),
  );
}

function watchList(): void {
  const state = document.getElementById('list-state')!;
  const events = new EventSource('api/chardevs/events');
  events.onopen = () => (state.textContent = 'live');
  events.onerror = () => (state.textContent = 'reconnecting…');
  events.onmessage = (event: MessageEvent<string>) => showList(JSON.parse(event.data) as ChardevView[]);
}

function openConsole(id: string): void {
  if (consoles.has(id)) return;
  const title = element('span', { className: 'title', textContent: id });
  const mode = element('span', { className: 'mode', textContent: 'connecting…' });
  const dropped = element('span', { className: 'dropped' });
  const search = element('input', { type: 'search', placeholder: 'search' });
  const copy = element('button', { type: 'button', textContent: 'copy' });
  const close = element('button', { type: 'button', textContent: '×', title: 'close' });
  const screen = element('div', { className: 'screen' });
  const panel = element(
    'section',
    { className: 'console' },
    element('div', { className: 'bar' }, title, mode, dropped, element('span', { className: 'spacer' }), search, copy, close),
    screen,
  );
  panel.dataset['console'] = id;
  document.getElementById('consoles')!.append(panel);

  const terminal = new Terminal({ convertEol: false, scrollback: 5000, disableStdin: true, fontSize: 14 });
  const fit = new FitAddon();
  const finder = new SearchAddon();
  terminal.loadAddon(fit);
  terminal.loadAddon(finder);
  terminal.open(screen);
  fit.fit();
  const resize = new ResizeObserver(() => fit.fit());
  resize.observe(screen);

  const url = new URL(`ws/${encodeURIComponent(id)}`, location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new WebSocket(url, token === undefined ? ['chardevd'] : ['chardevd', `chardevd-token.${token}`]);
  socket.binaryType = 'arraybuffer';
  let droppedTotal = 0;
  let unacked = 0;
  let ackTimer: number | undefined;
  const acknowledge = (count: number): void => {
    unacked += count;
    // One acknowledgement per turn of the event loop, whatever the number of writes rendered in it.
    ackTimer ??= window.setTimeout(() => {
      ackTimer = undefined;
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: 'ack', bytes: unacked }));
      unacked = 0;
    }, 0);
  };
  socket.onmessage = (event: MessageEvent<ArrayBuffer | string>) => {
    if (typeof event.data !== 'string') {
      const data = new Uint8Array(event.data);
      terminal.write(data, () => acknowledge(data.length));
      return;
    }
    const message = JSON.parse(event.data) as ServerMessage;
    if (message.type === 'hello') {
      mode.textContent = message.writable ? 'writable' : 'read-only';
      if (message.hub !== message.chardev) title.textContent = `${id} (hub ${message.hub})`;
      terminal.options.disableStdin = !message.writable;
    } else if (message.type === 'dropped') {
      droppedTotal = message.total;
      dropped.textContent = `${bytes(droppedTotal)} dropped`;
      dropped.dataset['bytes'] = String(droppedTotal);
    } else {
      mode.textContent = message.message;
    }
  };
  socket.onclose = (event) => {
    mode.textContent = `closed${event.reason === '' ? '' : `: ${event.reason}`}`;
    terminal.options.disableStdin = true;
  };
  const encoder = new TextEncoder();
  terminal.onData((text) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(encoder.encode(text));
  });
  terminal.onBinary((text) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(Uint8Array.from(text, (char) => char.charCodeAt(0)));
  });
  search.onkeydown = (event) => {
    if (event.key !== 'Enter') return;
    if (event.shiftKey) finder.findPrevious(search.value);
    else finder.findNext(search.value);
  };
  copy.onclick = () => {
    if (!terminal.hasSelection()) terminal.selectAll();
    void navigator.clipboard.writeText(terminal.getSelection()).then(
      () => (copy.textContent = 'copied'),
      () => (copy.textContent = 'copy failed'),
    );
  };
  const dispose = (): void => {
    resize.disconnect();
    socket.close();
    terminal.dispose();
    panel.remove();
    consoles.delete(id);
  };
  close.onclick = dispose;
  consoles.set(id, dispose);
}

watchList();
for (const id of (params.get('view') ?? '').split(',')) if (id !== '') openConsole(id);
