import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../src/app.ts';
import { createLogger } from '../../src/core/logger.ts';
import { ManualScheduler } from '../helpers/manual-scheduler.ts';
import { ADMIN_PASSWORD, testConfig } from '../helpers/test-app.ts';

/*
 * A small real history through the API and SQLite, with time driven by the injected scheduler:
 * two hand-raised tickets in 2026-W48 (Shanghai), one at xincheng whose repair spans a 20-minute
 * maintenance window, one at north that misses both targets, and one in the next week.
 */

const MIN = 60_000;
/** Wednesday 2026-11-25 10:00 in Shanghai. */
const T0 = Date.UTC(2026, 10, 25, 2);
const iso = (at: number) => new Date(at).toISOString();

// biome-ignore lint/suspicious/noExplicitAny: JSON answers, checked field by field with toEqual
type Body = Record<string, any>;

describe('GET /api/reports/* over a real history', () => {
  const scheduler = new ManualScheduler(T0);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'xiaoer-reports-'));
  let app: App;
  let base: string;
  const tokens: Record<string, string> = {};

  const call = async (method: string, url: string, token?: string, body?: unknown) => {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Body };
  };
  const ok = async (method: string, url: string, token: string, body?: unknown) => {
    const res = await call(method, url, token, body);
    if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const login = async (username: string, password: string) =>
    (await ok('POST', '/api/auth/login', '', { username, password })).token as string;
  const at = (offsetMin: number) => scheduler.advanceTo(T0 + offsetMin * MIN);

  beforeAll(async () => {
    const config = testConfig(dataDir);
    app = new App({ config, log: createLogger('silent'), scheduler });
    await app.start();
    base = `http://127.0.0.1:${app.ports.http}`;
    tokens.admin = await login('admin', ADMIN_PASSWORD);
    for (const [username, sites] of [
      ['wang', ['xincheng']],
      ['li', ['north']],
    ] as const) {
      await ok('POST', '/api/users', tokens.admin, {
        username,
        displayName: username === 'wang' ? '王师傅' : username,
        role: 'maintainer',
        password: `${username}-password`,
        sites,
      });
      tokens[username] = await login(username, `${username}-password`);
    }

    const raise = (site: string, assetId: string, fault: string) =>
      ok('POST', '/api/tickets', tokens.admin as string, { site, assetId, fault });
    const t1 = (await raise('xincheng', 'leak-b1-riser', 'water_leak')).id;
    const t2 = (await raise('north', 'lock-3f-east', 'jammed')).id;
    await at(1);
    await ok('POST', `/api/tickets/${t1}/dispatch`, tokens.admin, { assignee: 'wang' });
    await ok('POST', `/api/tickets/${t2}/dispatch`, tokens.admin, { assignee: 'li' });
    await at(3);
    await ok('POST', `/api/tickets/${t1}/arrive`, tokens.wang as string);
    await at(5); // t2's arrival target passes here: the SLA scheduler records the breach
    await ok('POST', '/api/maintenance', tokens.admin, {
      site: 'xincheng',
      startsAt: iso(T0 + 10 * MIN),
      endsAt: iso(T0 + 30 * MIN),
      reason: 'riser valve replacement',
    });
    await at(8);
    await ok('POST', `/api/tickets/${t2}/arrive`, tokens.li as string);
    await at(65); // t2's repair target passed at 60
    await ok('POST', `/api/tickets/${t2}/repaired`, tokens.li as string, { note: 'lock replaced' });
    await at(70); // 70 minutes, 20 of them paused: 50 net, and the deadline moved to 80
    await ok('POST', `/api/tickets/${t1}/repaired`, tokens.wang as string, { note: 'valve replaced' });
    for (const id of [t1, t2]) await ok('POST', `/api/tickets/${id}/close`, tokens.admin, {});
    await at(120); // the desk calls both reporters back
    await ok('POST', `/api/tickets/${t1}/callback`, tokens.admin, { reached: true, score: 5 });
    await ok('POST', `/api/tickets/${t2}/callback`, tokens.admin, {
      reached: true,
      score: 2,
      remark: 'slow',
    });
    // Next week, a ticket that must not touch W48's figures (sessions expired meanwhile).
    await at(7 * 24 * 60);
    tokens.admin = await login('admin', ADMIN_PASSWORD);
    tokens.wang = await login('wang', 'wang-password');
    await raise('xincheng', 'lock-3f-east', 'offline');
  });

  afterAll(async () => {
    await app?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('SLA compliance and the breaches, with the pause moving the deadline', async () => {
    const r = await ok('GET', '/api/reports/sla?week=2026-W48&groupBy=site', tokens.admin as string);
    expect(r.period).toEqual({
      from: '2026-11-22T16:00:00.000Z',
      to: '2026-11-29T16:00:00.000Z',
      timeZone: 'Asia/Shanghai',
      label: '2026-W48',
    });
    expect(r.groups).toEqual([
      {
        key: 'north',
        label: 'North office site',
        arrival: { total: 1, met: 0, breached: 1, compliance: 0 },
        repair: { total: 1, met: 0, breached: 1, compliance: 0 },
      },
      {
        key: 'xincheng',
        label: '新城大厦 Xincheng Tower',
        arrival: { total: 1, met: 1, breached: 0, compliance: 1 },
        repair: { total: 1, met: 1, breached: 0, compliance: 1 },
      },
    ]);
    expect(r.breaches.map((b: Body) => [b.site, b.clock, b.dueAt, b.at, b.overBySeconds])).toEqual([
      ['north', 'arrival', iso(T0 + 5 * MIN), iso(T0 + 8 * MIN), 180],
      ['north', 'repair', iso(T0 + 60 * MIN), iso(T0 + 65 * MIN), 300],
    ]);
    const all = await ok('GET', '/api/reports/sla?from=2026-11-23&to=2026-11-30', tokens.admin as string);
    expect(all.groups[0].repair).toEqual({ total: 2, met: 1, breached: 1, compliance: 0.5 });
  });

  it('timings net of the pause, with nearest-rank percentiles, and the week trend', async () => {
    const r = await ok('GET', '/api/reports/timings?week=2026-W48', tokens.admin as string);
    expect(r.dispatch).toEqual({ count: 2, meanSeconds: 60, medianSeconds: 60, p90Seconds: 60 });
    expect(r.arrive).toEqual({ count: 2, meanSeconds: 330, medianSeconds: 180, p90Seconds: 480 });
    expect(r.repair).toEqual({ count: 2, meanSeconds: 3450, medianSeconds: 3000, p90Seconds: 3900 });
    // Both were raised by hand: verified on the maintainer's word, no verification time.
    expect(r.verify.count).toBe(0);
    expect(r.trend.map((t: Body) => t.week)).toEqual(['2026-W48']);
  });

  it('the fault mix, and scores with their weights and the call-backs’ satisfaction', async () => {
    const f = await ok('GET', '/api/reports/faults?week=2026-W48', tokens.admin as string);
    expect(f.total).toBe(2);
    expect(f.byCategory.map((c: Body) => [c.key, c.count, c.share])).toEqual([
      ['lock', 1, 0.5],
      ['plumbing', 1, 0.5],
    ]);
    expect(f.topRooms).toEqual([{ site: 'xincheng', location: 'B1 water riser', count: 1 }]);
    const s = await ok('GET', '/api/reports/scores?week=2026-W48', tokens.admin as string);
    expect(s.weights).toEqual({ sla: 0.5, reopen: 0.2, satisfaction: 0.3 });
    expect(
      s.maintainers.map((m: Body) => [m.key, m.slaCompliance, m.reopenRate, m.satisfaction, m.score]),
    ).toEqual([
      ['li', 0, 0, 2, 27.5],
      ['wang', 1, 0, 5, 100],
    ]);
    // Before the call-backs, satisfaction is left out and the other weights count in proportion.
    const before = await ok(
      'GET',
      `/api/reports/scores?week=2026-W48&asOf=${iso(T0 + 100 * MIN)}`,
      tokens.admin as string,
    );
    expect(before.maintainers.map((m: Body) => [m.key, m.satisfaction, m.score])).toEqual([
      ['li', null, 28.6],
      ['wang', null, 100],
    ]);
    expect(s.maintainers.map((m: Body) => m.label)).toEqual(['li', '王师傅']);
    const byMaintainer = await ok(
      'GET',
      '/api/reports/sla?week=2026-W48&groupBy=maintainer',
      tokens.admin as string,
    );
    expect(byMaintainer.groups.map((g: Body) => [g.key, g.label, g.arrival.met])).toEqual([
      ['li', 'li', 0],
      ['wang', '王师傅', 1],
    ]);
    const next = await ok('GET', '/api/reports/faults?week=2026-W49', tokens.admin as string);
    expect(next.total).toBe(1);
  });

  it('reads events up to asOf: before the north arrival was due, only xincheng’s arrival is decided', async () => {
    const r = await ok(
      'GET',
      `/api/reports/sla?week=2026-W48&asOf=${iso(T0 + 4 * MIN)}`,
      tokens.admin as string,
    );
    expect(r.groups[0].arrival).toEqual({ total: 1, met: 1, breached: 0, compliance: 1 });
    expect(r.groups[0].repair.total).toBe(0);
  });

  it('a maintainer sees their own sites only', async () => {
    const r = await ok('GET', '/api/reports/sla?week=2026-W48&groupBy=site', tokens.wang as string);
    expect(r.groups.map((g: Body) => g.key)).toEqual(['xincheng']);
    expect(r.breaches).toEqual([]);
    const f = await ok('GET', '/api/reports/faults?week=2026-W48', tokens.wang as string);
    expect(f.total).toBe(1);
    const other = await call('GET', '/api/reports/timings?week=2026-W48&site=north', tokens.wang);
    expect([other.status, other.body.error.code]).toEqual([403, 'other_site']);
  });

  it('refuses a bad period or an unknown parameter', async () => {
    const bad = await call('GET', '/api/reports/sla?week=2026-48', tokens.admin);
    expect([bad.status, bad.body.error.code]).toEqual([400, 'invalid_week']);
    const typo = await call('GET', '/api/reports/sla?week=2026-W48&groupby=site', tokens.admin);
    expect(typo.status).toBe(400);
    expect(typo.body.error.message).toMatch(/did you mean "groupBy"/);
    const both = await call('GET', '/api/reports/faults?week=2026-W48&month=2026-11', tokens.admin);
    expect([both.status, both.body.error.code]).toEqual([400, 'invalid_period']);
    expect((await call('GET', '/api/reports/faults?week=2026-W48')).status).toBe(401);
  });
});
