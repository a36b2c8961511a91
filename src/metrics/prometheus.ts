import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { FlowStats } from '../../broker/flow-control.ts';
import type { Ticket } from '../domain/types.ts';
import type { ConsumerStats } from '../events/consumer.ts';
import type { EventLog } from '../events/event-log.ts';
import type { IngestStats, RouteCount } from '../ingest/ingest.ts';
import type { TelemetryStats } from '../telemetry/influx-writer.ts';
import { OPEN_STATUSES } from '../tickets/clocks.ts';

/** Where the figures come from; each is read at scrape time, nothing is counted twice. */
export interface MetricSources {
  ingest(): { stats: IngestStats; routes: RouteCount[] } | undefined;
  /** Undefined when InfluxDB is not configured. */
  telemetry(): TelemetryStats | undefined;
  /** The embedded broker's backpressure; undefined with an external broker. */
  flow(): FlowStats | undefined;
  /** Every durable consumer of the event log running in this process. */
  consumers(): ConsumerStats[];
  openTickets(): Promise<Ticket[]>;
  sites(): readonly string[];
  categories(): readonly string[];
}

/** Every xiaoer metric by name, with its help text: the one catalogue (README lists the same). */
export const METRIC_HELP = {
  xiaoer_ingest_messages_total: 'Device messages decoded, per adapter and site',
  xiaoer_ingest_readings_total: 'Readings decoded, per adapter and site',
  xiaoer_ingest_received_total: 'Device messages received, decoded or not',
  xiaoer_ingest_unrouted_total: 'Device messages on a topic no adapter routes',
  xiaoer_dead_letters_total: 'Device messages rejected (dead-lettered), per reason',
  xiaoer_ingest_in_flight: 'Device messages being recorded now (embedded broker)',
  xiaoer_ingest_held_seconds_total:
    'Time device connections spent with reading held back (backpressure), per reason, summed over connections',
  xiaoer_rule_evaluations_total: 'Readings and events judged by the rules',
  xiaoer_alarm_transitions_total: 'Alarms raised or cleared by the rules',
  xiaoer_open_tickets: 'Open tickets per site, category and state',
  xiaoer_sla_breaches_total:
    "SLA targets breached, per clock, site and category (since start; in a cluster each instance counts the whole cluster's)",
  xiaoer_telemetry_pending_points: 'Telemetry points in memory on their way to InfluxDB or the spool',
  xiaoer_telemetry_spooled_points: 'Telemetry points in the on-disk spool',
  xiaoer_telemetry_spool_bytes: 'Size of the on-disk telemetry spool',
  xiaoer_telemetry_written_points_total: 'Telemetry points written to InfluxDB',
  xiaoer_telemetry_dropped_points_total:
    'Telemetry points dropped to stay within the spool and memory bounds',
  xiaoer_telemetry_rejected_points_total: 'Telemetry points refused as unwritable',
  xiaoer_event_log_head: 'Id of the newest ticket event',
  xiaoer_consumer_lag_events: 'Ticket events a durable consumer has not handled yet (head - position)',
  xiaoer_consumer_dead: '1 while a durable consumer has been failing too long',
  xiaoer_consumer_given_up_total: 'Ticket events a consumer gave up after repeated refusals',
} as const;

export type MetricName = keyof typeof METRIC_HELP;

type Labels = Record<string, string>;

/**
 * The Prometheus registry: process and Node.js defaults (event-loop delay from
 * monitorEventLoopDelay, heap, handles), xiaoer's figures read from their owners at scrape, and
 * the SLA breaches counted as the event log announces them. `start()` begins counting breaches;
 * `stop()` stops.
 */
export class PrometheusMetrics {
  readonly registry = new Registry();
  readonly #sources: MetricSources;
  readonly #eventLog: EventLog;
  readonly #breaches: Counter<string>;
  #unsubscribe: (() => void) | undefined;

  constructor(deps: { sources: MetricSources; eventLog: EventLog }) {
    this.#sources = deps.sources;
    this.#eventLog = deps.eventLog;
    collectDefaultMetrics({ register: this.registry });
    this.#breaches = this.#counter('xiaoer_sla_breaches_total', ['clock', 'site', 'category']);
    this.#ingestMetrics();
    this.#ticketMetrics();
    this.#telemetryMetrics();
    this.#consumerMetrics();
  }

  start(): void {
    this.#unsubscribe = this.#eventLog.onAppend(({ ticket, event }) => {
      if (event.type !== 'sla_breached') return;
      const clock = String(event.detail.clock);
      this.#breaches.inc({ clock, site: ticket.site, category: ticket.category });
    });
  }

  stop(): void {
    this.#unsubscribe?.();
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  #counter(name: MetricName, labelNames: string[] = [], collect?: (c: Counter<string>) => void) {
    return new Counter({
      name,
      help: METRIC_HELP[name],
      labelNames,
      registers: [this.registry],
      ...(collect
        ? {
            collect: function (this: Counter<string>) {
              collect(this);
            },
          }
        : {}),
    });
  }

  #gauge(name: MetricName, labelNames: string[], collect: (g: Gauge<string>) => void | Promise<void>) {
    return new Gauge({
      name,
      help: METRIC_HELP[name],
      labelNames,
      registers: [this.registry],
      collect: function (this: Gauge<string>) {
        return collect(this);
      },
    });
  }

  /** A counter kept by its owner: the owner's running total is copied in at each scrape. */
  #mirror(name: MetricName, labelNames: string[], read: () => [Labels, number][] | undefined): void {
    this.#counter(name, labelNames, (c) => {
      const rows = read();
      if (!rows) return;
      c.reset();
      for (const [labels, value] of rows) c.inc(labels, value);
    });
  }

  /** An unlabelled counter mirroring one figure of an owner's stats. */
  #total<S>(name: MetricName, stats: () => S | undefined, pick: (s: S) => number): void {
    this.#mirror(name, [], () => {
      const s = stats();
      return s === undefined ? undefined : [[{}, pick(s)]];
    });
  }

  #ingestMetrics(): void {
    const ingest = () => this.#sources.ingest();
    const routes = (field: 'messages' | 'readings') =>
      ingest()?.routes.map((r): [Labels, number] => [{ adapter: r.adapter, site: r.site }, r[field]]);
    this.#mirror('xiaoer_ingest_messages_total', ['adapter', 'site'], () => routes('messages'));
    this.#mirror('xiaoer_ingest_readings_total', ['adapter', 'site'], () => routes('readings'));
    const totals: [MetricName, (s: IngestStats) => number][] = [
      ['xiaoer_ingest_received_total', (s) => s.received],
      ['xiaoer_ingest_unrouted_total', (s) => s.unrouted],
      ['xiaoer_rule_evaluations_total', (s) => s.evaluations],
      ['xiaoer_alarm_transitions_total', (s) => s.alarms],
    ];
    for (const [name, pick] of totals) this.#total(name, () => ingest()?.stats, pick);
    const flow = () => this.#sources.flow();
    this.#gauge('xiaoer_ingest_in_flight', [], (g) => {
      const f = flow();
      if (f) g.set(f.inFlight);
    });
    this.#mirror('xiaoer_ingest_held_seconds_total', ['reason'], () => {
      const f = flow();
      return f && Object.entries(f.heldMs).map(([reason, ms]): [Labels, number] => [{ reason }, ms / 1000]);
    });
    this.#mirror('xiaoer_dead_letters_total', ['reason'], () => {
      const stats = ingest()?.stats;
      return (
        stats && Object.entries(stats.deadLettered).map(([reason, n]): [Labels, number] => [{ reason }, n])
      );
    });
  }

  /** Every site, category and open state is present, zeros included, so a state that empties reads 0. */
  #ticketMetrics(): void {
    this.#gauge('xiaoer_open_tickets', ['site', 'category', 'state'], async (g) => {
      const open = await this.#sources.openTickets();
      g.reset();
      for (const site of this.#sources.sites())
        for (const category of this.#sources.categories())
          for (const state of OPEN_STATUSES) g.set({ site, category, state }, 0);
      for (const t of open) {
        if (t.status !== 'closed') g.inc({ site: t.site, category: t.category, state: t.status });
      }
    });
  }

  #telemetryMetrics(): void {
    const stats = () => this.#sources.telemetry();
    const gauges: [MetricName, (s: TelemetryStats) => number][] = [
      ['xiaoer_telemetry_pending_points', (s) => s.pendingPoints],
      ['xiaoer_telemetry_spooled_points', (s) => s.spooledPoints],
      ['xiaoer_telemetry_spool_bytes', (s) => s.spoolBytes],
    ];
    for (const [name, pick] of gauges)
      this.#gauge(name, [], (g) => {
        const s = stats();
        if (s) g.set(pick(s));
      });
    const totals: [MetricName, (s: TelemetryStats) => number][] = [
      ['xiaoer_telemetry_written_points_total', (s) => s.writtenPoints],
      ['xiaoer_telemetry_dropped_points_total', (s) => s.droppedPoints],
      ['xiaoer_telemetry_rejected_points_total', (s) => s.rejectedPoints],
    ];
    for (const [name, pick] of totals) this.#total(name, stats, pick);
  }

  #consumerMetrics(): void {
    this.#gauge('xiaoer_event_log_head', [], async (g) => g.set(await this.#eventLog.head()));
    this.#gauge('xiaoer_consumer_lag_events', ['consumer'], async (g) => {
      const head = await this.#eventLog.head();
      g.reset();
      for (const c of this.#sources.consumers()) g.set({ consumer: c.id }, Math.max(0, head - c.position));
    });
    this.#gauge('xiaoer_consumer_dead', ['consumer'], (g) => {
      g.reset();
      for (const c of this.#sources.consumers()) g.set({ consumer: c.id }, c.state === 'dead' ? 1 : 0);
    });
    this.#mirror('xiaoer_consumer_given_up_total', ['consumer'], () =>
      this.#sources.consumers().map((c): [Labels, number] => [{ consumer: c.id }, c.givenUp]),
    );
  }
}
