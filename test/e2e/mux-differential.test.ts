import assert from 'node:assert/strict';
import { join } from 'node:path';
import { suite, test } from 'node:test';
import { MonitorClient } from '../support/monitor-client.js';
import { differentialSuite } from '../support/differential-suite.js';
import { NEGOTIATE, sortQueryChardev, type Transcript } from '../support/qmp-transcript.js';
import { qemuSkipReason, type ServerProcess, startChardevd, startQemu, untilListening } from '../support/servers.js';

/**
 * Muxes seen through QMP, sent to QEMU 7.2 and to chardevd, both started
 * with `-chardev ringbuf,id=m,mux=on`: the `m` and `m-base` pair in
 * query-chardev, QMP's mux backend, HMP's `mux=on`, and the rules for
 * removing and changing a mux and its base. query-chardev is compared
 * sorted (QEMU's order is a hash order), without QEMU's monitor chardev.
 */

const add = (id: string, backend: string): string => `{"execute":"chardev-add","arguments":{"id":"${id}","backend":${backend}}}`;
const mux = (base: string): string => `{"type":"mux","data":{"chardev":"${base}"}}`;
const hmp = (line: string): string => `{"execute":"human-monitor-command","arguments":{"command-line":"${line}"}}`;
const QUERY = '{"execute":"query-chardev","id":"query"}';

const transcripts: Transcript[] = [
  {
    name: 'mux=on on the command line: ID and ID-base, both busy, neither swappable',
    steps: [
      NEGOTIATE,
      QUERY,
      '{"execute":"chardev-remove","arguments":{"id":"m"}}',
      '{"execute":"chardev-remove","arguments":{"id":"m-base"}}',
      '{"execute":"chardev-change","arguments":{"id":"m","backend":{"type":"null","data":{}}}}',
      '{"execute":"chardev-change","arguments":{"id":"m-base","backend":{"type":"null","data":{}}}}',
      '{"execute":"chardev-send-break","arguments":{"id":"m"}}',
      '{"execute":"ringbuf-write","arguments":{"device":"m","data":"x"}}',
      '{"execute":"ringbuf-read","arguments":{"device":"m","size":10}}',
      '{"execute":"ringbuf-write","arguments":{"device":"m-base","data":"x"}}',
      '{"execute":"ringbuf-read","arguments":{"device":"m-base","size":10}}',
    ],
  },
  {
    name: 'QMP mux backend: on a free base, on a base in use, on a missing base, on another mux',
    steps: [
      NEGOTIATE,
      add('b1', '{"type":"ringbuf","data":{}}'),
      add('x1', mux('b1')),
      add('x2', mux('b1')),
      add('x3', mux('nope')),
      add('x4', mux('x1')),
      add('x5', '{"type":"mux","data":{}}'),
      add('x6', '{"type":"mux","data":{"chardev":"b1","logfile":"$DIR/log"}}'),
      QUERY,
      '{"execute":"chardev-remove","arguments":{"id":"x1"}}',
      '{"execute":"chardev-remove","arguments":{"id":"b1"}}',
    ],
  },
  {
    name: 'HMP chardev-add with mux=on, and its mistakes',
    steps: [
      NEGOTIATE,
      hmp('chardev-add ringbuf,id=h,mux=on'),
      hmp('chardev-add mux,id=h2'),
      hmp('chardev-add null,id=hb'),
      hmp('chardev-add mux,id=h3,chardev=hb'),
      hmp('chardev-add mux,id=h4,chardev=hb'),
      hmp('chardev-add mux,id=h5,chardev=nope'),
      hmp('chardev-add null,id=h,mux=on'),
      hmp('chardev-add null,id=m2-base'),
      hmp('chardev-add null,id=m2,mux=on'),
      hmp('chardev-add ringbuf,id=r5,size=5,mux=on'),
      hmp('chardev-remove h'),
      hmp('chardev-change h null'),
      QUERY,
    ],
  },
];

/** QEMU's own -qmp chardev is left out: chardevd's -qmp is a listener, not a chardev. */
const normalise = (lines: readonly string[]): string[] => sortQueryChardev(lines, (label) => label.startsWith('compat_monitor'));

differentialSuite('mux transcripts: chardevd answers as QEMU 7.2', transcripts, normalise, undefined, ['-chardev', 'ringbuf,id=m,mux=on']);

/**
 * The screen of two human monitors on one mux=on socket, keystroke by
 * keystroke, from QEMU 7.2 and from chardevd: the focused monitor's
 * banner and prompt on connect, the escape key then c flushing what the
 * other held (its startup banner too) with a fresh prompt, the newline
 * when a monitor loses the focus, the help. With `-echr` another key
 * escapes and the help names it (C-t; 0x1d is no control letter, so the
 * help prints its code), while Ctrl-A reaches the monitor as a key.
 * Names differ (QEMU's banner, version and prompt); everything else must
 * be the same bytes.
 */
suite('two monitors on one mux: the same screen as QEMU 7.2', { skip: qemuSkipReason() }, () => {
  /** Each step: keys, and how the output ends once the step is done; `E` stands for the escape key. */
  const steps = (escape: string, helpEnd: string): readonly (readonly [string, string])[] =>
    (
      [
        ['Ec', ') '],
        ['help ringbuf_write\r', ') '],
        ['Ec', ') '],
        ['x', 'x\x1b[K'],
        ['Ec', ') '],
        ['Eh', helpEnd],
        ['Ec', ') '],
      ] as const
    ).map(([keys, end]) => [keys.replaceAll('E', escape), end] as const);

  async function screen(server: ServerProcess, prompt: string, keys: readonly (readonly [string, string])[]): Promise<string> {
    const path = join(server.dir, 'con.sock');
    await untilListening(path);
    const client = await MonitorClient.open(path, prompt);
    try {
      for (const [step, end] of keys) {
        const from = client.received.length;
        client.send(step);
        await client.until(() => client.received.length > from && client.received.endsWith(end), `the output of ${JSON.stringify(step)}`);
      }
      return client.received;
    } finally {
      client.close();
    }
  }

  async function playKeys(start: typeof startQemu, prompt: string, echr: readonly string[], keys: readonly (readonly [string, string])[]): Promise<string> {
    const server = await start((dir) => [
      ...echr,
      '-chardev',
      `socket,id=con,path=${join(dir, 'con.sock')},server=on,wait=off,mux=on`,
      '-mon',
      'chardev=con',
      '-mon',
      'chardev=con',
    ]);
    try {
      return (await screen(server, prompt, keys)).replace(/^(QEMU|chardevd) \S+ monitor/gm, 'NAME monitor').replace(/\((qemu|chardevd)\) /g, '(PROMPT) ');
    } finally {
      await server.stop();
    }
  }

  for (const [name, echr, keys] of [
    ['Ctrl-A', [], steps('\x01', 'sends C-a\n\r')],
    ["-echr 20 (Ctrl-T; Ctrl-A moves the monitor's cursor home)", ['-echr', '20'], [...steps('\x14', 'sends C-t\n\r'), ['ab\x01c\r', ') ']] as const],
    ['-echr 0x1d (no control letter)', ['-echr', '0x1d'], steps('\x1d', 'sends Escape-Char\n\r')],
  ] as const) {
    test(`focus switches, held banners, newlines, prompts and help come out byte for byte as from QEMU: ${name}`, async () => {
      const theirs = await playKeys(startQemu, '(qemu) ', echr, keys);
      const ours = await playKeys(startChardevd, '(chardevd) ', echr, keys);
      assert.equal(JSON.stringify(ours), JSON.stringify(theirs));
    });
  }
});
