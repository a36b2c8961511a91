import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { assertSite, siteFilter } from '../../auth/site-scope.ts';
import { badRequest } from '../../core/errors.ts';
import type { Instant } from '../../domain/types.ts';
import { GROUP_BYS, type ReportFilter } from '../../reports/figures.ts';
import { isoWeek, month, type Period, range, weekLabel } from '../../reports/period.ts';
import type { ApiDeps } from '../build-api.ts';
import { errorSchema, query } from '../views.ts';
import { userOf } from './tickets.ts';

const iso = (at: Instant) => new Date(at).toISOString();

const periodQuery = {
  week: z.string().max(16).optional().describe('an ISO week, `2026-W48`'),
  month: z.string().max(16).optional().describe('a month, `2026-11`'),
  from: z.string().max(40).optional().describe('`2026-11-01` (local midnight) or an ISO instant'),
  to: z.string().max(40).optional().describe('exclusive, like `from`'),
  asOf: z.iso.datetime({ offset: true }).optional().describe('read events up to here (default: now)'),
  site: z.string().max(64).optional(),
  category: z.string().max(64).optional(),
};

const periodSchema = z.object({ from: z.string(), to: z.string(), timeZone: z.string(), label: z.string() });
const complianceSchema = z.object({
  total: z.number(),
  met: z.number(),
  breached: z.number(),
  compliance: z.number().nullable(),
});
const statsSchema = z.object({
  count: z.number(),
  meanSeconds: z.number().nullable(),
  medianSeconds: z.number().nullable(),
  p90Seconds: z.number().nullable(),
});
const shareSchema = z.object({ key: z.string(), label: z.string(), count: z.number(), share: z.number() });
const weightsSchema = z.object({ sla: z.number(), reopen: z.number(), satisfaction: z.number() });
const scoreRowSchema = z.object({
  key: z.string(),
  label: z.string(),
  tickets: z.number(),
  slaCompliance: z.number().nullable(),
  reopenRate: z.number().nullable(),
  satisfaction: z.number().nullable(),
  score: z.number().nullable(),
  weights: weightsSchema,
});
const head = { period: periodSchema, asOf: z.string() };

const responses = {
  sla: z.object({
    ...head,
    groupBy: z.enum(GROUP_BYS),
    groups: z.array(
      z.object({ key: z.string(), label: z.string(), arrival: complianceSchema, repair: complianceSchema }),
    ),
    breaches: z.array(
      z.object({
        ticketId: z.number(),
        workOrder: z.string().nullable(),
        site: z.string(),
        assetId: z.string(),
        category: z.string(),
        clock: z.enum(['arrival', 'repair']),
        dueAt: z.string(),
        at: z.string().nullable(),
        overBySeconds: z.number(),
      }),
    ),
  }),
  timings: z.object({
    ...head,
    dispatch: statsSchema,
    arrive: statsSchema,
    repair: statsSchema,
    verify: statsSchema,
    trend: z.array(
      z.object({
        week: z.string(),
        dispatch: statsSchema,
        arrive: statsSchema,
        repair: statsSchema,
        verify: statsSchema,
      }),
    ),
  }),
  faults: z.object({
    ...head,
    total: z.number(),
    byCategory: z.array(shareSchema),
    byFault: z.array(shareSchema),
    bySite: z.array(
      z.object({ site: z.string(), label: z.string(), total: z.number(), byCategory: z.array(shareSchema) }),
    ),
    topAssets: z.array(
      z.object({ site: z.string(), assetId: z.string(), name: z.string(), count: z.number() }),
    ),
    topRooms: z.array(z.object({ site: z.string(), location: z.string(), count: z.number() })),
    reopened: z.array(
      z.object({ ticketId: z.number(), workOrder: z.string().nullable(), reopenCount: z.number() }),
    ),
    flapping: z.array(z.object({ ticketId: z.number(), workOrder: z.string().nullable() })),
    noise: z.array(z.object({ ruleId: z.string(), score: z.number(), tickets: z.number() })),
  }),
  scores: z.object({
    ...head,
    weights: weightsSchema,
    maintainers: z.array(scoreRowSchema),
    teams: z.array(scoreRowSchema),
  }),
};

type PeriodQuery = { week?: string; month?: string; from?: string; to?: string };

/** One of week, month or from+to; none: the current ISO week. */
export function periodOf(q: PeriodQuery, timeZone: string, now: Instant): Period {
  const given = [q.week, q.month, q.from ?? q.to].filter((v) => v !== undefined).length;
  if (given > 1) throw badRequest('invalid_period', 'give one of week, month, or from and to');
  if (q.week !== undefined) return isoWeek(q.week, timeZone);
  if (q.month !== undefined) return month(q.month, timeZone);
  if (q.from !== undefined || q.to !== undefined) {
    if (q.from === undefined || q.to === undefined)
      throw badRequest('invalid_period', 'from and to go together');
    return range(q.from, q.to, timeZone);
  }
  return isoWeek(weekLabel(now, timeZone), timeZone);
}

const wirePeriod = (p: Period) => ({
  from: iso(p.from),
  to: iso(p.to),
  timeZone: p.timeZone,
  label: p.label,
});

/**
 * GET /api/reports/{sla,timings,faults,scores}: the figures of the tickets detected in a period,
 * read from their events up to `asOf`. A user scoped to sites sees only theirs (another site asked
 * for by name is 403 `other_site`).
 */
export const reportRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const anyone = app.requireRole();
    const tz = deps.reports.timeZone;
    const filterOf = (req: FastifyRequest, q: PeriodQuery & { site?: string; category?: string }) => {
      const user = userOf(req);
      if (q.site !== undefined) assertSite(user, q.site);
      const sites = siteFilter(user);
      const filter: ReportFilter = { period: periodOf(q, tz, deps.clock.now()) };
      if (q.site !== undefined) filter.site = q.site;
      if (q.category !== undefined) filter.category = q.category;
      if (sites) filter.sites = sites;
      return filter;
    };
    const asOfOf = (q: { asOf?: string }) => (q.asOf === undefined ? deps.clock.now() : Date.parse(q.asOf));
    const errors = { 400: errorSchema, 401: errorSchema, 403: errorSchema };
    const describe = (summary: string, description: string) => ({ summary, description, tags: ['reports'] });

    app.get(
      '/reports/sla',
      {
        onRequest: anyone,
        schema: {
          ...describe(
            'SLA compliance per group, and the breaches',
            'Per group the arrival and repair clocks decided by `asOf`: `{total, met, breached, compliance}`.',
          ),
          querystring: query({ ...periodQuery, groupBy: z.enum(GROUP_BYS).default('none') }),
          response: { 200: responses.sla, ...errors },
        },
      },
      async (req) => {
        const r = await deps.reports.sla(filterOf(req, req.query), req.query.groupBy, asOfOf(req.query));
        return {
          ...r,
          period: wirePeriod(r.period),
          asOf: iso(r.asOf),
          groupBy: req.query.groupBy,
          breaches: r.breaches.map((b) => ({
            ...b,
            dueAt: iso(b.dueAt),
            at: b.at === null ? null : iso(b.at),
          })),
        };
      },
    );

    const plain = [
      [
        'timings',
        'Time to dispatch, arrive, repair and verify',
        'Mean, median and 90th percentile (nearest rank), net of SLA pauses, and per ISO week.',
      ],
      [
        'faults',
        'The fault mix',
        'Shares per category, fault and site; the assets and rooms with most tickets; reopened and flapping tickets; noise per rule.',
      ],
      [
        'scores',
        'Weighted score per maintainer and team',
        'SLA compliance, reopen rate and call-back satisfaction, weighted as `reports.scoring.weights` says (shown with each score).',
      ],
    ] as const;
    for (const [name, summary, description] of plain) {
      app.get(
        `/reports/${name}`,
        {
          onRequest: anyone,
          schema: {
            ...describe(summary, description),
            querystring: query(periodQuery),
            response: { 200: responses[name], ...errors },
          },
        },
        async (req) => {
          const r = await deps.reports[name](filterOf(req, req.query), asOfOf(req.query));
          return { ...r, period: wirePeriod(r.period), asOf: iso(r.asOf) } as never;
        },
      );
    }
  };
