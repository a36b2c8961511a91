import { describe, expect, it } from 'vitest';
import { faultsReport, scoreReport, slaReport, timingsReport } from '../../../src/reports/figures.ts';
import { isoWeek, type Period, range } from '../../../src/reports/period.ts';
import { dataOf, historyOf, MIN, type Plan, prng, randomPlan, targets, VERIFY_DELAY } from './history-gen.ts';

/*
 * The right answers are computed here from the plans (what happened, in plain terms), by a
 * second and deliberately simple computation, never from the events the code reads.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SHANGHAI = 'Asia/Shanghai';
/** Monday 2026-11-23 00:00 in Shanghai (+08:00, no daylight saving): the start of 2026-W48. */
const W48_SHANGHAI = Date.UTC(2026, 10, 22, 16);

/** The ISO week label of an instant, for the weeks of these tests, with a fixed offset. */
function weekOf(at: number, offsetHours: number): string {
  const mondayW48 = Date.UTC(2026, 10, 23) - offsetHours * HOUR;
  return `2026-W${48 + Math.floor((at - mondayW48) / (7 * DAY))}`;
}

/** Nearest rank: the value at rank ⌈p·n/100⌉, counted by hand from the smallest. */
function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  let rank = 1;
  while (rank < (p * sorted.length) / 100) rank++;
  return sorted[rank - 1] ?? null;
}

function expectStats(actual: unknown, netMs: number[]) {
  const mean = netMs.length ? netMs.reduce((a, b) => a + b, 0) / netMs.length / 1000 : null;
  expect(actual).toEqual({
    count: netMs.length,
    meanSeconds: mean === null ? null : expect.closeTo(mean, 2),
    medianSeconds: netMs.length ? (percentile(netMs, 50) as number) / 1000 : null,
    p90Seconds: netMs.length ? (percentile(netMs, 90) as number) / 1000 : null,
  });
}

const arrivalMet = (p: Plan) =>
  targets(p).arrival === null ? null : p.arriveNet <= (targets(p).arrival as number);
const repairMet = (p: Plan) => p.repairNet <= targets(p).repair;

/** Three weeks of tickets in Shanghai, plus some a millisecond either side of each week's start. */
function generated(seed: number): Plan[] {
  const rnd = prng(seed);
  const plans: Plan[] = [];
  let id = 1;
  for (let i = 0; i < 240; i++) {
    plans.push(randomPlan(rnd, id++, W48_SHANGHAI - 7 * DAY + Math.floor(rnd() * 28 * DAY)));
  }
  for (const w of [0, 1, 2]) {
    const start = W48_SHANGHAI + w * 7 * DAY;
    plans.push(randomPlan(rnd, id++, start - 1), randomPlan(rnd, id++, start));
  }
  return plans;
}

function compliance(outcomes: (boolean | null)[]) {
  const met = outcomes.filter((o) => o === true).length;
  const breached = outcomes.filter((o) => o === false).length;
  return { total: met + breached, met, breached, compliance: met + breached ? met / (met + breached) : null };
}

describe('report figures over generated histories', () => {
  for (const seed of [1, 2, 3]) {
    const plans = generated(seed);
    const data = dataOf(plans);
    const period: Period = isoWeek('2026-W49', SHANGHAI);
    const inPeriod = plans.filter((p) => p.detectedAt >= period.from && p.detectedAt < period.to);

    it(`seed ${seed}: SLA compliance per group (site, category, kind, maintainer, week)`, () => {
      const keyOf: Record<string, (p: Plan) => string> = {
        site: (p) => p.site,
        category: (p) => p.category,
        kind: (p) => ({ plumbing: 'plumbing', lock: 'lock', access: 'desk' })[p.category],
        maintainer: (p) => p.maintainer,
        week: (p) => weekOf(p.detectedAt, 8),
        none: () => 'all',
      };
      for (const [groupBy, key] of Object.entries(keyOf)) {
        const report = slaReport(data, { period }, groupBy as never);
        const keys = [...new Set(inPeriod.map(key))].sort();
        expect(report.groups.map((g) => g.key)).toEqual(keys);
        for (const g of report.groups) {
          const members = inPeriod.filter((p) => key(p) === g.key);
          expect(g.arrival, `${groupBy}=${g.key} arrival`).toEqual(compliance(members.map(arrivalMet)));
          expect(g.repair, `${groupBy}=${g.key} repair`).toEqual(compliance(members.map(repairMet)));
        }
      }
    });

    it(`seed ${seed}: every breach, with by how much it missed`, () => {
      const report = slaReport(data, { period }, 'none');
      const expected = inPeriod.flatMap((p) => {
        const out = [];
        const t = targets(p);
        if (arrivalMet(p) === false)
          out.push({
            ticketId: p.id,
            clock: 'arrival',
            overBySeconds: Math.round((p.arriveNet - (t.arrival as number)) / 1000),
          });
        if (!repairMet(p))
          out.push({
            ticketId: p.id,
            clock: 'repair',
            overBySeconds: Math.round((p.repairNet - t.repair) / 1000),
          });
        return out;
      });
      expect(
        report.breaches.map(({ ticketId, clock, overBySeconds }) => ({ ticketId, clock, overBySeconds })),
      ).toEqual(expect.arrayContaining(expected));
      expect(report.breaches).toHaveLength(expected.length);
    });

    it(`seed ${seed}: timings net of pauses, the first repair for MTTR, nearest-rank percentiles`, () => {
      const report = timingsReport(data, { period });
      expectStats(
        report.dispatch,
        inPeriod.map((p) => p.dispatchNet),
      );
      expectStats(
        report.arrive,
        inPeriod.map((p) => p.arriveNet),
      );
      expectStats(
        report.repair,
        inPeriod.map((p) => p.repairNet),
      );
      // A hand-raised ticket is verified on the maintainer's word, at the repair: not a verification time.
      expectStats(
        report.verify,
        inPeriod.filter((p) => !p.manual).map(() => VERIFY_DELAY),
      );
      expect(report.trend.map((t) => t.week)).toEqual(['2026-W49']);
    });

    it(`seed ${seed}: a month's trend, week by week`, () => {
      const month = range('2026-11-16', '2026-12-14', SHANGHAI);
      const report = timingsReport(data, { period: month });
      expect(report.trend.map((t) => t.week)).toEqual(['2026-W47', '2026-W48', '2026-W49', '2026-W50']);
      for (const t of report.trend) {
        const week = plans.filter((p) => weekOf(p.detectedAt, 8) === t.week);
        expectStats(
          t.repair,
          week.map((p) => p.repairNet),
        );
        expectStats(
          t.arrive,
          week.map((p) => p.arriveNet),
        );
      }
    });

    it(`seed ${seed}: the fault mix, reopened and flapping tickets, noise per rule`, () => {
      const report = faultsReport(data, { period });
      expect(report.total).toBe(inPeriod.length);
      for (const c of report.byCategory) {
        const n = inPeriod.filter((p) => p.category === c.key).length;
        expect(c).toEqual({ key: c.key, label: `cat:${c.key}`, count: n, share: n / inPeriod.length });
      }
      expect(report.byCategory.reduce((s, c) => s + c.count, 0)).toBe(inPeriod.length);
      for (const f of report.byFault) expect(f.count).toBe(inPeriod.filter((p) => p.fault === f.key).length);
      for (const s of report.bySite) {
        const here = inPeriod.filter((p) => p.site === s.site);
        expect(s.total).toBe(here.length);
        for (const c of s.byCategory)
          expect(c.share).toBeCloseTo(here.filter((p) => p.category === c.key).length / here.length, 12);
      }
      const assetCounts = new Map<string, number>();
      for (const p of inPeriod)
        assetCounts.set(`${p.site}/${p.assetId}`, (assetCounts.get(`${p.site}/${p.assetId}`) ?? 0) + 1);
      expect(report.topAssets[0]?.count).toBe(Math.max(...assetCounts.values()));
      for (const a of report.topAssets) expect(a.count).toBe(assetCounts.get(`${a.site}/${a.assetId}`));
      // The access desk has no location: it is in no room.
      expect(report.topRooms.reduce((s, r) => s + r.count, 0)).toBe(
        inPeriod.filter((p) => p.category !== 'access').length,
      );
      expect(report.reopened.map((r) => r.ticketId).sort((a, b) => a - b)).toEqual(
        inPeriod.filter((p) => p.reopen !== 'none').map((p) => p.id),
      );
      expect(report.flapping.map((r) => r.ticketId).sort((a, b) => a - b)).toEqual(
        inPeriod.filter((p) => p.flapping).map((p) => p.id),
      );
      for (const n of report.noise) {
        const rule = inPeriod.filter((p) => (p.manual ? 'manual' : `${p.category}-rule`) === n.ruleId);
        expect(n.tickets).toBe(rule.length);
        expect(n.score).toBeCloseTo(
          rule.filter((p) => p.resolution === 'no_fault_found').length / rule.length,
          12,
        );
      }
    });

    it(`seed ${seed}: scores per maintainer and team, with satisfaction when called back`, () => {
      const rnd = prng(seed + 100);
      const satisfaction = new Map<number, number>();
      for (const p of inPeriod) if (rnd() < 0.6) satisfaction.set(p.id, 1 + Math.floor(rnd() * 5));
      const weights = { sla: 0.5, reopen: 0.2, satisfaction: 0.3 };
      const teams = { day: { name: 'Day team', members: ['wang', 'li'] } };
      const report = scoreReport(dataOf(plans, undefined, satisfaction), { period }, weights, teams);
      const expectedRow = (members: Plan[]) => {
        const clocks = members.flatMap((p) => [arrivalMet(p), repairMet(p)]).filter((m) => m !== null);
        const sla = clocks.filter(Boolean).length / clocks.length;
        const reopen = members.filter((p) => p.reopen !== 'none').length / members.length;
        const scores = members.map((p) => satisfaction.get(p.id)).filter((s) => s !== undefined);
        const sat = scores.length ? scores.reduce((a, b) => a + b, 0) / scores.length : null;
        const parts = [[0.5, sla], [0.2, 1 - reopen], ...(sat === null ? [] : [[0.3, (sat - 1) / 4]])] as [
          number,
          number,
        ][];
        const w = parts.reduce((s, [wi]) => s + wi, 0);
        return { sla, reopen, sat, score: (100 * parts.reduce((s, [wi, x]) => s + wi * x, 0)) / w };
      };
      for (const row of report.maintainers) {
        const e = expectedRow(inPeriod.filter((p) => p.maintainer === row.key));
        expect(row.slaCompliance).toBeCloseTo(e.sla, 12);
        expect(row.reopenRate).toBeCloseTo(e.reopen, 12);
        expect(row.satisfaction).toEqual(e.sat === null ? null : expect.closeTo(e.sat, 12));
        expect(row.score).toBeCloseTo(e.score, 1);
        expect(row.weights).toEqual(weights);
      }
      const team = report.teams[0];
      expect(team?.label).toBe('Day team');
      const e = expectedRow(inPeriod.filter((p) => p.maintainer === 'wang' || p.maintainer === 'li'));
      expect(team?.slaCompliance).toBeCloseTo(e.sla, 12);
      expect(team?.score).toBeCloseTo(e.score, 1);
    });
  }
});

describe('period membership', () => {
  const plan = (id: number, detectedAt: number): Plan => ({
    ...randomPlan(prng(id), id, detectedAt),
    pauseMs: 0,
  });

  it('a ticket detected 1 ms before a week starts is in the week before; at the start, in the week', () => {
    const data = dataOf([plan(1, W48_SHANGHAI - 1), plan(2, W48_SHANGHAI)]);
    expect(faultsReport(data, { period: isoWeek('2026-W47', SHANGHAI) }).total).toBe(1);
    expect(faultsReport(data, { period: isoWeek('2026-W48', SHANGHAI) }).total).toBe(1);
    const ids = (week: string) =>
      faultsReport(data, { period: isoWeek(week, SHANGHAI) }).topAssets.length > 0
        ? data.histories
            .filter((h) => h.ticket.detectedAt >= isoWeek(week, SHANGHAI).from)
            .map((h) => h.ticket.id)
        : [];
    expect(ids('2026-W48')).toEqual([2]);
    // In UTC both instants are Sunday afternoon: both in W47.
    expect(faultsReport(data, { period: isoWeek('2026-W47', 'UTC') }).total).toBe(2);
    expect(faultsReport(data, { period: isoWeek('2026-W48', 'UTC') }).total).toBe(0);
  });

  it('groups by week in the report’s zone', () => {
    // Sunday 2026-11-29 20:00 UTC is Monday 04:00 in Shanghai.
    const at = Date.UTC(2026, 10, 29, 20);
    const data = dataOf([plan(1, at)]);
    const month = (tz: string) => range('2026-11-01', '2026-12-31', tz);
    expect(slaReport(data, { period: month(SHANGHAI) }, 'week').groups.map((g) => g.key)).toEqual([
      '2026-W49',
    ]);
    expect(slaReport(data, { period: month('UTC') }, 'week').groups.map((g) => g.key)).toEqual(['2026-W48']);
  });

  it('later events of other periods never change a past period, and figures are read up to asOf', () => {
    const rnd = prng(42);
    const week = isoWeek('2026-W48', SHANGHAI);
    const past = Array.from({ length: 30 }, (_, i) =>
      randomPlan(rnd, i + 1, week.from + Math.floor(rnd() * 7 * DAY)),
    );
    const later = Array.from({ length: 30 }, (_, i) =>
      randomPlan(rnd, i + 100, week.to + Math.floor(rnd() * 7 * DAY)),
    );
    const before = slaReport(dataOf(past), { period: week }, 'site');
    const after = slaReport(dataOf([...past, ...later]), { period: week }, 'site');
    expect(after).toEqual(before);
    expect(timingsReport(dataOf([...past, ...later]), { period: week })).toEqual(
      timingsReport(dataOf(past), { period: week }),
    );

    // As of 1 minute after detection of a lone ticket, nothing is decided yet.
    const lone = { ...plan(7, week.from + HOUR), pauseMs: 0, arriveNet: 4 * MIN, dispatchNet: 2 * MIN };
    const early = slaReport(dataOf([lone], lone.detectedAt + MIN), { period: week }, 'none');
    expect(early.groups[0]?.arrival).toEqual({ total: 0, met: 0, breached: 0, compliance: null });
    const atArrival = slaReport(dataOf([lone], lone.detectedAt + 4 * MIN), { period: week }, 'none');
    expect(atArrival.groups[0]?.arrival.met).toBe(lone.category === 'access' ? 0 : 1);
  });
});

describe('reopened tickets and paused time, by hand', () => {
  const base = (over: Partial<Plan>): Plan => ({
    ...randomPlan(prng(9), 1, W48_SHANGHAI + DAY),
    category: 'plumbing',
    assetId: 'leak-b1',
    manual: false,
    pauseMs: 0,
    dispatchNet: 2 * MIN,
    arriveNet: 4 * MIN,
    repairNet: 50 * MIN,
    earlyRepairNet: 20 * MIN,
    reopen: 'none',
    ...over,
  });
  const week = () => isoWeek('2026-W48', SHANGHAI);

  it('a repair undone before verification never happened: MTTR is to the repair that held', () => {
    const r = timingsReport(dataOf([base({ reopen: 'before' })]), { period: week() });
    expect(r.repair.meanSeconds).toBe(50 * 60);
    expect(faultsReport(dataOf([base({ reopen: 'before' })]), { period: week() }).reopened).toEqual([
      { ticketId: 1, workOrder: 'XC-1', reopenCount: 1 },
    ]);
  });

  it('a recurrence after verification keeps the first repair and its met clock; the second cycle is not judged', () => {
    const data = dataOf([base({ reopen: 'after' })]);
    expect(timingsReport(data, { period: week() }).repair.meanSeconds).toBe(50 * 60);
    const sla = slaReport(data, { period: week() }, 'none');
    expect(sla.groups[0]?.repair).toEqual({ total: 1, met: 1, breached: 0, compliance: 1 });
    expect(sla.breaches).toEqual([]);
  });

  it('a 40-minute pause moves the deadline: 90 wall minutes with 40 paused is 50 net, met', () => {
    const data = dataOf([base({ pauseMs: 40 * MIN })]);
    const sla = slaReport(data, { period: week() }, 'none');
    expect(sla.groups[0]?.repair).toEqual({ total: 1, met: 1, breached: 0, compliance: 1 });
    const t = timingsReport(data, { period: week() });
    expect(t.repair.meanSeconds).toBe(50 * 60);
    expect(t.arrive.meanSeconds).toBe(4 * 60);
  });

  it('a breach tells by how much the target was missed', () => {
    const data = dataOf([base({ arriveNet: 7 * MIN, repairNet: 75 * MIN, pauseMs: 10 * MIN })]);
    const sla = slaReport(data, { period: week() }, 'none');
    expect(sla.breaches.map((b) => [b.clock, b.overBySeconds])).toEqual([
      ['arrival', 120],
      ['repair', 900],
    ]);
  });
});

describe('an outage verified by its recovery', () => {
  it('the recovery stands for the repair: judged against the deadline, MTTR to the recovery', () => {
    const detectedAt = W48_SHANGHAI + DAY;
    const history = historyOf({
      ...randomPlan(prng(5), 1, detectedAt),
      category: 'lock',
      assetId: 'lock-3f',
      manual: false,
      pauseMs: 0,
      reopen: 'none',
    });
    const recoveredAt = detectedAt + 40 * MIN;
    history.ticket = {
      ...history.ticket,
      meaning: 'outage',
      ruleId: 'correlation',
      fault: 'gateway_offline',
    };
    history.events = [
      { id: 1, ticketId: 1, at: detectedAt, actor: 'system:correlation', type: 'raised', detail: {} },
      {
        id: 2,
        ticketId: 1,
        at: detectedAt + 3 * MIN,
        actor: 'desk',
        type: 'dispatched',
        detail: { assignee: 'wang' },
      },
      {
        id: 3,
        ticketId: 1,
        at: detectedAt + 4 * MIN,
        actor: 'wang',
        type: 'arrived',
        detail: { met: true, dueAt: detectedAt + 5 * MIN },
      },
      { id: 4, ticketId: 1, at: recoveredAt, actor: 'system:rules', type: 'alarm_cleared', detail: {} },
      {
        id: 5,
        ticketId: 1,
        at: recoveredAt + 5 * MIN,
        actor: 'system:correlation',
        type: 'verified',
        detail: { by: 'recovery', recoveredAt: new Date(recoveredAt).toISOString() },
      },
    ];
    const data = { ...dataOf([]), histories: [history] };
    const period = isoWeek('2026-W48', SHANGHAI);
    expect(slaReport(data, { period }, 'none').groups[0]?.repair).toEqual({
      total: 1,
      met: 1,
      breached: 0,
      compliance: 1,
    });
    const t = timingsReport(data, { period });
    expect([t.repair.meanSeconds, t.verify.meanSeconds]).toEqual([40 * 60, 5 * 60]);
    expect(faultsReport(data, { period }).noise).toEqual([]);
  });
});
