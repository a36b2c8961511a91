import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { influxSchema } from '../../src/telemetry/config.ts';
import {
  allPanels,
  type GrafanaVariable,
  grafanaInterval,
  influxQuery,
  interpolate,
  loadDashboards,
  rangeSeconds,
  variableValues,
} from '../helpers/grafana.ts';
import { type RunningInfluxd, startInfluxd } from '../helpers/influxdb.ts';
import { startTestApp, type TestApp } from '../helpers/test-app.ts';
import { waitFor } from '../helpers/wait.ts';

const PROVISIONING = path.resolve(import.meta.dirname, '../../dashboards/grafana/provisioning');

interface DatasourceFile {
  apiVersion: number;
  datasources: {
    name: string;
    uid: string;
    type: string;
    url: string;
    jsonData: { dbName: string; timeInterval: string };
  }[];
}
interface ProviderFile {
  apiVersion: number;
  providers: { name: string; type: string; options: { path: string } }[];
}

const datasources = parseYaml(
  readFileSync(path.join(PROVISIONING, 'datasources/xiaoer.yaml'), 'utf8'),
) as DatasourceFile;
const providers = parseYaml(
  readFileSync(path.join(PROVISIONING, 'dashboards/xiaoer.yaml'), 'utf8'),
) as ProviderFile;
const datasource = datasources.datasources[0];
const dashboards = loadDashboards();

interface TicketJson {
  id: number;
  status: string;
  category: string;
  arrival: { met?: boolean | null };
}

describe('Grafana provisioning', () => {
  it('names the InfluxDB 1.x database xiaoer writes to by default, under the uid the panels use', () => {
    expect(datasources.apiVersion).toBe(1);
    expect(datasources.datasources).toHaveLength(1);
    expect(datasource).toMatchObject({ type: 'influxdb', uid: 'xiaoer-influxdb', access: 'proxy' });
    const defaults = influxSchema.parse({});
    expect(datasource?.jsonData.dbName).toBe(defaults.database);
    expect(datasource?.url).toBe(defaults.url);
  });

  it('has a file provider for the dashboards, each with a unique uid and panels on that data source', () => {
    expect(providers.apiVersion).toBe(1);
    expect(providers.providers).toEqual([
      expect.objectContaining({ type: 'file', options: expect.any(Object) }),
    ]);
    expect(dashboards.map((d) => d.file)).toEqual([
      'xiaoer-sla.json',
      'xiaoer-telemetry.json',
      'xiaoer-tickets.json',
    ]);
    expect(new Set(dashboards.map((d) => d.dashboard.uid)).size).toBe(dashboards.length);
    for (const { dashboard } of dashboards) {
      for (const v of dashboard.templating.list) expect(v.datasource?.uid, v.name).toBe(datasource?.uid);
      for (const panel of allPanels(dashboard.panels)) {
        expect(panel.datasource?.uid, panel.title).toBe(datasource?.uid);
        // Raw InfluxQL only: a query-builder target would not be run by the test below.
        for (const t of panel.targets ?? [])
          expect(t.rawQuery && t.query, `${panel.title} ${t.refId}`).toBeTruthy();
      }
    }
  });
});

// A real influxd and a real xiaoer: readings through the embedded broker, the telemetry writer
// and tickets through the rules, the API and the SLA scheduler, the ticket series through the
// event-log consumer. Each step waits on what it needs (a busy machine can take seconds).
describe('every Grafana panel against a real InfluxDB holding what xiaoer wrote', () => {
  let influxd: RunningInfluxd;
  let t: TestApp;
  const db = datasource?.jsonData.dbName ?? 'xiaoer';

  beforeAll(async () => {
    influxd = await startInfluxd();
    t = await startTestApp({
      override: (c) => {
        c.influx = influxSchema.parse({ url: influxd.url, database: db, flushIntervalMs: 50 });
        c.metrics = { ...c.metrics, port: 0, openTicketsEverySeconds: 1 };
        // Lock tickets breach both targets within seconds: the SLA panels need breaches too.
        c.categories.lock = {
          ...(c.categories.lock ?? { name: 'lock', type: 'repair' }),
          sla: { arrivalMinutes: 0.02, repairMinutes: 0.04 },
        };
      },
    });
    await driveHistory(t);
  });
  afterAll(async () => {
    await t?.stop();
    await influxd?.stop();
  });

  async function driveHistory(app: TestApp): Promise<void> {
    const staff = await app.userToken('desk1', 'staff');
    const wang = await app.userToken('wang', 'maintainer');
    const publish = async (site: string, topic: string, payload: unknown) => {
      const gw = await app.gateway(site);
      await gw.publishAsync(`${site}/${topic}`, JSON.stringify(payload), { qos: 1 });
      await gw.endAsync();
    };
    // Telemetry of every kind the dashboards draw, from three adapters' worth of devices.
    await publish('xincheng', 'zigbee2mqtt/hvac-2f-office', {
      temperature: 23.5,
      humidity: 45,
      linkquality: 140,
    });
    await publish('xincheng', 'zigbee2mqtt/lock-3f-east', {
      lock_state: 'locked',
      battery: 76,
      linkquality: 88,
    });
    await publish('xincheng', 'xiaoer/hvac/pump-1/state', { pressure_kpa: 310 });
    await publish('xincheng', 'xiaoer/hvac/ahu-1/state', {
      supply_air_temperature_c: 16,
      return_air_temperature_c: 24,
    });
    // A leak: raised, arrived in time, cleared, repaired in time, then back: reopened.
    await publish('xincheng', 'zigbee2mqtt/leak-b1-riser', {
      water_leak: true,
      battery: 91,
      linkquality: 120,
    });
    const leak = await openTicket(app, staff, 'plumbing');
    expect((await app.request(`POST`, `/api/tickets/${leak.id}/arrive`, { token: wang })).status).toBe(200);
    await publish('xincheng', 'zigbee2mqtt/leak-b1-riser', { water_leak: false });
    const repaired = await app.request('POST', `/api/tickets/${leak.id}/repaired`, {
      token: wang,
      body: { note: 'coupling' },
    });
    expect(repaired.status).toBe(200);
    await publish('xincheng', 'zigbee2mqtt/leak-b1-riser', { water_leak: true });
    // A jammed lock at another site nobody goes to: both SLA clocks breach.
    await publish('north', 'zigbee2mqtt/lock-3f-east', {
      lock_state: 'not_fully_locked',
      battery: 40,
      linkquality: 60,
    });
    const lock = await openTicket(app, staff, 'lock');
    await waitFor(
      async () => {
        const events = await app.request<{ events: { type: string; detail: { clock?: string } }[] }>(
          'GET',
          `/api/tickets/${lock.id}`,
          { token: staff },
        );
        const breached = events.body.events?.filter((e) => e.type === 'sla_breached') ?? [];
        return breached.length === 2 ? true : undefined;
      },
      { what: 'both clocks of the lock ticket breached' },
    );
    // An overheated office at a third site, left open.
    await publish('east', 'zigbee2mqtt/hvac-2f-office', { temperature: 31, humidity: 30, linkquality: 101 });
    await openTicket(app, staff, 'hvac');
  }

  async function openTicket(app: TestApp, token: string, category: string): Promise<TicketJson> {
    return waitFor(
      async () => {
        const res = await app.request<{ tickets: TicketJson[] }>('GET', `/api/tickets?category=${category}`, {
          token,
        });
        return res.body.tickets[0];
      },
      { what: `a ${category} ticket` },
    );
  }

  /** The event-log consumer has written everything up to the log's head. */
  async function consumerCaughtUp(): Promise<void> {
    await waitFor(
      async () => {
        const health = await t.request<{ ticketSeries: { backlog: number; position: number } }>(
          'GET',
          '/api/health',
          {
            token: await t.adminToken(),
          },
        );
        const lag = (await scrape()).match(
          /^xiaoer_consumer_lag_events\{consumer="influx-tickets"\} (\d+)$/m,
        );
        return health.body.ticketSeries.backlog === 0 && lag?.[1] === '0' ? true : undefined;
      },
      { what: 'the influx-tickets consumer at the head of the log' },
    );
  }

  async function scrape(): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${t.app.ports.metrics}/metrics`);
    expect(res.status).toBe(200);
    return res.text();
  }

  /** Fills the dashboard's variables with every value their own queries list ("All"). */
  async function resolveVariables(
    list: readonly GrafanaVariable[],
    ctx: Omit<Parameters<typeof interpolate>[1], 'variables'>,
  ) {
    const variables = new Map<string, { def: GrafanaVariable; values: string[] }>();
    for (const def of list) {
      expect(def.type, def.name).toBe('query');
      const values = variableValues(
        await influxQuery(influxd.url, db, interpolate(def.query, { ...ctx, variables })),
      );
      expect(values.length, `variable ${def.name} lists no values`).toBeGreaterThan(0);
      variables.set(def.name, { def, values });
    }
    return variables;
  }

  for (const { file, dashboard } of dashboards) {
    it(`${file}: every panel's query runs and returns data`, async () => {
      await consumerCaughtUp();
      const interval = grafanaInterval(
        rangeSeconds(dashboard.time.from, dashboard.time.to),
        Number.parseInt(datasource?.jsonData.timeInterval ?? '10', 10),
      );
      const base = { from: dashboard.time.from, to: dashboard.time.to, interval };
      // Readings are written within flushIntervalMs, open tickets every second: an empty panel is
      // asked again until the time-out, a query InfluxDB refuses fails at once.
      const outcome = await waitFor(
        async () => {
          const variables = await resolveVariables(dashboard.templating.list, base);
          for (const panel of allPanels(dashboard.panels)) {
            for (const target of panel.targets ?? []) {
              const q = interpolate(target.query ?? '', { ...base, variables });
              if (/\$[a-z_{]/i.test(q)) return `${panel.title}: a variable or macro left in ${q}`;
              const series = await influxQuery(influxd.url, db, q).catch((err: Error) => err);
              if (series instanceof Error) return `${panel.title} (${target.refId}): ${series.message}`;
              const values = series.flatMap((s) => s.values.flatMap((row) => row.slice(1)));
              if (!values.some((v) => v !== null))
                throw new Error(`${panel.title} (${target.refId}) is empty: ${q}`);
            }
          }
          return 'every panel has data';
        },
        { what: `data in every panel of ${file}` },
      );
      expect(outcome).toBe('every panel has data');
    });
  }

  it('counts what the API shows: alarms raised, open tickets, arrival compliance', async () => {
    await consumerCaughtUp();
    const token = await t.adminToken();
    const all = (await t.request<{ tickets: TicketJson[] }>('GET', '/api/tickets', { token })).body.tickets;
    const open = all.filter((x) => x.status !== 'closed');
    const sum = async (q: string) =>
      Number((await influxQuery(influxd.url, db, q))[0]?.values[0]?.[1] ?? Number.NaN);
    expect(await sum(`SELECT sum("count") FROM "ticket_events" WHERE "type" = 'raised'`)).toBe(all.length);
    expect(await sum(`SELECT sum("count") FROM "ticket_events" WHERE "type" = 'reopened'`)).toBe(1);
    await waitFor(
      async () =>
        (await sum(
          `SELECT sum("open") FROM (SELECT last("count") AS "open" FROM "open_tickets" WHERE time > now() - 1h GROUP BY "site", "category")`,
        )) === open.length
          ? true
          : undefined,
      { what: `an open_tickets snapshot with ${open.length} open tickets` },
    );
    // Arrival decided for the leak (met) and the lock (breached); the others still run.
    expect(await sum(`SELECT mean("met") FROM "sla" WHERE "clock" = 'arrival'`)).toBe(0.5);
    expect(await sum(`SELECT sum("breached") FROM "sla" WHERE "clock" = 'repair'`)).toBe(1);
  });

  it('writes each event once however often it is delivered: the same point overwrites itself', async () => {
    await consumerCaughtUp();
    const before = await influxQuery(influxd.url, db, 'SELECT count("count") FROM "ticket_events"');
    // What a redelivery after a crash does: the consumer's position moved back to 0.
    await t.app.store.saveConsumerPosition('influx-tickets', 0, Date.now());
    const { TicketSeries } = await import('../../src/metrics/ticket-series.ts');
    const again = new TicketSeries({
      influx: influxSchema.parse({ url: influxd.url, database: db }),
      openTicketsEverySeconds: 3600,
      eventLog: t.app.eventLog,
      store: t.app.store,
      directory: t.app.directory,
      scheduler: t.app.scheduler,
      log: t.app.log,
    });
    await again.start();
    try {
      await waitFor(() => (again.stats().backlog === 0 && again.stats().handled > 0 ? true : undefined), {
        what: 'the redelivery',
      });
    } finally {
      await again.stop();
    }
    expect(await influxQuery(influxd.url, db, 'SELECT count("count") FROM "ticket_events"')).toEqual(before);
  });

  it('exposes the Prometheus metrics on the metrics port', async () => {
    const text = await scrape();
    expect(text).toMatch(/^xiaoer_ingest_messages_total\{adapter="zigbee2mqtt",site="xincheng"\} [1-9]/m);
    expect(text).toMatch(/^xiaoer_ingest_readings_total\{adapter="native",site="xincheng"\} 3$/m);
    expect(text).toMatch(/^xiaoer_sla_breaches_total\{clock="arrival",site="north",category="lock"\} 1$/m);
    expect(text).toMatch(/^xiaoer_open_tickets\{site="east",category="hvac",state="raised"\} 1$/m);
    expect(text).toMatch(/^xiaoer_rule_evaluations_total [1-9]/m);
    expect(text).toMatch(/^xiaoer_telemetry_written_points_total [1-9]/m);
    expect(text).toMatch(/^xiaoer_telemetry_spool_bytes \d+/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(text).toMatch(/^process_resident_memory_bytes /m);
    expect((await fetch(`http://127.0.0.1:${t.app.ports.metrics}/other`)).status).toBe(404);
  });
});
