import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { parse } from 'yaml';
import { parseChardevOption } from '../../../src/chardev/options.js';
import { parseConfig } from '../../../src/daemon/config.js';
import { configFileText } from '../../../src/daemon/config-text.js';
import type { ObjectOptions, ChardevdConfig, ConfigChardev } from '../../../src/generated/qapi-types.gen.js';

/** -chardev strings of every backend chardevd creates, with their options: what the parser makes must come back from the file. */
const CHARDEV_OPTIONS = [
  'file,id=f0,path=out.log,append=on,logfile=f0.log,logappend=on,logsize=1M,logbackups=2',
  'file,id=f1,path=out.log,input-path=in.fifo',
  'serial,id=u0,path=/dev/ttyUSB0',
  'tty,id=u1,path=/dev/ttyS0',
  'pipe,id=p0,path=/run/console',
  'socket,id=s0,path=s0.sock,server=on,wait=off',
  'socket,id=s1,host=127.0.0.1,port=4555,server=on,wait=off,telnet=on,clients=8',
  'socket,id=s2,host=::1,port=0,server=on,wait=off,websocket=on,ipv6=on',
  'socket,id=s3,host=localhost,port=5000,reconnect=2',
  'socket,id=s4,path=c.sock,reconnect-ms=500,abstract=on,tight=off',
  'udp,id=d0,host=127.0.0.1,port=5001,localaddr=127.0.0.1,localport=5002',
  'pty,id=t0',
  'null,id=n0',
  'stdio,id=io,signal=off',
  'ringbuf,id=r0,size=1M',
  'memory,id=m0,size=4K',
  'hub,id=h0,chardevs.0=r0,chardevs.1=n0,backpressure=on,queue-size=64K,history=0',
  'mux,id=x0,chardev=n0',
];

/** Strings YAML would read as something else unless quoted, in places a config holds strings. */
const AWKWARD = [
  'null',
  '~',
  'true',
  'on',
  'off',
  '4444',
  '1.0',
  '0x10',
  '',
  ' lead',
  'a: b',
  '#hash',
  '- dash',
  'comma,,path',
  '"quoted"',
  "it's",
  'line\nbreak',
  'tab\tx',
  'ünï',
];

function config(chardevs: ConfigChardev[], extra: Partial<ChardevdConfig> = {}): ChardevdConfig {
  return { objects: [], qmp: [], hmp: [], chardevs, devices: [], ...extra };
}

/** The text read back as chardevd reads a config file; fails on any warning. */
function readBack(text: string) {
  return parseConfig(text, 'saved.yaml', (warning) => assert.fail(`unexpected warning: ${warning}`));
}

suite('configFileText', () => {
  test('objects come back from the file as the same object-add arguments, before the listeners that name them', () => {
    const objects: ObjectOptions[] = [
      { 'qom-type': 'tls-creds-x509', id: 'tls0', dir: '/etc/pki, with a comma', endpoint: 'server', 'verify-peer': true },
      { 'qom-type': 'authz-list', id: 'auth0', policy: 'deny', rules: [{ match: 'O=Example,CN=*', policy: 'allow', format: 'glob' }] },
    ];
    const text = configFileText(config([], { objects, qmp: ['tcp:127.0.0.1:0,server=on,wait=off,tls-creds=tls0,tls-authz=auth0'] }));
    assert.ok(text.indexOf('objects:') < text.indexOf('qmp:'), 'objects first');
    assert.deepEqual(
      readBack(text).objects.map((item) => item.options),
      objects,
    );
  });

  test('every backend the -chardev parser makes comes back from the file as the same chardev-add arguments', () => {
    const chardevs = CHARDEV_OPTIONS.map((text): ConfigChardev => {
      const { id, backend } = parseChardevOption(text);
      return { id, backend };
    });
    const read = readBack(configFileText(config(chardevs)));
    assert.deepEqual(
      read.chardevs.map((item) => (item.form === 'object' ? { id: item.id, backend: item.backend } : item.text)),
      chardevs,
    );
  });

  test('strings that look like something else stay strings, in paths, ids of members and listeners', () => {
    const chardevs = AWKWARD.map((value, i): ConfigChardev => ({ id: `f${i}`, backend: { type: 'file', data: { out: value } } }));
    const read = readBack(
      configFileText(
        config(chardevs, {
          qmp: ['unix:a,,b: c #d.sock,server=on,wait=off', 'chardev:qmon'],
          hmp: ['tcp:[::1]:0,server=on,wait=off', 'chardev:on'],
          devices: [
            { driver: 'link', id: 'l0', chardev: 'null', peer: 'true' },
            { driver: 'link', chardev: 'f1', peer: 'f2' },
          ],
        }),
      ),
    );
    assert.deepEqual(
      read.chardevs.map((item) => item.form === 'object' && item.backend.type === 'file' && item.backend.data.out),
      AWKWARD,
    );
    assert.deepEqual(
      read.qmp.map((listener) => listener.text),
      ['unix:a,,b: c #d.sock,server=on,wait=off'],
    );
    assert.deepEqual(
      read.monitors.map((monitor) => monitor.target),
      [
        { type: 'listener', option: { address: { type: 'inet', host: '::1', port: 0, ipv6Only: false }, wait: false }, text: 'tcp:[::1]:0,server=on,wait=off' },
        { type: 'chardev', id: 'on', mode: 'readline', pretty: false },
        { type: 'chardev', id: 'qmon', mode: 'control', pretty: false },
      ],
    );
    assert.deepEqual(
      read.devices.map((device) => [device.id, Object.fromEntries(device.properties)]),
      [
        ['l0', { driver: 'link', chardev: 'null', peer: 'true' }],
        [undefined, { driver: 'link', chardev: 'f1', peer: 'f2' }],
      ],
    );
  });

  test('the web console comes back from the file as it was given', () => {
    const config: ChardevdConfig = {
      objects: [],
      qmp: [],
      hmp: [],
      chardevs: [],
      devices: [],
      web: { listen: 'unix:chardevd-web.sock', token: '0123456789abcdef', origins: ['https://console.example.com'] },
    };
    const web = parseConfig(configFileText(config), 'saved.yaml', () => {}).web;
    assert.deepEqual([web?.text, web?.token, web?.origins], ['unix:chardevd-web.sock', '0123456789abcdef', ['https://console.example.com']]);
  });

  test('writes one line per chardev and device, every key present, after a comment that says what the file is', () => {
    const text = configFileText(
      config([{ id: 'r0', backend: { type: 'ringbuf', data: { size: 65536 } } }], { devices: [{ driver: 'link', id: 'l0', chardev: 'r0', peer: 'r1' }] }),
    );
    assert.equal(
      text.split('\n').slice(3).join('\n'),
      [
        '',
        'objects: []',
        'qmp: []',
        'hmp: []',
        'chardevs:',
        '  - { id: r0, backend: { type: ringbuf, data: { size: 65536 } } }',
        'devices:',
        '  - { driver: link, id: l0, chardev: r0, peer: r1 }',
        '',
      ].join('\n'),
    );
    assert.match(text, /^# chardevd's running configuration \(query-config\)/);
    assert.deepEqual(parse(text), {
      objects: [],
      qmp: [],
      hmp: [],
      chardevs: [{ id: 'r0', backend: { type: 'ringbuf', data: { size: 65536 } } }],
      devices: [{ driver: 'link', id: 'l0', chardev: 'r0', peer: 'r1' }],
    });
  });

  test('never folds a long line', () => {
    const path = `${'long/'.repeat(60)}console.log`;
    const text = configFileText(config([{ id: 'f', backend: { type: 'file', data: { out: path } } }]));
    assert.ok(text.includes(`out: ${path}`));
  });
});
