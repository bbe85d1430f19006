import { test } from 'node:test';
import { compare, Connection, NEGOTIATE, type Transcript } from '../support/qmp-transcript.js';
import { differentialSuite } from '../support/differential-suite.js';

/**
 * The same QMP byte streams sent to QEMU 7.2 and to chardevd must get the
 * same bytes back. Normalised are only what legitimately differs: version
 * numbers and package strings, timestamps, and the content of the
 * command lists (each server lists its own commands).
 */

const transcripts: Transcript[] = [
  {
    name: 'a normal session: commands before negotiation, negotiation twice, query-version, query-commands, query-qmp-schema',
    steps: [
      '{"execute":"query-version"}',
      '{"execute":"nonexistent","id":1}',
      '{"execute":"qmp_capabilities","arguments":{"enable":["bogus"]}}',
      '{"execute":"qmp_capabilities","arguments":{"enable":"oob"}}',
      '{"execute":"qmp_capabilities","arguments":{"enable":[1]}}',
      '{"execute":"qmp_capabilities","arguments":{"zzz":1,"aaa":2}}',
      '{"execute":"qmp_capabilities","id":"neg"}',
      '{"execute":"qmp_capabilities","id":"again"}',
      '{"execute":"query-version","id":"v"}',
      '{"execute":"query-commands","id":"list-commands"}',
      '{"execute":"query-qmp-schema","id":"list-schema"}',
      '{"execute":"nonexistent","id":2}',
      '{"execute":"query-version","arguments":{"x":1},"id":3}',
    ],
  },
  {
    name: 'oob negotiation and exec-oob',
    steps: [
      '{"exec-oob":"qmp_capabilities"}',
      '{"execute":"qmp_capabilities","arguments":{"enable":["oob"]}}',
      '{"exec-oob":"query-version","id":"o1"}',
      '{"exec-oob":"nonexistent","id":"o2"}',
      '{"exec-oob":"query-version","execute":"query-version","id":"o3"}',
      '{"execute":"query-version","control":{"run-oob":true},"id":"o4"}',
    ],
  },
  {
    name: 'malformed JSON of every kind, and recovery',
    steps: [
      NEGOTIATE,
      '{"execute": nul}',
      '{"execute":"query-version" "id":1}',
      '{1:2}',
      '{"a":}',
      '[1,]',
      '[1 2]',
      '{"a":1,"a":2}',
      '"\\x"',
      '"\\ud800"',
      '"\xed\xa0\x80"',
      '"\xc3"',
      '\x01',
      '\xff',
      '\x00',
      '01',
      // A newline ends the broken number so that the next request starts clean.
      '-\n',
      '1.e5\n',
      '"unterminated\x0a',
      '{"execute":"query-version","id":"after-newline-in-string"}',
      ']',
      '}}',
      '{"execute":"query-version","id":1} trailing ',
      `${'['.repeat(1024)}${']'.repeat(1024)}`,
      `${'['.repeat(1025)}${']'.repeat(1025)}`,
    ],
  },
  {
    name: 'bad \\u escapes: the error quotes the escape and the four bytes after \\u, closing quote and non-ASCII included',
    steps: [
      NEGOTIATE,
      '{"execute": "\\u12"}',
      '{"execute": "\\u"}',
      '{"execute": "\\u1"}',
      '{"execute": "\\u123"}',
      "{'execute': '\\u12'}",
      '{"execute": "ok\\u00", "arguments": {}}',
      '{"execute": "\\u12G4"}',
      '{"execute": "\\u12\\u0041"}',
      '{"execute": "\\uD800\\u12"}',
      '{"execute": "\\u12\xc3\xa9"}',
      '{"execute": "\\u123\xc3\xa9"}',
      '{"execute": "\\u\xc0\x80"}',
      '{"execute": "\\u\xf0\x9f\x98\x80"}',
      '{"execute": "\\u12\xed\xa0\x80"}',
    ],
  },
  {
    name: 'non-object input and envelope errors',
    steps: [
      NEGOTIATE,
      '[1]',
      '"string"',
      '42 ',
      'true',
      'null',
      '{}',
      '{"id":5}',
      '{"execute":1,"id":6}',
      '{"execute":["x"]}',
      '{"execute":"query-version","exec-oob":"query-version"}',
      '{"execute":"query-version","arguments":[]}',
      '{"execute":"query-version","arguments":null}',
      '{"execute":"query-version","arguments":"x"}',
      '{"execute":"query-version","foo":1,"bar":2}',
      '{"execute":"query-version","control":{}}',
      '{"exec-oob":"query-version","id":7}',
    ],
  },
  {
    name: 'ids of every JSON type are echoed verbatim',
    steps: [
      NEGOTIATE,
      '{"execute":"query-version","id":"s"}',
      '{"execute":"query-version","id":-17}',
      '{"execute":"query-version","id":12345678901234567890}',
      '{"execute":"query-version","id":-9223372036854775808}',
      '{"execute":"query-version","id":123456789012345678901234}',
      '{"execute":"query-version","id":0.1}',
      '{"execute":"query-version","id":1.5e3}',
      '{"execute":"query-version","id":-0.0}',
      '{"execute":"query-version","id":1e400}',
      '{"execute":"query-version","id":{"b":1,"a":[true,false,null],"zz":{"y":1,"x":2}}}',
      '{"execute":"query-version","id":[]}',
      '{"execute":"query-version","id":{}}',
      '{"execute":"query-version","id":null}',
      '{"execute":"query-version","id":"caf\xc3\xa9 \xf0\x9f\x98\x80 \\u0001\\u007f\\u0000 \\"\\\\\\/"}',
      '{"execute":"nonexistent","id":{"k":"v"}}',
    ],
  },
  {
    name: 'framing: several objects per write, one object split across writes, quotes and whitespace',
    steps: [
      '{"execute":"qmp_capabilities"}{"execute":"query-version","id":1}{"execute":"query-version","id":2}',
      { partial: '{"exec' },
      { partial: 'ute":"query-ver' },
      'sion","id":3}',
      "{'execute':'query-version','id':'single \\' quote'}",
      ' \t\r\n{ "execute" : "query-version" ,\r\n "id" : 4 }\r\n\r\n',
    ],
  },
];

differentialSuite('QMP transcripts: chardevd answers as QEMU 7.2', transcripts, undefined, (servers) => {
  test('quit: SHUTDOWN, then the reply, then the connection closes', async () => {
    const results: string[][] = [];
    for (const server of [servers.chardevd, servers.qemu]) {
      const connection = await Connection.open(server.qmpPath);
      connection.socket.write(`${NEGOTIATE}{"execute":"quit","id":"bye"}`);
      await connection.until(() => false, 'the connection to close');
      results.push(connection.lines);
      await server.exited;
    }
    compare(results[0]!, results[1]!);
  });
});
