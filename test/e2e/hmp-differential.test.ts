import { NEGOTIATE, type Transcript } from '../support/qmp-transcript.js';
import { differentialSuite } from '../support/differential-suite.js';

/**
 * Human monitor commands that QEMU 7.2 also has, sent with
 * human-monitor-command to QEMU and to chardevd: the output text must be
 * the same, error messages included. Normalised: each server's temporary
 * directory, the version line, and `info chardev`, whose order is QEMU's
 * hash order and which lists QEMU's own monitor chardevs.
 */

/** The request as pure ASCII: the transcript is written as Latin-1, so other characters travel as \\u escapes. */
const hmp = (line: string): string =>
  JSON.stringify({ execute: 'human-monitor-command', arguments: { 'command-line': line } }).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
const INFO_CHARDEV = '{"execute":"human-monitor-command","arguments":{"command-line":"info chardev"},"id":"info-chardev"}';

const transcripts: Transcript[] = [
  {
    name: 'help for single commands, unknown commands, blank lines',
    steps: [
      NEGOTIATE,
      hmp('help chardev-add'),
      hmp('help chardev-change'),
      hmp('help chardev-remove'),
      hmp('help chardev-send-break'),
      hmp('help ringbuf_read'),
      hmp('? ringbuf_write'),
      hmp('help info chardev'),
      hmp('help info version'),
      hmp('help info history'),
      hmp('info history'),
      hmp('help help'),
      hmp('help ?'),
      hmp('help quit'),
      hmp('help q'),
      hmp('help chardev-add extra words'),
      hmp('help  chardev-add'),
      hmp('help foo'),
      hmp('help info foo'),
      hmp('help "unterminated'),
      hmp('help a b c d e f g h i j k l m n o p q'),
      hmp('foo'),
      hmp('foo bar'),
      hmp('  foo'),
      hmp('info foo'),
      hmp(''),
      hmp('   '),
      hmp('info chardev extra'),
      hmp('info version\nfoo'),
      hmp('quit extra'),
      hmp('q extra'),
      // cpu-index 0 is a documented difference (chardevd ignores it, for qmp-shell -H); every other index gets QEMU's error.
      '{"execute":"human-monitor-command","arguments":{"command-line":"info version","cpu-index":1}}',
      '{"execute":"human-monitor-command","arguments":{"command-line":"info version","cpu-index":-1}}',
      '{"execute":"human-monitor-command","arguments":{}}',
      '{"execute":"human-monitor-command","arguments":{"command-line":5}}',
    ],
  },
  {
    name: 'chardev-add: -chardev strings, their errors and warnings',
    steps: [
      NEGOTIATE,
      hmp('chardev-add'),
      hmp('chardev-add ringbuf,id=r1'),
      hmp('chardev-add ringbuf,id=r1'),
      hmp('chardev-add ringbuf,id=r2,size=5'),
      hmp('chardev-add ringbuf,id=r3,bogus=1'),
      hmp('chardev-add ringbuf,id=0r'),
      hmp('chardev-add ringbuf,id=a,,b'),
      hmp('chardev-add ringbuf'),
      hmp('chardev-add foo,id=f'),
      hmp('chardev-add id=x9'),
      hmp('chardev-add ringbuf,id=r4,size=abc'),
      hmp('chardev-add socket,id=s0,server,nowait,path=$DIR/s0.sock'),
      hmp('chardev-add ringbuf,id=r5 extra'),
      hmp('chardev-add "ringbuf,id=r6"'),
      hmp('chardev-add "ringbuf,id=r7" '),
      hmp('chardev-add file,id=f1'),
      hmp('chardev-add file,id=f1,path=$DIR/missing/x'),
      hmp('chardev-add file,id=f2,path=$DIR/f2.log'),
      hmp('chardev-add null,id=n1'),
      hmp('chardev-add ringbuf,id=r8,size=8,logfile=$DIR/missing/l.txt'),
      INFO_CHARDEV,
    ],
  },
  {
    name: 'ringbuf_write and ringbuf_read: quoting, escaping, sizes as expressions',
    steps: [
      NEGOTIATE,
      hmp('chardev-add ringbuf,id=r1'),
      hmp('chardev-add null,id=n1'),
      hmp('ringbuf_write r1 hello'),
      hmp('ringbuf_read r1 3'),
      hmp('ringbuf_read r1 100'),
      hmp('ringbuf_read r1 100'),
      hmp('ringbuf_write r1 "a\\\\b\\"c\\nd\\re"'),
      hmp('ringbuf_read r1 100'),
      hmp('ringbuf_write r1 "it\\\'s"'),
      hmp('ringbuf_read r1 100'),
      hmp('ringbuf_write r1 "a\\tb"'),
      hmp('ringbuf_write r1 "unterminated'),
      hmp('ringbuf_write r1 "x"y'),
      hmp('ringbuf_write r1'),
      hmp('ringbuf_write'),
      hmp('ringbuf_write r1 a b'),
      hmp('ringbuf_write r1 caf\u00e9\u20ac'),
      hmp('ringbuf_read r1 5'),
      hmp('ringbuf_read r1 100'),
      hmp('ringbuf_write r1 tab\tseparated'),
      hmp('ringbuf_write r1 "del\u007f"'),
      hmp('ringbuf_read r1 100'),
      hmp('ringbuf_read r1'),
      hmp('  ringbuf_read  r1'),
      hmp('ringbuf_read r1 abc'),
      hmp('ringbuf_read r1 -1'),
      hmp('ringbuf_read r1 0'),
      hmp('ringbuf_read r1 0x10'),
      hmp('ringbuf_read r1 010'),
      hmp('ringbuf_read r1 09'),
      hmp('ringbuf_read r1 0x'),
      hmp('ringbuf_read r1 4294967296'),
      hmp('ringbuf_read r1 0xffffffff'),
      hmp('ringbuf_read r1 ~0'),
      hmp('ringbuf_read r1 2+3*4'),
      hmp('ringbuf_read r1 (1'),
      hmp('ringbuf_read r1 (2+3)*4 - 1'),
      hmp("ringbuf_read r1 'a"),
      hmp("ringbuf_read r1 'a'"),
      hmp("ringbuf_read r1 ''"),
      hmp('ringbuf_read r1 $pc'),
      hmp('ringbuf_read r1 1/0'),
      hmp('ringbuf_read r1 5%0'),
      hmp('ringbuf_read r1 99999999999999999999'),
      hmp('ringbuf_read r1 1 2'),
      hmp('ringbuf_read nope 1'),
      hmp('ringbuf_write nope x'),
      hmp('ringbuf_read n1 1'),
      hmp('ringbuf_write n1 x'),
    ],
  },
  {
    name: 'chardev-remove, chardev-send-break and chardev-change',
    steps: [
      NEGOTIATE,
      hmp('chardev-add ringbuf,id=r1'),
      hmp('chardev-add null,id=n1'),
      hmp('chardev-remove'),
      hmp('chardev-remove nope'),
      hmp('chardev-remove r1'),
      hmp('chardev-remove r1'),
      hmp('chardev-remove r1 extra'),
      hmp('chardev-send-break'),
      hmp('chardev-send-break n1'),
      hmp('chardev-send-break nope'),
      hmp('chardev-change'),
      hmp('chardev-change n1'),
      hmp('chardev-change nope ringbuf'),
      hmp('chardev-change n1 ringbuf,id=x'),
      hmp('chardev-change n1 bogus'),
      hmp('chardev-change n1 ringbuf,bogus=1'),
      hmp('chardev-change n1 ringbuf,size=3'),
      hmp('chardev-change n1 ringbuf,size=16'),
      hmp('ringbuf_write n1 changed'),
      hmp('ringbuf_read n1 100'),
      hmp('chardev-change n1 file,path=$DIR/missing/x'),
      INFO_CHARDEV,
    ],
  },
  {
    name: 'object_add and object_del: key=value and JSON objects, their errors',
    steps: [
      NEGOTIATE,
      hmp('help object_add'),
      hmp('help object_del'),
      hmp('object_add'),
      hmp('object_add authz-simple,id=a1,identity=CN=bob'),
      hmp('object_add authz-simple,id=a1,identity=CN=bob'),
      hmp('object_add qom-type=authz-simple,id=a2,identity=spaces are kept'),
      hmp('object_add {"qom-type": "authz-list", "id": "l1", "rules": [{"match": "CN=*", "policy": "allow", "format": "glob"}]}'),
      hmp('object_add authz-list,id=l2,policy=allow,rules.0.match=x,rules.0.policy=deny'),
      hmp('object_add tls-creds-anon,id=t1,endpoint=server'),
      hmp('object_add nope,id=x'),
      hmp('object_add authz-simple'),
      hmp('object_add authz-simple,id=a3'),
      hmp('object_add authz-simple,id=a3,identity=x,bogus=1'),
      hmp('object_add authz-simple,id=3a,identity=x'),
      hmp('object_add authz-list,id=l3,policy=maybe'),
      hmp('object_add tls-creds-anon,id=t2,endpoint=bogus'),
      hmp('object_add tls-creds-anon,id=t2,verify-peer=maybe'),
      hmp('object_add tls-creds-x509,id=t3,dir=$DIR/nonexistent'),
      hmp('object_add ,id=t4'),
      hmp('object_add authz-simple,id=a4,identity=x,1x=2'),
      hmp('object_add authz-list,id=l4,rules.0.1x=a'),
      hmp('object_add authz-simple,id=a4,identity'),
      '{"execute":"qom-get","arguments":{"path":"/objects/a2","property":"identity"}}',
      '{"execute":"qom-get","arguments":{"path":"/objects/l2","property":"rules"}}',
      hmp('object_del'),
      hmp('object_del a1'),
      hmp('object_del a1'),
      hmp('object_del a2 extra'),
      hmp('object_del l1'),
      hmp('object_del t1'),
    ],
  },
];

/** Replaces what differs between two servers whatever they are: versions, and info chardev's order and extra entries. */
function normaliseRun(lines: readonly string[]): string[] {
  return lines.map((line) => {
    const reply = JSON.parse(line) as { return?: unknown; id?: unknown };
    if (typeof reply.return !== 'string') return line;
    if (reply.id === 'info-chardev') {
      const entries = reply.return.split('\r\n').filter((entry) => entry !== '' && !entry.startsWith('compat_monitor'));
      return JSON.stringify({ return: entries.sort(), id: reply.id });
    }
    return JSON.stringify({ ...reply, return: reply.return.replace(/^\d+\.\d+\.\d+\S*( .*)?\r\n$/, '<version>\r\n') });
  });
}

differentialSuite('human monitor commands: chardevd answers as QEMU 7.2', transcripts, normaliseRun);
