import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.ts';
import { ruleSchema } from '../../src/rules/config.ts';
import { startTestApp, type TestApp } from '../helpers/test-app.ts';
import { waitFor } from '../helpers/wait.ts';

type TicketJson = { id: number; assetId: string; fault: string; status: string; alarmActive: boolean };

describe('rules and planned work, end to end over MQTT', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  const start = async (override: (c: Config) => void) => {
    t = await startTestApp({ override });
    return { app: t, staff: await t.userToken('desk', 'staff') };
  };
  const tickets = async (app: TestApp, token: string) =>
    (await app.request<{ tickets: TicketJson[] }>('GET', '/api/tickets', { token })).body.tickets;

  it('a pressure drop faster than the limit raises a burst ticket (native devices with their own timestamps)', async () => {
    const { app, staff } = await start((c) => {
      c.sites.find((s) => s.id === 'east')?.devices.push({ id: 'riser-pressure', kind: 'plumbing' });
      c.rules.push(
        ruleSchema.parse({
          id: 'pipe-burst',
          type: 'rate',
          kinds: ['plumbing'],
          metric: 'pressure_kpa',
          fallingFasterThan: 60,
          windowSeconds: 120,
          fault: 'pipe_burst',
          severity: 'critical',
        }),
      );
    });
    const gw = await app.gateway('east');
    const now = Date.now();
    for (const [ago, kpa] of [
      [90, 410],
      [60, 405],
      [30, 402],
      [0, 290],
    ] as const) {
      const payload = JSON.stringify({ pressure_kpa: kpa, ts: new Date(now - ago * 1000).toISOString() });
      await gw.publishAsync('east/xiaoer/plumbing/riser-pressure/state', payload, { qos: 1 });
    }
    expect(await tickets(app, staff)).toEqual([
      expect.objectContaining({ assetId: 'riser-pressure', fault: 'pipe_burst' }),
    ]);
  });

  it('hysteresis keeps one alarm while the temperature hovers, and a duration rule waits before raising', async () => {
    const { app, staff } = await start((c) => {
      const hot = c.rules.find((r) => r.id === 'office-overheat');
      if (hot?.type === 'threshold') Object.assign(hot, { clearBelow: 27, forSeconds: 3 });
    });
    const gw = await app.gateway('north');
    const temp = (v: number) =>
      gw.publishAsync('north/zigbee2mqtt/hvac-2f-office', JSON.stringify({ local_temperature: v }), {
        qos: 1,
      });
    await temp(28.6);
    // Not yet: 3 s must pass (ample for this look even on a loaded machine).
    expect(await tickets(app, staff)).toEqual([]);
    const raised = await waitFor(async () => (await tickets(app, staff))[0], { what: 'timed raise' });
    expect(raised).toMatchObject({ fault: 'over_temperature', alarmActive: true });
    for (const v of [27.8, 28.3, 27.6, 28.1]) await temp(v);
    expect((await tickets(app, staff))[0]?.alarmActive).toBe(true);
    await temp(26.8);
    expect((await tickets(app, staff))[0]?.alarmActive).toBe(false);
    expect(await tickets(app, staff)).toHaveLength(1);
  });

  it('a lock silent longer than its interval raises no_data; planned work on its site silences it', async () => {
    t = await startTestApp({
      override: (c) => {
        c.rules.push(
          ruleSchema.parse({
            id: 'lock-silent',
            type: 'no_data',
            kinds: ['lock'],
            silentSeconds: 1.5,
            fault: 'no_data',
          }),
        );
        // Xincheng's lock reports often enough for its own interval (an hour here).
        const lock = c.sites[0]?.devices.find((d) => d.id === 'lock-3f-east');
        if (lock) lock.rules = { 'lock-silent': { silentSeconds: 3600 } };
      },
    });
    const app = t;
    const staff = await app.userToken('desk', 'staff');
    const now = Date.now();
    const window = await app.request('POST', '/api/maintenance', {
      token: staff,
      body: {
        site: 'east',
        startsAt: new Date(now - 1000).toISOString(),
        endsAt: new Date(now + 3_600_000).toISOString(),
        reason: 'network works',
      },
    });
    expect(window.status).toBe(201);
    // Silence clocks start when a site's gateway is commissioned (connects for the first time).
    await Promise.all([app.gateway('xincheng'), app.gateway('north'), app.gateway('east')]);
    // North's lock falls silent: a ticket. East's does too, under planned work: held back, counted.
    await waitFor(
      async () => ((await app.app.health()).ingest as { silenced: number }).silenced >= 1 || undefined,
      {
        what: "east's silence held back",
      },
    );
    await waitFor(
      async () =>
        (await app.request<{ tickets: TicketJson[] }>('GET', '/api/tickets', { token: staff })).body.tickets
          .length > 0 || undefined,
      { what: "north's no_data ticket" },
    );
    await checkSilence(app, staff);
  });
});

async function checkSilence(app: TestApp, staff: string): Promise<void> {
  const tickets = async () =>
    (await app.request<{ tickets: TicketJson[] }>('GET', '/api/tickets', { token: staff })).body.tickets;
  const silent = (await tickets()).filter((x) => x.fault === 'no_data');
  expect(silent.map((x) => x.assetId)).toEqual(['lock-3f-east']);
  const detail = await app.request<{ site: string }>('GET', `/api/tickets/${silent[0]?.id}`, {
    token: staff,
  });
  expect(detail.body.site).toBe('north');
  const list = await app.request<{ windows: { reason: string; createdBy: string }[] }>(
    'GET',
    '/api/maintenance',
    { token: staff },
  );
  expect(list.body.windows).toEqual([
    expect.objectContaining({ reason: 'network works', createdBy: 'desk' }),
  ]);
}
