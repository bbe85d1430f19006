/**
 * Fan-out of a hub chardev to 1, 10 and 100 unix socket viewers, with
 * and without one more viewer that never reads, in chardevd's isolation
 * mode (the default: every viewer has its own bounded queue) and in QEMU
 * 10's mode (`backpressure=on`: the slowest member paces everyone), in
 * the same run. QEMU 7.2 has no hub, so QEMU's behaviour is measured
 * through chardevd's backpressure mode, which reproduces it.
 *
 * The data path is a real one: a source client writes into a socket
 * chardev (the guest side), a link device joins it to the hub, and each
 * viewer is a socket chardev member with a client reading it. The source
 * keeps at most a window of bytes ahead of the slowest *reading* viewer
 * (a guest writing to a terminal is slower than the viewers), so reading
 * viewers lose nothing; the stalled viewer never reads.
 *
 * Each round warms a fresh daemon up, then measures a fixed time; rounds
 * with and without the stalled viewer alternate, and its effect is the
 * median of the per-round ratios.
 *
 * Reported: MiB/s each viewer receives, the daemon's CPU per MiB,
 * per-chunk latency from the source's write to a viewer's read (p50/p99
 * over all viewers), bytes the stalled viewer dropped, and the daemon's
 * peak RSS. A last run streams
 * --stall-mib of output past a stalled viewer to show that memory stays
 * bounded.
 *
 * A second scenario (support/unpaced-fanout.ts) lets the source write as
 * fast as the relay takes it, with two reading viewers and one stalled,
 * through the hub in each mode and through ser2net 4, and reports what
 * every viewer received and lost.
 *
 * Run: npm run bench:hub-fanout [-- --scenarios paced,unpaced --seconds 2 --warmup-seconds 1 --members 1,10,100 --rounds 3 --stall-mib 256
 *      --unpaced-mib 256 --stall-timeout 1000]
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type ServerProcess, startChardevd } from '../test/support/servers.js';
import { comparisonTable } from './support/compare.js';
import { connectWithRetry } from './support/connect.js';
import { describeRun, peerVersion } from './support/machine.js';
import { qmpOnce } from './support/qmp-once.js';
import { runUnpaced, type UnpacedRelay, type UnpacedResult } from './support/unpaced-fanout.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '2' },
    members: { type: 'string', default: '1,10,100' },
    rounds: { type: 'string', default: '3' },
    'stall-mib': { type: 'string', default: '256' },
    'window-kib': { type: 'string', default: '256' },
    'warmup-seconds': { type: 'string', default: '1' },
    scenarios: { type: 'string', default: 'paced,unpaced' },
    'unpaced-mib': { type: 'string', default: '256' },
    'stall-timeout': { type: 'string', default: '1000' },
  },
});
const SCENARIOS = new Set(values.scenarios.split(','));
const UNPACED_TOTAL = Number(values['unpaced-mib']) << 20;
const STALL_TIMEOUT_MS = Number(values['stall-timeout']);
/** How long each measured round streams: equal time gives every viewer count the same precision. */
const ROUND_MS = Number(values.seconds) * 1000;
const MEMBER_COUNTS = values.members.split(',').map(Number);
const ROUNDS = Number(values.rounds);
const STALL_TOTAL = Number(values['stall-mib']) << 20;
const WINDOW = Number(values['window-kib']) << 10;
const CHUNK = 64 << 10;
const WARMUP_MS = Number(values['warmup-seconds']) * 1000;
/** How long QEMU mode gets to move data past a stalled viewer before it counts as stuck. */
const STUCK_AFTER_MS = 2000;
const WAIT_MS = 30_000;

type Mode = 'isolation' | 'qemu';

interface RoundResult {
  /** Bytes per second each reading viewer received. */
  readonly rate: number;
  readonly latencies: number[];
  /** Bytes every reading viewer received while measured. */
  readonly delivered: number;
  /** The hub stopped taking data (QEMU's mode with a stalled viewer). */
  readonly stuck: boolean;
  readonly stalledDropped: number;
  readonly readersDropped: number;
  readonly peakRssKiB: number;
  readonly rssKiB: number;
  /** Daemon CPU time (user + system) per MiB of source output, in ms: steadier than rates on a shared machine. */
  readonly cpuMsPerMiB: number;
}

interface MemberInfo {
  readonly id: string;
  readonly open: boolean;
  readonly dropped: number;
}

async function hubMembers(daemon: ServerProcess): Promise<MemberInfo[]> {
  const list = (await qmpOnce(daemon.qmpPath, 'query-chardev')) as { label: string; hub?: { members: MemberInfo[] } }[];
  return list.find((entry) => entry.label === 'h')!.hub!.members;
}

/** User + system CPU time of a process so far, in ms (/proc/PID/stat, 100 ticks per second on Linux). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function rssKiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

/** A reading viewer: counts bytes and records when each chunk boundary arrived. */
class Viewer {
  received = 0;
  readonly arrivals: number[] = [];

  constructor(
    readonly socket: Socket,
    onData: () => void,
  ) {
    socket.on('data', (data: Buffer) => {
      const before = Math.floor(this.received / CHUNK);
      this.received += data.length;
      const after = Math.floor(this.received / CHUNK);
      const now = performance.now();
      for (let k = before; k < after; k++) this.arrivals[k] = now;
      onData();
    });
    socket.on('error', () => {});
  }
}

/** One daemon, warmed up, then streaming for `ms` or until `bytes` have gone out, whichever comes first. */
async function round(members: number, mode: Mode, stalled: boolean, limit: { ms: number; bytes: number }): Promise<RoundResult> {
  const viewerIds = Array.from({ length: members }, (_, i) => `v${i}`);
  const memberIds = stalled ? [...viewerIds, 'stall'] : viewerIds;
  const daemon = await startChardevd((dir) => [
    '-chardev',
    `socket,id=guest,path=${join(dir, 'guest.sock')},server=on,wait=off`,
    ...memberIds.flatMap((id) => ['-chardev', `socket,id=${id},path=${join(dir, `${id}.sock`)},server=on,wait=off`]),
    '-chardev',
    `hub,id=h,${memberIds.map((id, i) => `chardevs.${i}=${id}`).join(',')}${mode === 'qemu' ? ',backpressure=on' : ''}`,
    '-device',
    'link,id=l0,chardev=guest,peer=h',
  ]);
  try {
    let wake: (() => void) | undefined;
    const viewers: Viewer[] = [];
    for (const id of viewerIds) viewers.push(new Viewer(await connectWithRetry(join(daemon.dir, `${id}.sock`)), () => wake?.()));
    const source = await connectWithRetry(join(daemon.dir, 'guest.sock'));
    const minReceived = (): number => viewers.reduce((min, viewer) => Math.min(min, viewer.received), Infinity);
    const sentAt: number[] = [];
    const chunk = Buffer.alloc(CHUNK, 'hub fan-out bench ');
    let sent = 0;
    const waitForViewers = (): Promise<void> =>
      new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 100);
      });
    /** Sends until the limit, at most WINDOW ahead of the slowest reading viewer; false if the hub stopped taking data. */
    const stream = async (streamLimit: { ms: number; bytes: number }, mayStick: boolean): Promise<boolean> => {
      const goal = sent + streamLimit.bytes;
      const streamStart = performance.now();
      while (sent < goal && performance.now() - streamStart < streamLimit.ms) {
        while (sent - minReceived() > WINDOW) {
          const waitStart = performance.now();
          await waitForViewers();
          wake = undefined;
          if (mayStick && performance.now() - waitStart >= 100 && performance.now() - streamStart > STUCK_AFTER_MS) return false;
        }
        sentAt[sent / CHUNK] = performance.now();
        if (!source.write(chunk)) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, STUCK_AFTER_MS);
            source.once('drain', () => {
              clearTimeout(timer);
              resolve();
            });
          });
          if (source.writableNeedDrain) return false;
        }
        sent += CHUNK;
      }
      const end = Date.now() + WAIT_MS;
      while (minReceived() < sent) {
        if (Date.now() > end) throw new Error(`viewers got ${minReceived()} of ${sent} bytes`);
        await waitForViewers();
      }
      return true;
    };
    // A fresh daemon's first hundreds of MiB run through code V8 has not
    // optimised yet; measuring them would compare warm-up luck, not hubs.
    // The stalled viewer joins after the warm-up, so QEMU's mode can warm up too.
    if (!(await stream({ ms: WARMUP_MS, bytes: Infinity }, false))) throw new Error('warm-up did not finish');
    let stallSocket: Socket | undefined;
    if (stalled) {
      stallSocket = await connectWithRetry(join(daemon.dir, 'stall.sock'));
      stallSocket.pause();
      stallSocket.on('error', () => {});
      const deadline = Date.now() + WAIT_MS;
      while (!(await hubMembers(daemon)).find((member) => member.id === 'stall')!.open) {
        if (Date.now() > deadline) throw new Error('the stalled viewer did not open');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    const measuredFrom = sent;
    const cpuStart = cpuMs(daemon.pid);
    const start = performance.now();
    const stuck = !(await stream(limit, mode === 'qemu' && stalled));
    const seconds = (performance.now() - start) / 1000;
    const cpu = cpuMs(daemon.pid) - cpuStart;
    const delivered = minReceived() - measuredFrom;
    const latencies: number[] = [];
    for (const viewer of viewers) {
      viewer.arrivals.forEach((arrived, k) => {
        const at = sentAt[k];
        if (at !== undefined && k >= measuredFrom / CHUNK) latencies.push(arrived - at);
      });
    }
    const info = await hubMembers(daemon);
    const memory = rssKiB(daemon.pid);
    source.destroy();
    stallSocket?.destroy();
    for (const viewer of viewers) viewer.socket.destroy();
    return {
      rate: delivered / seconds,
      latencies,
      delivered,
      stuck,
      stalledDropped: info.find((member) => member.id === 'stall')?.dropped ?? 0,
      readersDropped: info.filter((member) => member.id !== 'stall').reduce((sum, member) => sum + member.dropped, 0),
      peakRssKiB: memory.peak,
      rssKiB: memory.rss,
      cpuMsPerMiB: cpu / ((sent - measuredFrom) / (1 << 20)),
    };
  } finally {
    await daemon.stop();
  }
}

const median = (list: number[]): number => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] ?? NaN;
const percentile = (list: number[], p: number): number => {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
};
const mib = (bytes: number): string => (bytes / (1 << 20)).toFixed(1);

console.log(describeRun(['QEMU 10 hub: chardevd backpressure=on', peerVersion('ser2net', ['-v'])]));
console.log('');
if (SCENARIOS.has('paced')) await paced();
if (SCENARIOS.has('unpaced')) await unpaced();

async function paced(): Promise<void> {
  console.log(
    `Hub fan-out: socket -> link -> hub -> N unix socket viewers, ${ROUND_MS / 1000} s per round after ${WARMUP_MS / 1000} s of warm-up, window ${WINDOW >> 10} KiB, median of ${ROUNDS} rounds (alternating)`,
  );
  console.log('isolation = chardevd default (a queue per viewer); qemu = backpressure=on (QEMU 10 hub: the slowest member paces everyone)');
  console.log('');
  console.log('| viewers | mode      | stalled viewer | MiB/s per viewer | daemon CPU ms/MiB | p50 ms | p99 ms | stalled dropped MiB | readers dropped | peak RSS MiB |');
  console.log('|--------:|-----------|----------------|-----------------:|------------------:|-------:|-------:|--------------------:|----------------:|-------------:|');
  const summary: string[] = [];
  for (const members of MEMBER_COUNTS) {
    const results = new Map<string, RoundResult[]>();
    const key = (mode: Mode, stalled: boolean): string => `${mode}/${stalled}`;
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate which of the pair goes first, so neither always runs on a warmer machine.
      const pair = [
        ['isolation', false],
        ['isolation', true],
      ] as const;
      for (const [mode, stalled] of [...(r % 2 === 0 ? pair : [...pair].reverse()), ['qemu', false] as const]) {
        const list = results.get(key(mode, stalled)) ?? [];
        list.push(await round(members, mode, stalled, { ms: ROUND_MS, bytes: Infinity }));
        results.set(key(mode, stalled), list);
      }
    }
    // QEMU mode with a stalled viewer gets stuck: one bounded round shows how far it gets.
    results.set(key('qemu', true), [await round(members, 'qemu', true, { ms: ROUND_MS, bytes: Infinity })]);
    for (const [mode, stalled] of [
      ['isolation', false],
      ['isolation', true],
      ['qemu', false],
      ['qemu', true],
    ] as const) {
      const list = results.get(key(mode, stalled))!;
      const rate = median(list.map((result) => result.rate));
      const latencies = list.flatMap((result) => result.latencies);
      const stuck = list.some((result) => result.stuck);
      const rateText = stuck ? `stuck after ${mib(median(list.map((result) => result.delivered)))} MiB` : mib(rate);
      console.log(
        `| ${String(members).padStart(7)} | ${mode.padEnd(9)} | ${(stalled ? 'yes' : 'no').padEnd(14)} | ${rateText.padStart(16)} | ${median(
          list.map((result) => result.cpuMsPerMiB),
        )
          .toFixed(2)
          .padStart(
            17,
          )} | ${percentile(latencies, 0.5).toFixed(1).padStart(6)} | ${percentile(latencies, 0.99).toFixed(1).padStart(6)} | ${mib(median(list.map((result) => result.stalledDropped))).padStart(19)} | ${String(Math.max(...list.map((result) => result.readersDropped))).padStart(15)} | ${(Math.max(...list.map((result) => result.peakRssKiB)) / 1024).toFixed(1).padStart(12)} |`,
      );
    }
    const roundsText = (mode: Mode, stalled: boolean): string =>
      results
        .get(key(mode, stalled))!
        .map((result) => mib(result.rate))
        .join(', ');
    summary.push(
      `${members} viewers, MiB/s per round: isolation ${roundsText('isolation', false)}; isolation with a stalled viewer ${roundsText('isolation', true)}; qemu ${roundsText('qemu', false)}`,
    );
    // Rounds run the calm and the disturbed configuration back to back, so
    // each round's ratio cancels the machine's drift between rounds.
    const calmRounds = results.get(key('isolation', false))!;
    const disturbedRounds = results.get(key('isolation', true))!;
    const change = (pick: (result: RoundResult) => number): string => {
      const changes = calmRounds.map((calm, r) => (pick(disturbedRounds[r]!) / pick(calm) - 1) * 100).sort((a, b) => a - b);
      const quartile = (p: number): string => `${percentile(changes, p) >= 0 ? '+' : ''}${percentile(changes, p).toFixed(1)}%`;
      return `${quartile(0.5)} (middle half of rounds ${quartile(0.25)} to ${quartile(0.75)})`;
    };
    const calm = median(calmRounds.map((result) => result.rate));
    const qemu = median(results.get(key('qemu', false))!.map((result) => result.rate));
    const qemuStalled = results.get(key('qemu', true))![0]!;
    summary.push(
      `${members} viewers, isolation: a stalled viewer changes the others' throughput by ${change((result) => result.rate)} and the daemon's CPU per MiB by ${change((result) => result.cpuMsPerMiB)}; ` +
        `isolation/qemu without a stall ${(calm / qemu).toFixed(2)}x; with a stall qemu mode ${qemuStalled.stuck ? `stops after ${mib(qemuStalled.delivered)} MiB` : `finishes at ${mib(qemuStalled.rate)} MiB/s`}`,
    );
  }
  console.log('');
  for (const line of summary) console.log(line);

  // Memory while a viewer is stalled: STALL_TOTAL of output past it, one reading viewer.
  const stall = await round(1, 'isolation', true, { ms: Infinity, bytes: STALL_TOTAL });
  console.log('');
  console.log(
    `${STALL_TOTAL >> 20} MiB streamed past a stalled viewer (1 reading viewer, isolation): reader ${mib(stall.rate)} MiB/s, stalled viewer dropped ${mib(stall.stalledDropped)} MiB, ` +
      `daemon RSS ${(stall.rssKiB / 1024).toFixed(1)} MiB at the end, peak ${(stall.peakRssKiB / 1024).toFixed(1)} MiB`,
  );
}

async function unpaced(): Promise<void> {
  console.log('');
  console.log(
    `Unpaced: a TCP source writes ${UNPACED_TOTAL >> 20} MiB as fast as the relay takes it -> relay -> TCP viewers (2 reading, and 1 that never reads where "yes"); ` +
      `stall-timeout=${STALL_TIMEOUT_MS}; every reader's stream is checked byte for byte (SHA-256)`,
  );
  const ser2net = peerVersion('ser2net', ['-v']).startsWith('ser2net version');
  if (!ser2net) console.log('ser2net is not installed (apt-get install ser2net): its rows are left out');
  const all: { relay: UnpacedRelay; stalled: boolean; name: string }[] = [
    { relay: 'isolation', stalled: false, name: 'chardevd hub (default)' },
    { relay: 'stall-timeout', stalled: false, name: `chardevd hub, stall-timeout=${STALL_TIMEOUT_MS}` },
    { relay: 'ser2net', stalled: false, name: 'ser2net, max-connections' },
    { relay: 'isolation', stalled: true, name: 'chardevd hub (default)' },
    { relay: 'stall-timeout', stalled: true, name: `chardevd hub, stall-timeout=${STALL_TIMEOUT_MS}` },
    { relay: 'qemu', stalled: true, name: 'chardevd hub, backpressure=on (QEMU 10)' },
    { relay: 'ser2net', stalled: true, name: 'ser2net, max-connections' },
  ];
  const runs = all.filter((run) => ser2net || run.relay !== 'ser2net');
  const results = new Map<string, UnpacedResult>();
  console.log(
    '| relay | stalled viewer | source MiB/s | source waited | reader 1 received / missing MiB | reader 2 received / missing MiB | readers intact | stalled viewer lost (query-chardev) | relay peak RSS MiB |',
  );
  console.log('|---|---|---:|---:|---:|---:|---|---:|---:|');
  for (const run of runs) {
    const result = await runUnpaced({ relay: run.relay, stalledViewer: run.stalled, total: UNPACED_TOTAL, stallTimeoutMs: STALL_TIMEOUT_MS });
    results.set(`${run.relay}/${run.stalled}`, result);
    const reader = (i: number): string => `${mib(result.readers[i]!.received)} / ${mib(result.sent - result.readers[i]!.received)}`;
    const rate = result.stuck ? `stuck after ${mib(result.sent)} MiB` : (result.sent / (1 << 20) / result.seconds).toFixed(1);
    console.log(
      `| ${run.name} | ${run.stalled ? 'yes' : 'no'} | ${rate} | ${(result.sourceWaitMs / 1000).toFixed(2)} s | ${reader(0)} | ${reader(1)} | ${result.readers.every((r) => r.intact) ? 'yes' : 'no'} | ${
        result.stalledDropped === undefined ? (run.stalled ? 'n/a' : '—') : mib(result.stalledDropped)
      } | ${(result.peakRssKiB / 1024).toFixed(1)} |`,
    );
  }
  // Per-reader MiB/s: what a viewer gets per second, which is what the peer is compared on.
  const readerRate = (result: UnpacedResult): number => (result.stuck ? 0 : Math.min(...result.readers.map((r) => r.received)) / (1 << 20) / result.seconds);
  const lost = (result: UnpacedResult): number => Math.max(...result.readers.map((r) => result.sent - r.received)) / (1 << 20);
  const row = (measure: string, ours: UnpacedResult, peer: UnpacedResult, pick: (result: UnpacedResult) => number, digits: number) => ({
    measure,
    ours: pick(ours),
    peer: pick(peer),
    digits,
  });
  const get = (relay: UnpacedRelay, stalled: boolean): UnpacedResult => results.get(`${relay}/${stalled}`)!;
  if (!ser2net) return;
  console.log('');
  console.log(
    comparisonTable('ser2net', [
      row('reader MiB/s, no stalled viewer, default hub', get('isolation', false), get('ser2net', false), readerRate, 1),
      row(`reader MiB/s, no stalled viewer, stall-timeout=${STALL_TIMEOUT_MS}`, get('stall-timeout', false), get('ser2net', false), readerRate, 1),
      row(`reader MiB/s, a stalled viewer, stall-timeout=${STALL_TIMEOUT_MS}`, get('stall-timeout', true), get('ser2net', true), readerRate, 1),
      row('most a reader lost, MiB, no stalled viewer, default hub', get('isolation', false), get('ser2net', false), lost, 1),
      row(`most a reader lost, MiB, no stalled viewer, stall-timeout=${STALL_TIMEOUT_MS}`, get('stall-timeout', false), get('ser2net', false), lost, 1),
      row('relay peak RSS MiB, a stalled viewer, stall-timeout', get('stall-timeout', true), get('ser2net', true), (result) => result.peakRssKiB / 1024, 1),
    ]),
  );
}
