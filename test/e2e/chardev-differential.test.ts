import assert from 'node:assert/strict';
import * as net from 'node:net';
import { test } from 'node:test';
import { type DifferentialServers, differentialSuite } from '../support/differential-suite.js';
import { compare, NEGOTIATE, play, type Transcript } from '../support/qmp-transcript.js';

/**
 * Chardev commands sent to QEMU 7.2 and to chardevd must get the same
 * replies, errors included. Normalised besides versions and timestamps:
 * each server's temporary directory (`$DIR`), TCP port numbers and pty
 * numbers (assigned by the kernel), the order of query-chardev (QEMU's is
 * a hash order) without QEMU's own monitor chardev, and the list of
 * backends (each lists what it can create).
 */

const add = (id: string, backend: string, extra = ''): string => `{"execute":"chardev-add","arguments":{"id":"${id}","backend":${backend}}${extra}}`;
const ringbuf = (size?: number): string => `{"type":"ringbuf","data":{${size === undefined ? '' : `"size":${size}`}}}`;
const write = (device: string, data: string, format = 'utf8'): string =>
  `{"execute":"ringbuf-write","arguments":{"device":"${device}","data":"${data}","format":"${format}"}}`;
const read = (device: string, size: number | string, format = 'utf8'): string =>
  `{"execute":"ringbuf-read","arguments":{"device":"${device}","size":${size},"format":"${format}"}}`;
const QUERY = '{"execute":"query-chardev","id":"query"}';
const inetSocket = (host: string, port: string, server: boolean): string =>
  `{"type":"socket","data":{"addr":{"type":"inet","data":{"host":"${host}","port":"${port}"}},"server":${server}${server ? ',"wait":false' : ''}}}`;
const udp = (port: string, localPort?: string): string =>
  `{"type":"udp","data":{"remote":{"type":"inet","data":{"host":"127.0.0.1","port":"${port}"}}${
    localPort === undefined ? '' : `,"local":{"type":"inet","data":{"host":"127.0.0.1","port":"${localPort}"}}`
  }}}`;
const hmp = (command: string): string => `{"execute":"human-monitor-command","arguments":{"command-line":"${command}"}}`;

const transcripts: Transcript[] = [
  {
    name: 'device_add and device_del: the checks before a device model is chosen, and unknown devices',
    steps: [
      NEGOTIATE,
      '{"execute":"device_add"}',
      '{"execute":"device_add","arguments":{}}',
      '{"execute":"device_add","arguments":{"id":"d0"}}',
      '{"execute":"device_add","arguments":{"driver":"nope","id":"d0"}}',
      '{"execute":"device_add","arguments":{"driver":5}}',
      '{"execute":"device_add","arguments":{"driver":true,"id":"d0"}}',
      '{"execute":"device_add","arguments":{"driver":"nope","id":"1bad"}}',
      '{"execute":"device_add","arguments":{"id":"bad id","extra":[1]}}',
      '{"execute":"device_add","arguments":{"driver":["link"]}}',
      '{"execute":"device_add","arguments":{"driver":"nope","bus":"pci.0","id":7}}',
      '{"execute":"device_del","arguments":{"id":"d0"}}',
      '{"execute":"device_del","arguments":{"id":"/machine/peripheral-anon/device[0]"}}',
      '{"execute":"device_del","arguments":{}}',
      '{"execute":"device_del","arguments":{"id":"d0","force":true}}',
    ],
  },
  {
    name: 'ringbuf: create, duplicate, sizes, write and read in both formats, overflow, remove',
    steps: [
      NEGOTIATE,
      add('r0', ringbuf()),
      add('r0', ringbuf()),
      add('r1', ringbuf(5)),
      add('r1', ringbuf(-4)),
      add('r2', ringbuf(8)),
      add('m0', '{"type":"memory","data":{}}'),
      add('r3', '{"type":"ringbuf"}'),
      add('r3', '{"type":"ringbuf","data":{"size":"big"}}'),
      add('r3', '{"type":"bogus","data":{}}'),
      add('r3', '{"data":{}}'),
      add('r3', ringbuf(), ',"extra":1'),
      QUERY,
      write('r2', 'hello'),
      read('r2', 3),
      read('r2', 100),
      read('r2', 1),
      write('r2', 'abcdefghijklmnopqrstuvwxyz'),
      read('r2', 100),
      write('r2', 'caf\xc3\xa9 \xe2\x82\xac'),
      read('r2', 4),
      read('r2', 1),
      read('r2', 100),
      write('r2', 'aGVsbG8gd29ybGQ=', 'base64'),
      read('r2', 100, 'base64'),
      write('r2', 'QUJD\\nREVG', 'base64'),
      read('r2', 100),
      write('r2', 'QQ', 'base64'),
      write('r2', 'QQ==', 'base64'),
      read('r2', 100),
      write('r2', 'not base64!', 'base64'),
      write('r2', 'x', 'hex'),
      read('r2', 0),
      read('r2', -5),
      read('r2', 1.5),
      read('r2', '"1"'),
      read('r2', 99999999999999999999),
      read('nope', 1),
      write('nope', 'x'),
      '{"execute":"chardev-send-break","arguments":{"id":"r2"}}',
      '{"execute":"chardev-send-break","arguments":{"id":"nope"}}',
      '{"execute":"chardev-remove","arguments":{"id":"r2"}}',
      '{"execute":"chardev-remove","arguments":{"id":"r2"}}',
      '{"execute":"chardev-remove","arguments":{}}',
      QUERY,
    ],
  },
  {
    name: 'null, file and pipe: creation, missing paths, log files',
    steps: [
      NEGOTIATE,
      add('n0', '{"type":"null","data":{}}'),
      read('n0', 1),
      write('n0', 'x'),
      add('f0', '{"type":"file","data":{"out":"$DIR/f0.log"}}'),
      add('f1', '{"type":"file","data":{"out":"$DIR/missing/f1.log"}}'),
      add('f2', '{"type":"file","data":{"out":"$DIR/f2.log","in":"$DIR/missing-input"}}'),
      add('f3', '{"type":"file","data":{}}'),
      add('f4', '{"type":"file","data":{"out":"$DIR/f4.log","append":true,"logfile":"$DIR/f4.txt","logappend":true}}'),
      add('l0', '{"type":"null","data":{"logfile":"$DIR/missing/l0.txt"}}'),
      add('l1', '{"type":"ringbuf","data":{"logfile":"$DIR/missing/l1.txt","size":3}}'),
      add('p0', '{"type":"pipe","data":{"device":"$DIR/no-such-pipe"}}'),
      add('s0', '{"type":"serial","data":{"device":"$DIR/no-such-tty"}}'),
      QUERY,
      '{"execute":"chardev-change","arguments":{"id":"nope","backend":{"type":"null","data":{}}}}',
      '{"execute":"chardev-change","arguments":{"id":"n0","backend":{"type":"ringbuf","data":{"size":16}}}}',
      write('n0', 'now a ringbuf'),
      read('n0', 100),
      '{"execute":"chardev-change","arguments":{"id":"n0","backend":{"type":"ringbuf","data":{"size":3}}}}',
      QUERY,
    ],
  },
  {
    name: 'socket: servers, clients, and every option conflict',
    steps: [
      NEGOTIATE,
      add('u0', '{"type":"socket","data":{"addr":{"type":"unix","data":{"path":"$DIR/u0.sock"}},"server":true,"wait":false}}'),
      add('u1', '{"type":"socket","data":{"addr":{"type":"unix","data":{"path":"$DIR/u1.sock"}}}}'),
      add('t0', '{"type":"socket","data":{"addr":{"type":"inet","data":{"host":"127.0.0.1","port":"0"}},"server":true,"wait":false,"telnet":true}}'),
      add('t1', '{"type":"socket","data":{"addr":{"type":"inet","data":{"host":"127.0.0.1","port":"0"}},"websocket":true,"wait":false}}'),
      QUERY,
      add('c0', '{"type":"socket","data":{"addr":{"type":"unix","data":{"path":"$DIR/none.sock"}},"server":false}}'),
      add('c1', '{"type":"socket","data":{"addr":{"type":"unix","data":{"path":"$DIR/none.sock"}},"server":false,"wait":true}}'),
      add('c2', '{"type":"socket","data":{"addr":{"type":"unix","data":{"path":"$DIR/none.sock"}},"server":false,"websocket":true}}'),
      add('c3', '{"type":"socket","data":{"addr":{"type":"unix","data":{"path":"$DIR/none.sock"}},"reconnect":1}}'),
      add('c4', '{"type":"socket","data":{"addr":{"type":"unix","data":{"path":"$DIR/none.sock"}},"tls-creds":"tls0"}}'),
      add('c5', '{"type":"socket","data":{"addr":{"type":"inet","data":{"host":"127.0.0.1","port":"0"}},"tls-authz":"authz0"}}'),
      add('c6', '{"type":"socket","data":{"addr":{"type":"fd","data":{"str":"myfd"}},"reconnect":1}}'),
      add('c7', '{"type":"socket","data":{"addr":{"type":"fd","data":{"str":"myfd"}}}}'),
      add('c8', '{"type":"socket","data":{"addr":{"type":"unix","data":{"path":"$DIR/missing/x.sock"}}}}'),
      add('c9', '{"type":"socket","data":{"addr":{"type":"unix","data":{}}}}'),
      add('c10', '{"type":"socket","data":{"addr":{"type":"inet","data":{"host":"127.0.0.1"}}}}'),
      add('c11', '{"type":"socket","data":{"addr":{"type":"unix","data":{"path":"$DIR/none.sock"}},"server":false,"reconnect":1}}'),
      // QEMU 7.2 refuses `wait` on a client whatever its value, ahead of reconnect and a websocket=false.
      add('c12', '{"type":"socket","data":{"addr":{"type":"unix","data":{"path":"$DIR/nonexistent.sock"}},"server":false,"wait":false}}'),
      add('c13', '{"type":"socket","data":{"addr":{"type":"unix","data":{"path":"$DIR/u0.sock"}},"server":false,"wait":false}}'),
      add('c14', '{"type":"socket","data":{"addr":{"type":"unix","data":{"path":"$DIR/none.sock"}},"server":false,"wait":false,"reconnect":1}}'),
      add('c15', '{"type":"socket","data":{"addr":{"type":"unix","data":{"path":"$DIR/none.sock"}},"server":false,"wait":true,"websocket":false}}'),
      add('c16', '{"type":"socket","data":{"addr":{"type":"unix","data":{"path":"$DIR/none.sock"}},"server":false,"wait":false,"websocket":true}}'),
      add('c17', '{"type":"socket","data":{"addr":{"type":"unix","data":{"path":"$DIR/c17.sock"}},"server":true,"wait":false,"reconnect":0}}'),
      add('u2', '{"type":"socket","data":{"addr":{"type":"unix","data":{"path":"$DIR/u0.sock"}},"server":false}}'),
      QUERY,
      '{"execute":"chardev-remove","arguments":{"id":"c11"}}',
      '{"execute":"chardev-remove","arguments":{"id":"u2"}}',
      '{"execute":"chardev-remove","arguments":{"id":"u0"}}',
      QUERY,
    ],
  },
  {
    name: "socket and udp ports as glibc's getaddrinfo reads them: numbers in 16 bits, service names, QEMU's resolution errors",
    steps: [
      NEGOTIATE,
      // Any port: no service, 0 with a sign, and numbers whose low 16 bits are 0.
      ...['', '-0', '+0', '\\t0', '65536', '4294967296'].map((port, i) => add(`sp${i}`, inetSocket('127.0.0.1', port, true))),
      QUERY,
      // No number consumed whole, or an int below 0: a service name no database has.
      ...['abc', '-1', '1e3', '0x10', '80 ', ' ', '4294967295', '99999999999999999999', 'HTTP', 'on'].map((port, i) =>
        add(`se${i}`, inetSocket('localhost', port, true)),
      ),
      ...['abc', '-1', '4294967295'].map((port, i) => add(`ce${i}`, inetSocket('localhost', port, false))),
      // No host and no service; a client with no host; a service looked up as tcp (discard is port 9, where nothing listens).
      add('sn0', inetSocket('', '', true)),
      add('cn0', inetSocket('', '80', false)),
      add('cn1', inetSocket('', 'abc', false)),
      add('cn2', inetSocket('127.0.0.1', '', false)),
      add('cn3', inetSocket('127.0.0.1', 'discard', false)),
      add('cn4', inetSocket('nonexistent.invalid', '80', false)),
      add('cr0', '{"type":"socket","data":{"addr":{"type":"inet","data":{"host":"localhost","port":"-1"}},"server":false,"reconnect":1}}'),
      // udp: the same reading, with services looked up as udp (http is tcp only, discard both).
      add('ud0', udp('+9')),
      add('ud1', udp('discard')),
      add('ud2', udp('http')),
      add('ud3', udp('4294967295')),
      add('ud4', udp('9', '+0')),
      add('ud5', udp('9', '-1')),
      QUERY,
      // `port` without a value is port=on.
      hmp('chardev-add socket,id=hp0,host=localhost,port'),
      hmp('chardev-add socket,id=hp1,host=localhost,port=4294967295,server=on,wait=off'),
      ...['sp0', 'sp1', 'sp2', 'sp3', 'sp4', 'sp5', 'cr0', 'ud0', 'ud1', 'ud4'].map((id) => `{"execute":"chardev-remove","arguments":{"id":"${id}"}}`),
    ],
  },
  {
    name: 'a socket without an address, over QMP and HMP (a monitor reads fd as a getfd name)',
    steps: [
      NEGOTIATE,
      add('fa0', '{"type":"socket","data":{"addr":{"type":"fd","data":{"str":""}},"server":false}}'),
      hmp('chardev-add socket,id=fa1'),
      hmp('chardev-add socket,id=fa2,port=5'),
      hmp('chardev-add socket,id=fa3,fd=3'),
    ],
  },
  {
    name: 'udp and pty',
    steps: [
      NEGOTIATE,
      add('d0', '{"type":"udp","data":{"remote":{"type":"inet","data":{"host":"127.0.0.1","port":"9"}}}}'),
      add('d1', '{"type":"udp","data":{"remote":{"type":"unix","data":{"path":"$DIR/d.sock"}}}}'),
      add('y0', '{"type":"pty","data":{}}'),
      QUERY,
      '{"execute":"chardev-remove","arguments":{"id":"y0"}}',
    ],
  },
];

/** Replaces what differs between any two runs: kernel-chosen ports and pty numbers, and list orders. */
function normaliseRun(lines: readonly string[]): string[] {
  return lines.map((line) => {
    const text = line.replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:<port>').replace(/\/dev\/pts\/\d+/g, '/dev/pts/<n>');
    const query = /^\{"return": (\[.*\]), "id": "query"\}$/.exec(text);
    if (query === null) return text;
    const entries = (JSON.parse(query[1]!) as { label: string }[]).filter((entry) => !entry.label.startsWith('compat_monitor'));
    entries.sort((a, b) => (a.label < b.label ? -1 : 1));
    return `{"return": ${JSON.stringify(entries.map((e) => Object.fromEntries(Object.entries(e).sort())))}, "id": "query"}`;
  });
}

/** A TCP server of the test's own on 127.0.0.1, counting the connections it accepts. */
async function testServer(): Promise<{ port: number; accepted: () => number; close: () => void }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    sockets.push(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    accepted: () => sockets.length,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

/** Polls (bounded) until `condition` holds. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Tests on ports the test holds, which a static transcript cannot name. */
function portTests(servers: DifferentialServers): void {
  test('a client connects where getaddrinfo puts the service: 16 bits of it, after a sign, white space or zeros', async () => {
    const target = await testServer();
    try {
      const port = target.port;
      const services = [String(port + 65536), `+${port}`, ` ${port}`, `000${port}`, `-${2 ** 32 - port}`];
      const transcript: Transcript = {
        name: 'clients',
        steps: [
          NEGOTIATE,
          ...services.map((service, i) => add(`pc${i}`, inetSocket('127.0.0.1', service, false))),
          ...services.map((_, i) => `{"execute":"chardev-remove","arguments":{"id":"pc${i}"}}`),
        ],
      };
      const theirs = await play(servers.qemu.qmpPath, transcript);
      await until(() => target.accepted() === services.length, `QEMU's ${services.length} connections`);
      const ours = await play(servers.chardevd.qmpPath, transcript);
      await until(() => target.accepted() === 2 * services.length, `chardevd's ${services.length} connections`);
      compare(normaliseRun(ours), normaliseRun(theirs));
    } finally {
      target.close();
    }
  });

  test("a server on a port in use fails with QEMU's text, over QMP and HMP, unless another of its addresses is free", async () => {
    const holder = await testServer();
    try {
      const transcript: Transcript = {
        name: 'port in use',
        steps: [
          NEGOTIATE,
          add('pu0', inetSocket('127.0.0.1', String(holder.port), true)),
          add('pu1', inetSocket('', String(holder.port), true)),
          hmp(`chardev-add socket,id=pu2,host=127.0.0.1,port=${holder.port},server=on,wait=off`),
          // The wildcard address binds IPv6 alone, beside the holder's IPv4; removed, so that the next server finds it free.
          '{"execute":"chardev-remove","arguments":{"id":"pu1"}}',
        ],
      };
      const theirs = await play(servers.qemu.qmpPath, transcript);
      const ours = await play(servers.chardevd.qmpPath, transcript);
      assert.ok(ours.some((line) => line.includes('Failed to find an available port: Address already in use')));
      compare(normaliseRun(ours), normaliseRun(theirs));
    } finally {
      holder.close();
    }
  });
}

differentialSuite('chardev transcripts: chardevd answers as QEMU 7.2', transcripts, normaliseRun, portTests);
