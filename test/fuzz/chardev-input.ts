import fc from 'fast-check';

/**
 * Hostile `-chardev` values: real backend names and option names (QEMU's
 * and chardevd's), with values at the corners of QEMU's option parsers:
 * empty, commas and doubled commas, numbers past every width, hex and
 * octal, size suffixes, signs, white space and Unicode.
 */

const BACKENDS = [
  'file',
  'serial',
  'parallel',
  'pipe',
  'socket',
  'udp',
  'pty',
  'null',
  'mux',
  'hub',
  'msmouse',
  'wctablet',
  'braille',
  'testdev',
  'stdio',
  'console',
  'spicevmc',
  'spiceport',
  'qemu-vdagent',
  'dbus',
  'vc',
  'ringbuf',
  'memory',
  // Aliases, abstract classes, help and what is none of those.
  'tty',
  'parport',
  'fd',
  'spice',
  'help',
  '?',
  '',
  'FILE',
  'nosuch',
  'ringbuf ',
];

const OPTIONS = [
  'backend',
  'path',
  'host',
  'port',
  'fd',
  'localaddr',
  'localport',
  'to',
  'ipv4',
  'ipv6',
  'wait',
  'server',
  'delay',
  'nodelay',
  'reconnect',
  'telnet',
  'tn3270',
  'tls-creds',
  'tls-authz',
  'websocket',
  'width',
  'height',
  'cols',
  'rows',
  'mux',
  'signal',
  'name',
  'debug',
  'size',
  'chardev',
  'append',
  'logfile',
  'logappend',
  'mouse',
  'clipboard',
  'tight',
  'abstract',
  'logsize',
  'logbackups',
  'input-path',
  'reconnect-ms',
  'clients',
  'chardevs.0',
  'chardevs.3',
  'chardevs.4',
  'chardevs.255',
  'backpressure',
  'queue-size',
  'history',
];

/** Names no backend takes, or that mean something else. */
const ODD_OPTIONS = ['chardevs.256', 'chardevs.01', 'chardevs.-1', 'id', 'help', '?', 'nosuch', '', 'ID', 'Path'];

const VALUES = [
  '',
  'on',
  'off',
  'yes',
  'no',
  'true',
  'ON',
  '0',
  '1',
  '-1',
  '+1',
  '-0',
  ' 1',
  '1 ',
  '\t1',
  '65535',
  '65536',
  '99999',
  '4294967295',
  '4294967296',
  '9223372036854775807',
  '18446744073709551615',
  '18446744073709551616',
  '999999999999999999999999999999',
  '0x',
  '0x10',
  '0X1f',
  '0xfffffffffffffffff',
  '010',
  '08',
  '0b1',
  '1e3',
  '1.5',
  '.5',
  '1k',
  '1K',
  '1M',
  '1G',
  '1T',
  '1P',
  '1E',
  '16E',
  '17E',
  '1.5M',
  '0.5k',
  '1b',
  '1B',
  '1kk',
  '1 k',
  'k',
  'NaN',
  'Infinity',
  'undefined',
  'null',
  '__proto__',
  'é',
  '😀',
  '\ud800',
  '\u200b',
  'a,,b',
  ',,',
  '=',
  'a=b',
  '127.0.0.1',
  '::1',
  '[::1]',
  'localhost',
  'r0',
  'c0',
  'x'.repeat(300),
  '9'.repeat(400),
];

const IDS = ['c0', 'a', 'a-b.c_d', '9x', '', 'a b', 'é', '-a', 'a'.repeat(200), 'help', 'id'];

const BOOLEAN_OPTIONS = new Set([
  'ipv4',
  'ipv6',
  'wait',
  'server',
  'delay',
  'nodelay',
  'telnet',
  'tn3270',
  'websocket',
  'mux',
  'signal',
  'append',
  'logappend',
  'mouse',
  'clipboard',
  'tight',
  'abstract',
  'backpressure',
]);
const NUMBER_OPTIONS = new Set(['to', 'reconnect', 'width', 'height', 'cols', 'rows', 'debug', 'logbackups', 'reconnect-ms', 'clients', 'port', 'localport']);
const SIZE_OPTIONS = new Set(['size', 'logsize', 'queue-size', 'history']);

/** A hostile value, as written (a comma in it is written doubled or not, at random). */
const hostileValue: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...VALUES), weight: 6 },
  { arbitrary: fc.string({ maxLength: 8 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 4 }), weight: 1 },
  { arbitrary: fc.bigInt({ min: -(2n ** 66n), max: 2n ** 66n }).map(String), weight: 1 },
);

/** A value of the option's own kind, which gets the parse past the option checks to the backend's. */
function plausibleValue(name: string): fc.Arbitrary<string> {
  if (BOOLEAN_OPTIONS.has(name)) return fc.constantFrom('on', 'off');
  if (NUMBER_OPTIONS.has(name)) return fc.oneof(fc.constantFrom('0', '1', '80', '4444', '65535'), fc.nat(100_000).map(String));
  if (SIZE_OPTIONS.has(name)) return fc.constantFrom('0', '1', '64', '1k', '64K', '1M', '65536', '1023');
  if (name === 'host' || name === 'localaddr') return fc.constantFrom('127.0.0.1', 'localhost', '::1', '', '0.0.0.0');
  return fc.constantFrom('c0', 'x', 'dev', 'chardevd-fuzz', '', 'r0');
}

const optionName = fc.oneof({ arbitrary: fc.constantFrom(...OPTIONS), weight: 8 }, { arbitrary: fc.constantFrom(...ODD_OPTIONS), weight: 1 });

const option: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: optionName.chain((name) => plausibleValue(name).map((v) => `${name}=${v}`)), weight: 8 },
  { arbitrary: fc.tuple(optionName, hostileValue).map(([name, v]) => `${name}=${v}`), weight: 3 },
  // A bare word (a deprecated boolean: `server`, `nowait`), and an option without a value.
  { arbitrary: optionName, weight: 1 },
  { arbitrary: optionName.map((name) => `no${name}`), weight: 1 },
  { arbitrary: optionName.map((name) => `${name}=`), weight: 1 },
);

const idOption: fc.Arbitrary<string> = fc.oneof({ arbitrary: fc.constant('c0'), weight: 4 }, { arbitrary: fc.constantFrom(...IDS), weight: 1 }).map((id) => `id=${id}`);

/** A `-chardev` value: mostly a backend, an id and some options, separated by one comma (now and then two or none). */
export const chardevText: fc.Arbitrary<string> = fc
  .tuple(
    fc.option(fc.constantFrom(...BACKENDS), { freq: 10 }),
    fc.option(idOption, { freq: 10 }),
    fc.array(fc.tuple(option, fc.constantFrom(',', ',', ',', ',', ',', ',', ',', ',,', '')), { maxLength: 5 }),
    fc.nat(5),
    fc.boolean(),
  )
  .map(([backend, id, options, idAt, trailing]) => {
    const parts = options.slice();
    if (id !== null) parts.splice(Math.min(idAt, parts.length), 0, [id, ',']);
    let text = backend ?? '';
    for (const [opt, separator] of parts) text += text === '' ? opt : `${separator}${opt}`;
    return trailing ? `${text},` : text;
  });
