import path from 'node:path';
import { Directory } from '../src/config/directory.ts';
import type { Config } from '../src/config/schema.ts';
import { systemClock } from '../src/core/clock.ts';
import { EventBus } from '../src/core/event-bus.ts';
import { createLogger } from '../src/core/logger.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { influxSchema } from '../src/telemetry/config.ts';
import { TicketService } from '../src/tickets/ticket-service.ts';
import { ADMIN_PASSWORD, testConfig } from '../test/helpers/test-app.ts';
import { applyFleet, type Device, type FleetSpec } from './fleet.ts';

/** The admin password of the app under test (the tests' helper sets it). */
export const BENCH_ADMIN_PASSWORD = ADMIN_PASSWORD;

export interface BenchConfigOptions {
  /** false: no rules at all, so the ingest's rule step finds nothing to do (scenario B). */
  rules: boolean;
  influxUrl?: string;
  /** Shortens the plumbing category's arrival target (SLA precision without waiting 5 minutes). */
  plumbingArrivalMinutes?: number;
  /** Per gateway login, messages a second; by default lifted far above what the generator sends. */
  gatewayRate?: number;
  /** An external broker instead of the embedded one, and its messages recorded at once per session. */
  external?: { url: string; inFlight: number };
  /** PostgreSQL instead of SQLite: a cluster member (`cluster.instanceId`, checks every `checkSeconds`). */
  database?: { url: string; instanceId: string; checkSeconds: number };
}

/** The shipped example with the bench fleet, on loopback ephemeral ports and a private data dir. */
export function benchConfig(dataDir: string, fleet: FleetSpec, opts: BenchConfigOptions): Config {
  const config = testConfig(dataDir);
  // D's clients all log in as one admin from one address: the per-user and per-address limits
  // that protect a real desk would refuse the bench's 100 live-feed clients and 200 requests/s.
  config.http = {
    ...config.http,
    maxLiveClientsPerUser: 1000,
    rateLimit: { max: 1_000_000, windowSeconds: 60 },
  };
  // The generator sends each site's share of up to 150,000 msg/s, far over a real gateway's
  // ceiling; the scenarios measure the pipeline, not the ceiling (the flood notes what it does).
  const rate = opts.gatewayRate ?? 10_000_000;
  config.mqtt.flow = { ...config.mqtt.flow, gatewayMessagesPerSecond: rate, gatewayBurst: rate };
  if (!opts.rules) config.rules = [];
  if (opts.influxUrl) config.influx = influxSchema.parse({ url: opts.influxUrl, database: 'xiaoer_bench' });
  if (opts.plumbingArrivalMinutes !== undefined) {
    const plumbing = config.categories.plumbing;
    if (plumbing) plumbing.sla = { ...plumbing.sla, arrivalMinutes: opts.plumbingArrivalMinutes };
  }
  if (opts.external) {
    config.mqtt.url = opts.external.url;
    config.mqtt.inFlight = opts.external.inFlight;
  }
  if (opts.database) {
    config.database = { ...config.database, url: opts.database.url };
    config.cluster = {
      ...config.cluster,
      instanceId: opts.database.instanceId,
      checkSeconds: opts.database.checkSeconds,
    };
  }
  addFleetSites(config, fleet);
  applyFleet(config, fleet);
  return config;
}

/**
 * Sites of the fleet that the example does not have (the cluster scenario's eight), each with a
 * gateway login `<site>-gw` / `<site>-demo` like the example's and a work-order code of its own.
 */
function addFleetSites(config: Config, fleet: FleetSpec): void {
  const codes = new Set(config.sites.map((s) => s.code));
  for (const id of fleet.sites) {
    if (config.sites.some((s) => s.id === id)) continue;
    let code = id.slice(0, 2).toUpperCase();
    for (let i = 0; codes.has(code); i++)
      code = `${id.slice(0, 2).toUpperCase()}${String.fromCharCode(65 + i)}`;
    codes.add(code);
    config.sites.push({
      id,
      name: `Bench site ${id}`,
      code,
      gateway: { username: `${id}-gw`, password: `${id}-demo` },
      devices: [],
    });
  }
}

/**
 * Open leak tickets raised through the real TicketService (so they are exactly what the rules
 * would have raised), with arrival deadlines at `arrivalDueAt(i)`. Written with
 * `synchronous: normal` before the measured store opens: seeding is set-up, not the benchmark.
 */
export async function seedOpenTickets(
  config: Config,
  devices: readonly Device[],
  arrivalDueAt: (i: number) => number,
): Promise<void> {
  const store = new SqliteStore(path.join(config.dataDir, 'xiaoer.db'), { synchronous: 'normal' });
  await store.migrate();
  const directory = new Directory(config);
  const tickets = new TicketService({
    store,
    directory,
    clock: systemClock,
    bus: new EventBus(),
    log: createLogger('silent'),
  });
  // The example's plumbing category has an arrival target.
  const arrivalMs = directory.slaFor('plumbing').arrivalMs ?? 0;
  try {
    for (const [i, d] of devices.entries()) {
      await tickets.applyAlarm({
        type: 'raised',
        alarm: {
          site: d.site,
          assetId: d.id,
          ruleId: 'water-leak',
          fault: 'leak',
          meaning: 'condition',
          category: 'plumbing',
          severity: 'critical',
          raisedAt: arrivalDueAt(i) - arrivalMs,
        },
      });
    }
  } finally {
    await store.close();
  }
}
