import type { InfluxDB } from 'influx';
import type { Directory } from '../config/directory.ts';
import type { Logger } from '../core/logger.ts';
import type { Cancel, Scheduler } from '../core/scheduler.ts';
import type { Service } from '../core/service.ts';
import { ConsumerRunner, type ConsumerStats, type LogConsumer } from '../events/consumer.ts';
import type { EventLog } from '../events/event-log.ts';
import type { Store } from '../store/store.ts';
import type { InfluxConfig } from '../telemetry/config.ts';
import {
  classifyWriteError,
  createAgent,
  createInfluxClient,
  errorText,
  type InfluxAgent,
} from '../telemetry/influx-client.ts';
import { InfluxSink } from '../telemetry/influx-sink.ts';
import { openTicketPoints, ticketPoints } from './ticket-points.ts';

export const INFLUX_TICKETS_CONSUMER = 'influx-tickets';

export interface TicketSeriesDeps {
  influx: InfluxConfig;
  openTicketsEverySeconds: number;
  eventLog: EventLog;
  store: Store;
  directory: Directory;
  scheduler: Scheduler;
  log: Logger;
}

/**
 * The ticket and SLA series Grafana draws, written to the telemetry database: every ticket event
 * and every SLA outcome from the event log (a durable consumer, at least once; a point written
 * again overwrites itself, see ticketPoints), and the open tickets per site and category every
 * `openTicketsEverySeconds` from the store. Each write is awaited before the log position moves,
 * so InfluxDB being down only delays the points; the telemetry writer's spool is not used because
 * it acknowledges before the point is in InfluxDB.
 */
export class TicketSeries implements Service {
  readonly name = 'ticket series';
  readonly #deps: TicketSeriesDeps;
  #agent: InfluxAgent | undefined;
  #client: InfluxDB | undefined;
  readonly #sink: InfluxSink;
  readonly #runner: ConsumerRunner;
  #cancelSnapshot: Cancel | undefined;
  #snapshot: Promise<void> | undefined;
  #running = false;
  #snapshotError: string | null = null;

  constructor(deps: TicketSeriesDeps) {
    this.#deps = deps;
    this.#sink = new InfluxSink({ config: deps.influx, log: deps.log, clock: deps.scheduler });
    this.#runner = new ConsumerRunner({
      consumer: this.#consumer(),
      eventLog: deps.eventLog,
      store: deps.store,
      scheduler: deps.scheduler,
      log: deps.log,
    });
  }

  async start(): Promise<void> {
    this.#agent = createAgent(this.#deps.influx);
    this.#client = createInfluxClient(this.#deps.influx, this.#agent, this.#deps.influx.requestTimeoutMs);
    this.#running = true;
    await this.#runner.start();
    this.#scheduleSnapshot(0);
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#cancelSnapshot?.();
    await this.#runner.stop();
    await this.#snapshot;
    this.#agent?.destroy();
  }

  stats(): ConsumerStats {
    return this.#runner.stats();
  }

  #consumer(): LogConsumer {
    return {
      id: INFLUX_TICKETS_CONSUMER,
      // A 400 (a field type conflict) can never succeed; the entry is given up after three.
      maxAttempts: 3,
      retryable: (err) => classifyWriteError(err) !== 'reject',
      handle: async (entry) => {
        await this.#write(ticketPoints(entry), 'n');
        return true;
      },
    };
  }

  async #write(points: Parameters<InfluxDB['writePoints']>[0], precision: 'n' | 'ms'): Promise<void> {
    const client = this.#client;
    if (!client) throw new Error('ticket series not started');
    const { retentionPolicy } = this.#deps.influx;
    await this.#sink.ensureDatabase(client);
    await client.writePoints(points, { precision, ...(retentionPolicy ? { retentionPolicy } : {}) });
  }

  #scheduleSnapshot(delayMs: number): void {
    if (!this.#running) return;
    this.#cancelSnapshot = this.#deps.scheduler.at(this.#deps.scheduler.now() + delayMs, () => {
      this.#snapshot = this.#writeSnapshot().finally(() =>
        this.#scheduleSnapshot(this.#deps.openTicketsEverySeconds * 1000),
      );
    });
  }

  /** A failed snapshot is logged once per error and skipped: the next one is as good. */
  async #writeSnapshot(): Promise<void> {
    const { store, directory, scheduler, log } = this.#deps;
    try {
      const open = await store.listTickets({ open: true });
      const sites = directory.sites.map((s) => s.id);
      await this.#write(openTicketPoints(open, sites, directory.categoryIds(), scheduler.now()), 'ms');
      this.#snapshotError = null;
    } catch (err) {
      const text = errorText(err);
      if (text !== this.#snapshotError) log.warn({ err: text }, 'open-ticket snapshot not written');
      this.#snapshotError = text;
    }
  }
}
