import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, type DaemonConfig, MAX_CONFIG_BYTES, parseConfig, readConfigFile } from '../../../src/daemon/config.js';

function parse(text: string): { config: DaemonConfig; warnings: string[] } {
  const warnings: string[] = [];
  return { config: parseConfig(text, 'c.yaml', (w) => warnings.push(w)), warnings };
}

/** Asserts that `text` is refused with exactly `message` (what the user sees after "chardevd: "). */
function refuses(text: string, message: string): void {
  assert.throws(() => parse(text), new ConfigError(message));
}

suite('parseConfig', () => {
  test('takes a hub in both forms: chardevs.N in a -chardev string, the chardevs list in an object', () => {
    const { config, warnings } = parse(`
chardevs:
  - ringbuf,id=log0
  - hub,id=h0,chardevs.0=log0,backpressure=on
  - id: h1
    backend: { type: hub, data: { chardevs: [ log0 ], queue-size: 65536, history: 0 } }
`);
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.chardevs?.[2], {
      form: 'object',
      origin: "c.yaml:5: chardevs[2] (id 'h1')",
      id: 'h1',
      backend: { type: 'hub', data: { chardevs: ['log0'], 'queue-size': 65536, history: 0 } },
    });
    refuses(
      `
chardevs:
  - id: h1
    backend: { type: hub, data: { chardevs: log0 } }
`,
      "c.yaml:3: chardevs[0] (id 'h1'): Invalid parameter type for 'backend.data.chardevs', expected: array",
    );
  });

  test('reads listeners in -qmp syntax and chardevs in both forms, in file order', () => {
    const { config, warnings } = parse(`
qmp:
  - unix:q.sock,server=on,wait=off
  - tcp:127.0.0.1:0,server=on
chardevs:
  - ringbuf,id=log0,size=1M
  - id: console0
    backend: { type: ringbuf, data: { size: 65536 } }
`);
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.qmp, [
      { option: { address: { type: 'unix', path: 'q.sock' }, wait: false }, pretty: false, text: 'unix:q.sock,server=on,wait=off' },
      { option: { address: { type: 'inet', host: '127.0.0.1', port: 0, ipv6Only: false }, wait: true }, pretty: false, text: 'tcp:127.0.0.1:0,server=on' },
    ]);
    assert.deepEqual(config.chardevs, [
      { form: 'option', origin: "c.yaml:6: chardevs[0] (id 'log0')", text: 'ringbuf,id=log0,size=1M', id: 'log0', checkedWarnings: 0 },
      { form: 'object', origin: "c.yaml:7: chardevs[1] (id 'console0')", id: 'console0', backend: { type: 'ringbuf', data: { size: 65536 } } },
    ]);
  });

  test('reads devices in -device syntax and as device_add arguments, numbers and booleans as text', () => {
    const { config } = parse(`
devices:
  - link,id=l0,chardev=guest0,peer=console0
  - { driver: link, chardev: a, peer: b, extra: 5, flag: true }
`);
    assert.deepEqual(
      config.devices.map((d) => ({ ...d, properties: Object.fromEntries(d.properties) })),
      [
        { origin: "c.yaml:3: devices[0] (id 'l0')", id: 'l0', properties: { driver: 'link', chardev: 'guest0', peer: 'console0' } },
        { origin: 'c.yaml:4: devices[1]', id: undefined, properties: { driver: 'link', chardev: 'a', peer: 'b', extra: '5', flag: 'on' } },
      ],
    );
    refuses(
      'devices:\n  - link,id=9\n',
      "c.yaml:2: devices[0]: Parameter 'id' expects an identifier\nIdentifiers consist of letters, digits, '-', '.', '_', starting with a letter.",
    );
    refuses('devices:\n  - { driver: link, id: 9x }\n', "c.yaml:2: devices[0]: Parameter 'id' expects an identifier");
    refuses(
      'devices:\n  - 5\n',
      "c.yaml:2: devices[0]: expected a -device string (link,id=l0,chardev=guest0,peer=console0) or device_add's arguments ({ driver: link, id: l0, chardev: guest0, peer: console0 })",
    );
  });

  test('reads web in -web syntax and as { listen, token, origins }, and refuses what -web refuses, naming the line', () => {
    assert.deepEqual(parse('web: 127.0.0.1:8080\n').config.web?.listen, { type: 'inet', host: '127.0.0.1', port: 8080 });
    const web = parse('web:\n  listen: unix:w.sock\n  token: 0123456789abcdef\n  origins: [https://c.example]\n').config.web;
    assert.deepEqual([web?.listen, web?.token, web?.origins], [{ type: 'unix', path: 'w.sock' }, '0123456789abcdef', ['https://c.example']]);
    refuses('web: { listen: :80, user: x }\n', "c.yaml:1: web: unknown key 'user' (the keys are listen, token, origins, perm)");
    refuses('web: { listen: :80, token: short }\n', 'c.yaml:1: web: token must be 16 to 256 letters, digits or the characters . _ ~ -');
    refuses('web: [a]\n', 'c.yaml:1: web: expected a -web string ("127.0.0.1:8080") or { listen: ..., token: ..., origins: [...] }');
  });

  test('reads JSON, which is YAML too', () => {
    const { config } = parse('{"chardevs": [{"id": "n", "backend": {"type": "null", "data": {}}}], "qmp": []}');
    assert.deepEqual(config.chardevs, [{ form: 'object', origin: "c.yaml:1: chardevs[0] (id 'n')", id: 'n', backend: { type: 'null', data: {} } }]);
  });

  test('takes an empty file, a file of comments and empty lists as configuring nothing', () => {
    for (const text of ['', '# nothing yet\n', 'qmp:\nchardevs:\n', 'qmp: []\nchardevs: []\n']) {
      assert.deepEqual(parse(text).config, { objects: [], qmp: [], monitors: [], chardevs: [], devices: [], demuxServices: [] }, JSON.stringify(text));
    }
  });

  test('checks chardev objects as chardev-add does, naming the item', () => {
    const item = (backend: string): string => `chardevs:\n  - ringbuf,id=first\n  - { id: x, backend: ${backend} }\n`;
    refuses(item('{ type: ringbuf }'), "c.yaml:3: chardevs[1] (id 'x'): Parameter 'backend.data' is missing");
    refuses(item('{ type: ringbuf, data: { size: "64K" } }'), "c.yaml:3: chardevs[1] (id 'x'): Invalid parameter type for 'backend.data.size', expected: integer");
    // 1.0 is a double in YAML as in JSON, and an integer member refuses a double.
    refuses(item('{ type: ringbuf, data: { size: 1.0 } }'), "c.yaml:3: chardevs[1] (id 'x'): Invalid parameter type for 'backend.data.size', expected: integer");
    refuses(item('{ type: ringbuf, data: {}, extra: 1 }'), "c.yaml:3: chardevs[1] (id 'x'): Parameter 'backend.extra' is unexpected");
    refuses(item('{ type: bogus, data: {} }'), "c.yaml:3: chardevs[1] (id 'x'): Parameter 'type' does not accept value 'bogus'");
    // YAML 1.2 has no yes/on booleans: `on` is a string, refused where QMP wants a boolean, and the message says so.
    refuses(
      item('{ type: file, data: { out: f.log, append: on } }'),
      "c.yaml:3: chardevs[1] (id 'x'): Invalid parameter type for 'backend.data.append', expected: boolean (YAML 1.2 reads on as a string, not a boolean: write true or false)",
    );
    refuses("chardevs:\n  - { backend: { type: 'null', data: {} } }\n", "c.yaml:2: chardevs[0]: Parameter 'id' is missing");
    refuses(
      'chardevs:\n  - { id: n, backend: { type: null, data: {} } }\n',
      "c.yaml:2: chardevs[0] (id 'n'): Invalid parameter type for 'backend.type', expected: string (YAML reads a bare null as no value: write type: 'null')",
    );
  });

  test('hints at YAML 1.1 booleans (on, off, yes, no) where a boolean is expected, and only there', () => {
    const socket = (data: string): string =>
      `chardevs:\n  - id: s\n    backend:\n      type: socket\n      data:\n        addr: { type: unix, data: { path: s.sock } }\n${data}`;
    for (const word of ['on', 'Off', 'yes', 'NO']) {
      refuses(
        socket(`        server: ${word}\n`),
        `c.yaml:2: chardevs[0] (id 's'): Invalid parameter type for 'backend.data.server', expected: boolean (YAML 1.2 reads ${word} as a string, not a boolean: write true or false)`,
      );
    }
    refuses(socket('        server: maybe\n'), "c.yaml:2: chardevs[0] (id 's'): Invalid parameter type for 'backend.data.server', expected: boolean");
    refuses(socket('        server: 1\n'), "c.yaml:2: chardevs[0] (id 's'): Invalid parameter type for 'backend.data.server', expected: boolean");
    assert.equal(parse(socket('        server: true\n        wait: false\n')).config.chardevs.length, 1);
  });

  test('shows a string item YAML joined from several lines (a mis-indented next item) as YAML read it', () => {
    const idHint = "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.";
    refuses(
      'chardevs:\n  - ringbuf,id=console0\n    - socket,id=guest0,path=g.sock,server=on,wait=off\n',
      `c.yaml:2: chardevs[0]: Parameter 'id' expects an identifier\n${idHint}\n` +
        'YAML read lines 2-3 as one string: "ringbuf,id=console0 - socket,id=guest0,path=g.sock,server=on,wait=off" (a line indented further than its item\'s "-" continues it)',
    );
    refuses(
      'chardevs:\n  - null,id=n\ndevices:\n  - link,chardev=n,id=l0\n    peer=x\n',
      `c.yaml:4: devices[0]: Parameter 'id' expects an identifier\n${idHint}\n` +
        'YAML read lines 4-5 as one string: "link,chardev=n,id=l0 peer=x" (a line indented further than its item\'s "-" continues it)',
    );
    refuses(
      'qmp:\n  - unix:q.sock,server=on\n    wait=off\n',
      "c.yaml:2: qmp[0]: Parameter 'server' expects 'on' or 'off'\nYAML read lines 2-3 as one string: \"unix:q.sock,server=on wait=off\" (a line indented further than its item's \"-\" continues it)",
    );
    // A one-line item's message is as before.
    refuses('chardevs:\n  - ringbuf,id=0c\n', `c.yaml:2: chardevs[0]: Parameter 'id' expects an identifier\n${idHint}`);
  });

  test("keeps integers exact and passes big ones to the validator as QMP's parser would", () => {
    const { config } = parse('chardevs:\n  - { id: x, backend: { type: ringbuf, data: { size: 0x10000 } } }\n');
    assert.deepEqual(config.chardevs[0], { form: 'object', origin: "c.yaml:2: chardevs[0] (id 'x')", id: 'x', backend: { type: 'ringbuf', data: { size: 65536 } } });
    refuses(
      'chardevs:\n  - { id: x, backend: { type: ringbuf, data: { size: 99999999999999999999999 } } }\n',
      "c.yaml:2: chardevs[0] (id 'x'): Invalid parameter type for 'backend.data.size', expected: integer",
    );
  });

  test('checks -chardev strings as the command line does, warnings included', () => {
    refuses('chardevs:\n  - ringbuf,id=a,bogus=1\n', "c.yaml:2: chardevs[0]: Invalid parameter 'bogus'");
    refuses(
      "chardevs:\n  - 'ringbuf,id=1x'\n",
      "c.yaml:2: chardevs[0]: Parameter 'id' expects an identifier\nIdentifiers consist of letters, digits, '-', '.', '_', starting with a letter.",
    );
    const { config, warnings } = parse('chardevs:\n  - socket,id=s,path=s.sock,server,nowait\n');
    assert.deepEqual(warnings, [
      "c.yaml:2: chardevs[0] (id 's'): warning: short-form boolean option 'server' deprecated\nPlease use server=on instead",
      "c.yaml:2: chardevs[0] (id 's'): warning: short-form boolean option 'nowait' deprecated\nPlease use wait=off instead",
    ]);
    // Printed once: creating the chardev later does not repeat them.
    assert.equal(config.chardevs[0]?.form === 'option' && config.chardevs[0].checkedWarnings, 2);
  });

  test('refuses help requests in chardev strings', () => {
    refuses('chardevs:\n  - help\n', 'c.yaml:2: chardevs[0]: help is for the command line: run chardevd -chardev help');
    refuses('chardevs:\n  - ringbuf,help\n', 'c.yaml:2: chardevs[0]: help is for the command line: run chardevd -chardev help');
  });

  test("refuses a duplicate id with the command line's words", () => {
    refuses("chardevs:\n  - ringbuf,id=a\n  - { id: a, backend: { type: 'null', data: {} } }\n", "c.yaml:3: chardevs[1] (id 'a'): Duplicate ID 'a' for chardev");
  });

  test('refuses YAML values that JSON cannot hold', () => {
    refuses(
      'chardevs:\n  - { id: x, backend: { type: ringbuf, data: !!set { a } } }\n',
      "c.yaml:2: chardevs[0] (id 'x'): a YAML set has no JSON form, and chardev-add's arguments are JSON",
    );
    refuses(
      'chardevs:\n  - { id: x, backend: { type: ringbuf, data: { size: !!binary aGk= } } }\n',
      "c.yaml:2: chardevs[0] (id 'x'): YAML binary data has no JSON form, and chardev-add's arguments are JSON",
    );
  });

  test('names the line of an alias, not of its anchor', () => {
    refuses("chardevs:\n  - &r { id: a, backend: { type: 'null', data: {} } }\n  - *r\n", "c.yaml:3: chardevs[1] (id 'a'): Duplicate ID 'a' for chardev");
  });

  test('refuses items that are neither strings nor objects', () => {
    const expected = "expected a -chardev string (ringbuf,id=console0) or chardev-add's arguments ({ id: console0, backend: { type: ringbuf, data: {} } })";
    refuses('chardevs:\n  - 5\n', `c.yaml:2: chardevs[0]: ${expected}`);
    refuses('chardevs:\n  - [ringbuf]\n', `c.yaml:2: chardevs[0]: ${expected}`);
    refuses('chardevs:\n  - null\n', `c.yaml:2: chardevs[0]: ${expected} (YAML reads this item as null: quote a string)`);
  });

  test('checks listeners as -qmp does', () => {
    refuses('qmp:\n  - unix:q.sock,server=on,bogus=1\n', "c.yaml:2: qmp[0]: Invalid parameter 'bogus'");
    refuses(
      'qmp:\n  - unix:q.sock\n',
      'c.yaml:2: qmp[0]: a config file takes QMP listeners (add server=on) or chardev:ID (a chardev of the file); the other forms are for the command line',
    );
    refuses('qmp:\n  - { path: q.sock }\n', 'c.yaml:2: qmp[0]: expected a string in -qmp syntax, such as "unix:chardevd-qmp.sock,server=on,wait=off" or "chardev:qmon"');
  });

  test('reads demux services as -demux-service strings or demux-service-add objects, and refuses bad ones with the line', () => {
    const text = ['demux-services:', '  - dm0,name=echo,connect=unix:echo.sock', "  - { device: dm0, name: ssh, port: 22, connect: 'tcp:127.0.0.1:22' }", ''].join('\n');
    assert.deepEqual(parse(text).config.demuxServices, [
      { service: { device: 'dm0', name: 'echo', connect: 'unix:echo.sock' }, origin: 'c.yaml:2: demux-services[0]' },
      { service: { device: 'dm0', name: 'ssh', port: 22, connect: 'tcp:127.0.0.1:22' }, origin: 'c.yaml:3: demux-services[1]' },
    ]);
    refuses('demux-services:\n  - dm0,connect=unix:x\n', "c.yaml:2: demux-services[0]: Parameter 'name' is missing");
    refuses('demux-services:\n  - dm0,name=x,colour=red\n', "c.yaml:2: demux-services[0]: Invalid parameter 'colour'");
    refuses('demux-services:\n  - { device: dm0, name: x, port: -1 }\n', "c.yaml:2: demux-services[0]: Parameter 'port' expects uint32");
  });

  test('refuses a bad shape, naming the key', () => {
    refuses('qmps: []\n', "c.yaml:1: unknown key 'qmps' (the keys are objects, qmp, hmp, chardevs, devices, demux-services, web)");
    refuses('chardevs: []\nextra: 1\n', "c.yaml:2: unknown key 'extra' (the keys are objects, qmp, hmp, chardevs, devices, demux-services, web)");
    refuses('qmp: unix:q.sock,server=on\n', "c.yaml:1: 'qmp' must be a list");
    refuses('chardevs: { id: a }\n', "c.yaml:1: 'chardevs' must be a list");
    refuses('- a\n- b\n', 'c.yaml:1: expected a mapping with the keys objects, qmp, hmp, chardevs, devices, demux-services, web');
    refuses('just text\n', 'c.yaml:1: expected a mapping with the keys objects, qmp, hmp, chardevs, devices, demux-services, web');
  });

  test('reads human monitors in -monitor syntax: listeners and chardevs', () => {
    const { config } = parse('hmp:\n  - unix:m.sock,server=on,wait=off\n  - chardev:serial0\n');
    assert.deepEqual(config.monitors, [
      {
        origin: 'c.yaml:2: hmp[0]',
        target: { type: 'listener', option: { address: { type: 'unix', path: 'm.sock' }, wait: false }, text: 'unix:m.sock,server=on,wait=off' },
      },
      { origin: 'c.yaml:3: hmp[1]', target: { type: 'chardev', id: 'serial0', mode: 'readline', pretty: false } },
    ]);
    refuses(
      'hmp:\n  - unix:m.sock\n',
      'c.yaml:2: hmp[0]: a config file takes monitor listeners (add server=on) or chardev:ID (a chardev of the file); the other forms are for the command line',
    );
    refuses(
      'hmp:\n  - { chardev: x }\n',
      'c.yaml:2: hmp[0]: expected a string in -monitor syntax, such as "unix:chardevd-hmp.sock,server=on,wait=off" or "chardev:serial0"',
    );
  });

  test('reads QMP monitors on chardevs of the file as chardev:ID, among the QMP listeners', () => {
    const { config } = parse('qmp:\n  - unix:q.sock,server=on,wait=off\n  - chardev:qmon\nhmp:\n  - chardev:serial0\n');
    assert.deepEqual(
      config.qmp.map((q) => q.option.address),
      [{ type: 'unix', path: 'q.sock' }],
    );
    assert.deepEqual(config.monitors, [
      { origin: 'c.yaml:5: hmp[0]', target: { type: 'chardev', id: 'serial0', mode: 'readline', pretty: false } },
      { origin: 'c.yaml:3: qmp[1]', target: { type: 'chardev', id: 'qmon', mode: 'control', pretty: false } },
    ]);
  });

  test('refuses bad YAML with its line and column, on one line', () => {
    refuses('chardevs:\n  - foo: [1, 2\n', 'c.yaml:3:1: Flow sequence in block collection must be sufficiently indented and end with a ]');
    refuses('qmp: []\nqmp: []\n', 'c.yaml:2:1: Map keys must be unique');
    refuses('qmp: []\n---\nqmp: []\n', 'c.yaml:2:1: Source contains multiple documents; please use YAML.parseAllDocuments()');
    refuses('chardevs:\n  - !mine ringbuf,id=a\n', 'c.yaml:2:5: Unresolved tag: !mine');
  });

  test('reads the chardevd.yaml that npm start uses', () => {
    const path = fileURLToPath(new URL('../../../../chardevd.yaml', import.meta.url));
    const config = readConfigFile(path, () => assert.fail('no warnings expected'));
    assert.deepEqual(
      config.qmp.map((q) => q.option),
      // Unix sockets only: a TCP listener would let every local user in.
      [{ address: { type: 'unix', path: 'chardevd-qmp.sock' }, wait: false }],
    );
    assert.deepEqual(
      config.monitors.map((m) => m.target),
      [{ type: 'listener', option: { address: { type: 'unix', path: 'chardevd-hmp.sock' }, wait: false }, text: 'unix:chardevd-hmp.sock,server=on,wait=off' }],
    );
    assert.deepEqual(
      config.chardevs.map((c) => (c.form === 'object' ? [c.id, c.backend] : [c.id, c.text])),
      [
        ['console0-log', { type: 'ringbuf', data: { size: 65536 } }],
        // The console is a hub, so `console console0` joins it beside the log instead of being refused.
        ['console0', 'hub,id=console0,chardevs.0=console0-log'],
        ['guest0', 'socket,id=guest0,path=chardevd-console.sock,server=on,wait=off'],
      ],
    );
    assert.deepEqual(
      config.devices.map((d) => [d.id, Object.fromEntries(d.properties)]),
      [['console0-link', { driver: 'link', chardev: 'guest0', peer: 'console0' }]],
    );
  });

  test('takes objects as -object strings or object-add arguments; refuses a bad one and a taken id, naming the item', () => {
    const { config } = parse(`
objects:
  - tls-creds-anon,id=n0,endpoint=server
  - { qom-type: authz-list, id: a0, rules: [ { match: "O=Example,CN=*", policy: allow, format: glob } ] }
`);
    assert.deepEqual(config.objects, [
      { origin: "c.yaml:3: objects[0] (id 'n0')", options: { 'qom-type': 'tls-creds-anon', id: 'n0', endpoint: 'server' } },
      {
        origin: "c.yaml:4: objects[1] (id 'a0')",
        options: { 'qom-type': 'authz-list', id: 'a0', rules: [{ match: 'O=Example,CN=*', policy: 'allow', format: 'glob' }] },
      },
    ]);
    refuses('objects:\n  - bogus,id=x\n', "c.yaml:2: objects[0]: Parameter 'qom-type' does not accept value 'bogus'");
    refuses('objects:\n  - { qom-type: authz-simple, id: a }\n', "c.yaml:2: objects[0]: Parameter 'identity' is missing");
    refuses('objects:\n  - authz-list,id=a\n  - authz-list,id=a\n', "c.yaml:3: objects[1] (id 'a'): attempt to add duplicate property 'a' to object (type 'container')");
    assert.throws(() => parse('objects:\n  - 5\n'), /c\.yaml:2: objects\[0\]: expected a -object string/);
  });
});

suite('readConfigFile', () => {
  test('names the file when it cannot be read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chardevd-config-'));
    try {
      const missing = join(dir, 'missing.yaml');
      assert.throws(() => readConfigFile(missing, () => {}), new ConfigError(`${missing}: cannot read config file: No such file or directory`));
      assert.throws(() => readConfigFile(dir, () => {}), new ConfigError(`${dir}: cannot read config file: Is a directory`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('refuses a file above the size limit before reading it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chardevd-config-'));
    try {
      const big = join(dir, 'big.yaml');
      writeFileSync(big, `# ${'x'.repeat(MAX_CONFIG_BYTES)}\n`); // 3 bytes over the limit
      assert.throws(
        () => readConfigFile(big, () => {}),
        new ConfigError(`${big}: config file too large (${MAX_CONFIG_BYTES + 3} bytes; the limit is ${MAX_CONFIG_BYTES})`),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
