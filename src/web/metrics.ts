import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Chardev } from '../chardev/chardev.js';
import { HubChardev } from '../chardev/hub.js';
import type { ChardevHubInfo } from '../generated/qapi-types.gen.js';
import type { CommandTally } from '../qmp/command-tally.js';

/** Connections of one kind: open now, and accepted since start. */
export interface ConnectionCount {
  readonly open: number;
  readonly total: number;
}

/** What /metrics reads, at each scrape. */
export interface MetricsSource {
  chardevs(): readonly Chardev[];
  readonly qmpCommands: CommandTally;
  readonly hmpCommands: CommandTally;
  qmpConnections(): ConnectionCount;
  hmpConnections(): ConnectionCount;
  webViewers(): ConnectionCount;
}

/**
 * The daemon's Prometheus metrics (`/metrics`): per chardev bytes in and
 * out and open state; per hub (and per hub made for a chardev's web
 * viewers, under the chardev's id) its members and, per member, queue depth
 * and drops; QMP and human monitor connections and commands by name and
 * outcome; web viewers; and prom-client's process figures (CPU, memory,
 * descriptors, event loop lag). Every figure is read from the daemon at
 * scrape time, so nothing is counted twice and nothing goes stale.
 */
export class DaemonMetrics {
  readonly registry = new Registry();

  constructor(source: MetricsSource) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    new Counter({
      name: 'chardevd_chardev_received_bytes_total',
      help: 'Bytes a chardev read from its source (a guest, a peer) for its frontend.',
      labelNames: ['chardev'],
      registers,
      collect() {
        this.reset();
        for (const chardev of source.chardevs()) this.inc({ chardev: chardev.id }, chardev.bytesIn);
      },
    });
    new Counter({
      name: 'chardevd_chardev_written_bytes_total',
      help: "Bytes a chardev's frontend wrote to it.",
      labelNames: ['chardev'],
      registers,
      collect() {
        this.reset();
        for (const chardev of source.chardevs()) this.inc({ chardev: chardev.id }, chardev.bytesOut);
      },
    });
    new Gauge({
      name: 'chardevd_chardev_open',
      help: 'Whether a chardev is open (a socket: its client is connected), 1 or 0.',
      labelNames: ['chardev', 'backend'],
      registers,
      collect() {
        this.reset();
        for (const chardev of source.chardevs()) this.set({ chardev: chardev.id, backend: chardev.kind }, chardev.isOpen ? 1 : 0);
      },
    });
    new Gauge({
      name: 'chardevd_hub_members',
      help: 'Members of a hub (logs, viewers, web viewers).',
      labelNames: ['hub'],
      registers,
      collect() {
        this.reset();
        for (const hub of hubs(source)) this.set({ hub: hub.id }, hub.info.members.length);
      },
    });
    new Gauge({
      name: 'chardevd_hub_member_queued_bytes',
      help: "Output waiting in a hub member's queue.",
      labelNames: ['hub', 'member'],
      registers,
      collect() {
        this.reset();
        for (const hub of hubs(source)) for (const member of hub.info.members) this.set({ hub: hub.id, member: member.id }, member.queued);
      },
    });
    new Counter({
      name: 'chardevd_hub_member_dropped_bytes_total',
      help: 'Output a hub member lost because it did not keep up (its queue was full).',
      labelNames: ['hub', 'member'],
      registers,
      collect() {
        this.reset();
        for (const hub of hubs(source)) for (const member of hub.info.members) this.inc({ hub: hub.id, member: member.id }, member.dropped);
      },
    });
    for (const [monitor, what] of [
      ['qmp', 'QMP'],
      ['hmp', 'human monitor'],
    ] as const) {
      const connections = monitor === 'qmp' ? () => source.qmpConnections() : () => source.hmpConnections();
      const tally = monitor === 'qmp' ? source.qmpCommands : source.hmpCommands;
      connectionMetrics(registers, `chardevd_${monitor}_connections`, `${what} connections`, connections);
      new Counter({
        name: `chardevd_${monitor}_commands_total`,
        help: `${what} commands answered, by command (empty: one the monitor does not have) and outcome (ok, or the error).`,
        labelNames: ['command', 'outcome'],
        registers,
        collect() {
          this.reset();
          for (const { command, outcome, count } of tally.entries()) this.inc({ command, outcome }, count);
        },
      });
    }
    connectionMetrics(registers, 'chardevd_web_viewers', 'Web viewers', () => source.webViewers());
  }

  /** The metrics in Prometheus' text format. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/**
 * Every hub with its state: the registered ones, and those made for a
 * chardev's web viewers, under the chardev's id.
 */
function* hubs(source: MetricsSource): IterableIterator<{ readonly id: string; readonly info: ChardevHubInfo }> {
  for (const chardev of source.chardevs()) {
    if (chardev instanceof HubChardev) yield { id: chardev.id, info: chardev.info() };
    if (chardev.viewers !== undefined) yield { id: chardev.id, info: chardev.viewers.info() };
  }
}

/** NAME (open now) and NAME_total (accepted since start). */
function connectionMetrics(registers: Registry[], name: string, what: string, count: () => ConnectionCount): void {
  new Gauge({
    name,
    help: `${what} open now.`,
    registers,
    collect() {
      this.set(count().open);
    },
  });
  new Counter({
    name: `${name}_total`,
    help: `${what} accepted since the daemon started.`,
    registers,
    collect() {
      this.reset();
      this.inc(count().total);
    },
  });
}
