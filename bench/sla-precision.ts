import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Directory } from '../src/config/directory.ts';
import { systemClock } from '../src/core/clock.ts';
import { EventBus } from '../src/core/event-bus.ts';
import { createLogger } from '../src/core/logger.ts';
import { systemScheduler } from '../src/core/scheduler.ts';
import { EventLog } from '../src/events/event-log.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { SlaScheduler } from '../src/tickets/sla-scheduler.ts';
import { TicketService } from '../src/tickets/ticket-service.ts';
import { BENCH_SITES, type FleetSpec, siteFleet } from './fleet.ts';
import { benchConfig, seedOpenTickets } from './setup.ts';
import { type LatencySummary, summarizeLatencies } from './stats.ts';

export interface SlaPrecisionSpec {
  tickets: number;
  /** The first arrival deadline comes this long after seeding starts. */
  leadMs: number;
  /** Arrival deadlines are spread evenly over this period. */
  spreadMs: number;
  /** The plumbing category's arrival target, shortened so the run need not wait 5 minutes. */
  arrivalMinutes: number;
}

export interface SlaPrecisionResult {
  tickets: number;
  spreadMs: number;
  synchronous: string;
  seedMs: number;
  /** SlaScheduler.start(): reading every open ticket and building the deadline heap. */
  rearmMs: number;
  /** Deadlines already past when the scheduler started (seeding overran the lead): not counted. */
  dueBeforeStart: number;
  breaches: number;
  /** Breach event (committed, on the bus) minus its deadline, in ms. */
  lateness: LatencySummary;
  overOneSecond: number;
  /** Other ticket events the scheduler recorded meanwhile (escalations near the deadline...). */
  otherEvents: Record<string, number>;
  pendingAfter: number;
  rssBytes: number;
}

/**
 * SLA clock precision with many open tickets: the real SlaScheduler and TicketService on a
 * SQLite store with the production durability setting, real timers, and arrival deadlines
 * spread evenly over `spreadMs`. One timer serves them all; each breach is one store transaction.
 */
export async function runSlaPrecision(spec: SlaPrecisionSpec): Promise<SlaPrecisionResult> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'xiaoer-bench-sla-'));
  try {
    const fleet: FleetSpec = { sites: BENCH_SITES, normal: 0, faultPool: 0, seeded: spec.tickets };
    const config = benchConfig(dataDir, fleet, { rules: true, plumbingArrivalMinutes: spec.arrivalMinutes });
    const devices = fleet.sites.flatMap((site) => siteFleet(fleet, site).seeded);
    const base = Date.now() + spec.leadMs;
    const dueAt = (i: number) => base + Math.floor((i * spec.spreadMs) / devices.length);
    const seedStarted = performance.now();
    await seedOpenTickets(config, devices, dueAt);
    const seedMs = performance.now() - seedStarted;

    const store = new SqliteStore(path.join(dataDir, 'xiaoer.db'), {
      synchronous: config.store.synchronous,
      groupCommit: true,
    });
    const bus = new EventBus();
    const log = createLogger('silent');
    const directory = new Directory(config);
    const tickets = new TicketService({ store, directory, clock: systemClock, bus, log });
    const breaches: { dueAt: number; lateMs: number }[] = [];
    const otherEvents: Record<string, number> = {};
    bus.on('ticketChanged', (_ticket, event) => {
      const detail = event.detail as { clock?: string; dueAt?: number };
      if (event.type === 'sla_breached' && detail.clock === 'arrival' && detail.dueAt !== undefined) {
        breaches.push({ dueAt: detail.dueAt, lateMs: Date.now() - detail.dueAt });
      } else otherEvents[event.type] = (otherEvents[event.type] ?? 0) + 1;
    });
    // Built as a variable: the scheduler's dependencies are a superset of what older versions took.
    const eventLog = new EventLog({ store, bus });
    const deps = {
      store,
      tickets,
      directory,
      clock: systemClock,
      scheduler: systemScheduler,
      eventLog,
      bus,
      log,
    };
    const scheduler = new SlaScheduler(deps);
    const rearmStarted = performance.now();
    await scheduler.start();
    const rearmMs = performance.now() - rearmStarted;
    const startedAt = Date.now();
    const dueBeforeStart = devices.filter((_, i) => dueAt(i) < startedAt).length;
    const giveUpAt = dueAt(devices.length - 1) + 30_000;
    while (breaches.length < devices.length && Date.now() < giveUpAt) await sleep(200);
    const pendingAfter = scheduler.pending;
    await scheduler.stop();
    await store.close();
    const counted = breaches.filter((b) => b.dueAt >= startedAt).map((b) => b.lateMs);
    return {
      tickets: devices.length,
      spreadMs: spec.spreadMs,
      synchronous: config.store.synchronous,
      seedMs,
      rearmMs,
      dueBeforeStart,
      breaches: breaches.length,
      lateness: summarizeLatencies(counted),
      overOneSecond: counted.filter((ms) => ms > 1000).length,
      otherEvents,
      pendingAfter,
      rssBytes: process.memoryUsage().rss,
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
