import { afterEach, describe, expect, it } from 'vitest';
import { startInfluxd } from '../helpers/influxdb.ts';
import { startTestApp, type TestApp } from '../helpers/test-app.ts';
import { waitFor } from '../helpers/wait.ts';

type Side = {
  alarms: number;
  tickets: number;
  clears: number;
  assets: { site: string; assetId: string; alarms: number }[];
};
type Limits = { current: Record<string, unknown> | null; proposed: Record<string, unknown> | null };
type Chart = {
  metric: string | null;
  limits: Limits;
  series: {
    site: string;
    assetId: string;
    limits: Limits;
    points: [string, number][];
    raised: { current: string[]; proposed: string[] };
  }[];
};
type Preview = {
  readings: number;
  current: Side;
  proposed: Side;
  difference: { alarms: number; onlyProposed: string[] };
  chart: Chart;
};
type Ticket = {
  id: number;
  site: string;
  assetId: string;
  ruleId: string;
  detectedAt: string;
  events?: { type: string }[];
};

describe('previewing a rule change on real history', () => {
  let t: TestApp | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await t?.stop();
    t = undefined;
    for (const c of cleanups.splice(0)) await c();
  });

  it('counts what the live engine raised from the same readings published over MQTT, and what a change would raise', {
    timeout: 90_000,
  }, async () => {
    const influxd = await startInfluxd();
    cleanups.push(() => influxd.stop());
    t = await startTestApp({
      override: (c) => {
        c.influx = {
          url: influxd.url,
          database: 'xiaoer_preview',
          batchSize: 100,
          flushIntervalMs: 50,
          bufferMaxBytes: 16 * 1024 * 1024,
          requestTimeoutMs: 5000,
        };
      },
    });
    const app = t;
    const from = new Date(Date.now() - 1000).toISOString();
    const series: Record<string, number[]> = {
      xincheng: [25, 29, 25, 29, 25],
      north: [26, 29],
      east: [25, 27],
    };
    let published = 0;
    for (const [site, values] of Object.entries(series)) {
      const gw = await app.gateway(site);
      for (const value of values) {
        await gw.publishAsync(
          `${site}/xiaoer/hvac/hvac-2f-office/state`,
          JSON.stringify({ temperature_c: value }),
          {
            qos: 1,
          },
        );
        published++;
        // Distinct receipt times, so history and the live engine see the same order.
        const at = Date.now();
        await waitFor(() => (Date.now() > at ? true : undefined));
      }
    }
    const admin = await app.adminToken();
    const preview = (changes: Record<string, unknown>) =>
      app.request<Preview>('POST', '/api/rules/preview', {
        token: admin,
        body: { rule: 'office-overheat', changes, from, to: new Date(Date.now() + 1000).toISOString() },
      });
    const same = await waitFor(
      async () => {
        const res = await preview({ above: 24 });
        return res.status === 200 && res.body.readings === published ? res : undefined;
      },
      { what: 'every published reading in InfluxDB' },
    );

    // The rule in force, replayed, raised what the live engine raised.
    const list = await app.request<{ tickets: Ticket[] }>('GET', '/api/tickets', { token: admin });
    const live = list.body.tickets.filter((x) => x.ruleId === 'office-overheat');
    let liveAlarms = 0;
    const liveDetails: Ticket[] = [];
    for (const ticket of live) {
      const detail = await app.request<Ticket>('GET', `/api/tickets/${ticket.id}`, { token: admin });
      liveDetails.push(detail.body);
      liveAlarms +=
        detail.body.events?.filter((e) => e.type === 'raised' || e.type === 'alarm_repeated').length ?? 0;
    }
    expect(live).toHaveLength(2);
    expect(same.body.current.tickets).toBe(live.length);
    expect(same.body.current.alarms).toBe(liveAlarms);
    expect(same.body.current.alarms).toBe(3);
    expect(same.body.current.assets.map((a) => `${a.site}/${a.assetId}`).sort()).toEqual(
      live.map((x) => `${x.site}/${x.assetId}`).sort(),
    );
    // At 24 °C every office is too warm from its first reading and stays so: one alarm each.
    expect(same.body.proposed).toMatchObject({ tickets: 3, alarms: 3, clears: 0 });
    expect(same.body.difference.onlyProposed).toEqual(['east/hvac-2f-office']);

    // The chart: the readings written, each side's limit, and where each side raised.
    const { chart } = same.body;
    expect(chart.metric).toBe('temperature_c');
    expect(chart.limits).toEqual({ current: { above: 28 }, proposed: { above: 24 } });
    // One raise each by the proposal; then the most by the rule in force: xincheng (2), north (1).
    expect(chart.series.map((x) => x.site)).toEqual(['xincheng', 'north', 'east']);
    for (const s of chart.series) {
      expect(s.assetId).toBe('hvac-2f-office');
      expect(s.limits).toEqual(chart.limits);
      expect(s.points.map(([, value]) => value)).toEqual(series[s.site]);
      const times = s.points.map(([at]) => Date.parse(at));
      expect(times.every((t, i) => t >= Date.parse(from) && (i === 0 || t > (times[i - 1] as number)))).toBe(
        true,
      );
      // Above 28 raises on each rise over it; everything here is above 24 from the first reading on.
      const rises = s.points.filter(([, v], i) => v > 28 && (i === 0 || (s.points[i - 1]?.[1] ?? 0) <= 28));
      expect(s.raised.current, s.site).toEqual(rises.map(([at]) => at));
      expect(s.raised.proposed, s.site).toEqual([s.points[0]?.[0]]);
    }
    // Where the live tickets began is where the chart marks the rule in force's first raise.
    for (const ticket of liveDetails) {
      const s = chart.series.find((x) => x.site === ticket.site && x.assetId === ticket.assetId);
      expect(s?.raised.current[0]).toBe(ticket.detectedAt);
    }

    const bad = await preview({ above: 500 });
    expect(bad.status).toBe(400);
    const offline = await app.request<{ error: { code: string } }>('POST', '/api/rules/preview', {
      token: admin,
      body: { rule: 'device-offline', days: 1 },
    });
    expect(offline).toMatchObject({ status: 422, body: { error: { code: 'rule_not_replayable' } } });
    const staff = await app.userToken('desk', 'staff');
    const refused = await app.request('POST', '/api/rules/preview', {
      token: staff,
      body: { rule: 'office-overheat' },
    });
    expect(refused.status).toBe(403);
  });

  it('says clearly that there is no history to replay without InfluxDB', async () => {
    t = await startTestApp();
    const res = await t.request<{ error: { code: string; message: string } }>('POST', '/api/rules/preview', {
      token: await t.adminToken(),
      body: { rule: 'office-overheat', changes: { above: 26 } },
    });
    expect(res.body.error.code).toBe('influx_not_configured');
    expect(res.body.error.message).toMatch(/InfluxDB/);
  });
});
