import fc from 'fast-check';
import { chardevText } from './chardev-input.js';

/**
 * Hostile config files: YAML documents with the four keys, good and bad
 * items mixed (strings in the option syntaxes, objects of QMP's argument
 * shape with values of every YAML type, tags, anchors and aliases), now and
 * then broken at the YAML level, and a few documents built to exhaust a
 * parser (deep nesting, an alias bomb, many keys).
 */

/** A YAML scalar as written: plain, quoted, or one of YAML's special forms. */
const scalar: fc.Arbitrary<string> = fc.oneof(
  {
    arbitrary: fc.constantFrom(
      'c0',
      'ringbuf',
      'null',
      '~',
      "''",
      'on',
      'off',
      'yes',
      'true',
      'True',
      '1.0',
      '0x10',
      '0o17',
      '1e3',
      '.inf',
      '-.nan',
      '18446744073709551616',
      '-9223372036854775809',
      '65536',
      '"\\u0000"',
      '"\\ud800"',
      '!!binary aGVsbG8=',
      '!!set { a, b }',
      '!!int 12',
      '!!float 1',
      '!!str 5',
      '!!timestamp 2001-12-14',
      '!custom x',
      '*nope',
      '|\n    literal',
      '>-\n    folded',
      "'it''s'",
      '"a\\tb"',
      '[]',
      '{}',
      '[a, [b, [c]]]',
      '{ a: 1, a: 2 }',
      '? complex\n    : key',
    ),
    weight: 5,
  },
  { arbitrary: fc.string({ maxLength: 10 }).map((text) => JSON.stringify(text)), weight: 2 },
  { arbitrary: fc.string({ maxLength: 6 }), weight: 1 },
);

/** chardev-add's arguments as a flow mapping, of the right shape or near it. */
const chardevObject: fc.Arbitrary<string> = fc
  .tuple(
    fc.oneof(fc.constantFrom('c0', 'c1', '9x', '', 'é'), scalar),
    fc.constantFrom('ringbuf', 'null', 'hub', 'mux', 'file', 'socket', "'null'", 'null', 'nosuch', 'memory'),
    fc.uniqueArray(fc.tuple(fc.constantFrom('size', 'chardevs', 'chardev', 'out', 'addr', 'server', 'wait', 'logfile', 'queue-size', 'history', 'x'), scalar), {
      maxLength: 4,
      selector: ([key]) => key,
    }),
    fc.nat(9),
  )
  .map(([id, type, data, shape]) => {
    const members = data.map(([key, value]) => `${key}: ${value}`).join(', ');
    if (shape === 0) return `{ id: ${id}, backend: ${type} }`;
    if (shape === 1) return `{ id: ${id}, backend: { type: ${type} } }`;
    if (shape === 2) return `{ id: ${id}, type: ${type}, data: { ${members} } }`;
    return `{ id: ${id}, backend: { type: ${type}, data: { ${members} } } }`;
  });

const deviceObject: fc.Arbitrary<string> = fc
  .uniqueArray(fc.tuple(fc.constantFrom('driver', 'id', 'chardev', 'peer', 'bus', 'x'), fc.oneof(fc.constantFrom('link', 'l0', 'c0', 'c1'), scalar)), {
    maxLength: 5,
    selector: ([key]) => key,
  })
  .map((pairs) => `{ ${pairs.map(([key, value]) => `${key}: ${value}`).join(', ')} }`);

const oddListener: fc.Arbitrary<string> = fc.constantFrom(
  'tcp::99999',
  'tcp:[::1]:0',
  'unix:',
  'chardev:c0',
  'chardev:',
  'stdio',
  'none',
  'vc',
  'unix:q.sock,server=maybe',
  'tcp:127.0.0.1:0,nosuch=1',
);

const listener: fc.Arbitrary<string> = fc.oneof(
  {
    arbitrary: fc.constantFrom(
      'unix:q.sock,server=on,wait=off',
      'tcp:127.0.0.1:0,server=on,wait=off',
      'chardev:c0',
      'unix:h.sock,server=on',
      'tcp:127.0.0.1:0,server=on,wait=off,tls-creds=t0,tls-authz=a0',
    ),
    weight: 3,
  },
  { arbitrary: oddListener, weight: 1 },
);

/** A string item: quoted as JSON, or written plain (a `: ` or ` #` in it then means something else to YAML). */
function stringItem(text: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.tuple(text, fc.boolean()).map(([value, plain]) => (plain ? value : JSON.stringify(value)));
}

const chardevItem = fc.oneof({ arbitrary: stringItem(chardevText), weight: 4 }, { arbitrary: chardevObject, weight: 4 }, { arbitrary: scalar, weight: 1 });
const deviceItem = fc.oneof(
  { arbitrary: stringItem(fc.constantFrom('link,id=l0,chardev=c0,peer=c1', 'link', 'link,id=9', 'nosuch,id=d0', 'link,chardev=c0')), weight: 4 },
  { arbitrary: deviceObject, weight: 4 },
  { arbitrary: scalar, weight: 1 },
);
const objectItem = fc.oneof(
  {
    arbitrary: stringItem(
      fc.constantFrom(
        'authz-simple,id=a0,identity=O=Example,,CN=x',
        'tls-creds-anon,id=t0,endpoint=server',
        'tls-creds-x509,id=t1,dir=/nonexistent,endpoint=server',
        'authz-list,id=a1,rules.0.match=*,rules.0.policy=allow',
        '{"qom-type":"authz-list","id":"a2","rules":[{"match":"x"}]}',
        'bogus,id=b',
        '{"qom-type":',
        'authz-simple,id=9',
      ),
    ),
    weight: 4,
  },
  { arbitrary: fc.constantFrom('{ qom-type: authz-simple, id: a3, identity: x }', '{ qom-type: tls-creds-psk, id: p0 }', '{ id: x }'), weight: 2 },
  { arbitrary: scalar, weight: 1 },
);
const listenerItem = fc.oneof({ arbitrary: stringItem(listener), weight: 6 }, { arbitrary: scalar, weight: 1 }, { arbitrary: stringItem(chardevText), weight: 1 });
const anyItem = fc.oneof(chardevItem, deviceItem, listenerItem, objectItem);

/** Items of the key's own kind, mostly. */
function itemsFor(key: string): fc.Arbitrary<string[]> {
  const own =
    key === 'chardevs' ? chardevItem : key === 'devices' ? deviceItem : key === 'objects' ? objectItem : key === 'qmp' || key === 'hmp' ? listenerItem : anyItem;
  return fc.array(fc.oneof({ arbitrary: own, weight: 8 }, { arbitrary: anyItem, weight: 1 }), { minLength: 1, maxLength: 5 });
}

/** The top-level keys with their values: a list of items in block or flow style, or not a list at all; each key once, mostly. */
const sections: fc.Arbitrary<string[]> = fc
  .uniqueArray(
    fc
      .oneof(
        { arbitrary: fc.constantFrom('objects', 'qmp', 'hmp', 'chardevs', 'devices'), weight: 12 },
        { arbitrary: fc.constantFrom('nosuch', 'QMP', 'chardevs'), weight: 1 },
      )
      .chain((key) => fc.tuple(fc.constant(key), itemsFor(key), fc.nat(9))),
    { minLength: 1, maxLength: 5, selector: ([key]) => key },
  )
  .map((list) =>
    list.map(([key, items, style]) => {
      if (style === 0) return `${key}: ${items[0] ?? ''}`;
      if (style === 1) return `${key}: [${items.join(', ')}]`;
      // A deeper indent for one item makes it continue the item before it.
      return `${key}:\n${items.map((item, i) => `${i === 2 && style === 2 ? '     ' : '  '}- ${item}`).join('\n')}`;
    }),
  );

/** Changes that break the YAML itself. */
const breakage: fc.Arbitrary<[number, string]> = fc.tuple(
  fc.nat(),
  fc.constantFrom(
    '\t',
    ':',
    ': ',
    '- ',
    '{',
    '}',
    '[',
    '"',
    "'",
    '&a ',
    '*a',
    '<<: *a\n',
    '!!',
    '%YAML 1.1\n',
    '---\n',
    '...\n',
    '\u0000',
    '\ufeff',
    '\r',
    '#',
    '?',
    '|',
    '@',
    '`',
  ),
);

/** Documents made to strain a parser. */
const extreme: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 1, max: 300 }).map((depth) => `chardevs: ${'['.repeat(depth)}${']'.repeat(depth)}`),
  fc.integer({ min: 1, max: 300 }).map((depth) => `chardevs:\n  - ${'{a: '.repeat(depth)}1${'}'.repeat(depth)}`),
  fc.integer({ min: 2, max: 9 }).map((levels) => {
    // The billion laughs, inside an item: each anchor names a list of ten of the one before.
    const members = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < levels; i++) members.push(`a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]`);
    return `chardevs:\n  - { id: c0, backend: { type: ringbuf, data: { ${members.join(', ')}, size: *a${levels - 1} } } }\n`;
  }),
  fc.integer({ min: 1, max: 300 }).map((count) => `chardevs:\n${Array.from({ length: count }, (_, i) => `  - null,id=c${i}`).join('\n')}\n`),
  fc.integer({ min: 1, max: 500 }).map((count) => `chardevs:\n  - ${'{'.repeat(count)}`),
);

export const configText: fc.Arbitrary<string> = fc.oneof(
  {
    arbitrary: fc.tuple(sections, fc.array(breakage, { maxLength: 3 }), fc.nat(3)).map(([list, breaks, broken]) => {
      let text = list.join('\n');
      // One document in four is broken at the YAML level.
      if (broken === 0) for (const [at, piece] of breaks) text = text.slice(0, at % (text.length + 1)) + piece + text.slice(at % (text.length + 1));
      return text;
    }),
    weight: 12,
  },
  { arbitrary: extreme, weight: 1 },
  { arbitrary: scalar, weight: 1 },
);
