import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { METRICS } from '../../../adapters/metrics.ts';
import { seesSite } from '../../auth/site-scope.ts';
import { notFound } from '../../core/errors.ts';
import { strictObject } from '../../core/strict.ts';
import { readAssetSeries } from '../../telemetry/asset-series.ts';
import { ticketDtoSchema } from '../../tickets/ticket-dto.ts';
import type { ApiDeps } from '../build-api.ts';
import { errorSchema, iso, pageQuery, query } from '../views.ts';
import { actorOf, userOf } from './tickets.ts';

const assetSchema = z.object({
  site: z.string(),
  id: z.string(),
  kind: z.string(),
  category: z.string(),
  name: z.string(),
  location: z.string().optional(),
  status: z.enum(['confirmed', 'unconfirmed']),
  source: z.string(),
  firstSeenAt: z.string().optional(),
});

/** Most points per series on the asset page's chart. */
const MAX_CHART_POINTS = 600;

const view = (a: ReturnType<ApiDeps['assets']['list']>[number]) => {
  const { rules: _rules, ...rest } = a;
  return { ...rest, firstSeenAt: iso(a.firstSeenAt) };
};

const assetParams = strictObject({ site: z.string().max(64), id: z.string().max(256) });

const unitOf = (metric: string) =>
  (Object.hasOwn(METRICS, metric)
    ? (METRICS[metric as keyof typeof METRICS] as { unit?: string }).unit
    : undefined) ?? null;

export const assetRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    /** The asset, if it exists and the caller sees its site (else 404 either way). */
    const visibleAsset = (user: Parameters<typeof seesSite>[0], site: string, id: string) => {
      const asset = seesSite(user, site) ? deps.assets.list({ site }).find((a) => a.id === id) : undefined;
      if (!asset) throw notFound('asset', `${site}/${id}`);
      return asset;
    };

    app.get(
      '/assets',
      {
        onRequest: app.requireRole(),
        schema: {
          summary: 'List assets',
          description:
            'Configured assets, and devices first seen on the wire (unconfirmed until an admin confirms them), a page at a time; only at the sites the user sees.',
          tags: ['assets'],
          querystring: query({
            site: z.string().max(64).optional(),
            status: z.enum(['confirmed', 'unconfirmed']).optional(),
            ...pageQuery(500),
          }),
          response: {
            200: z.object({
              total: z.number().int(),
              limit: z.number().int(),
              offset: z.number().int(),
              assets: z.array(assetSchema),
            }),
            400: errorSchema,
          },
        },
      },
      async (req) => {
        const { limit, offset, ...filter } = req.query;
        const user = userOf(req);
        const all = deps.assets.list(filter).filter((a) => seesSite(user, a.site));
        return { total: all.length, limit, offset, assets: all.slice(offset, offset + limit).map(view) };
      },
    );

    app.get(
      '/assets/:site/:id',
      {
        onRequest: app.requireRole(),
        schema: {
          summary: 'One asset and its latest tickets',
          description: 'The asset and its 50 newest tickets (with their timings).',
          tags: ['assets'],
          params: assetParams,
          response: {
            200: z.object({ asset: assetSchema, tickets: z.array(ticketDtoSchema) }),
            404: errorSchema,
          },
        },
      },
      async (req) => {
        const { site, id } = req.params;
        const asset = visibleAsset(userOf(req), site, id);
        const tickets = await deps.store.listTickets({ site, assetId: id, limit: 50 });
        return { asset: view(asset), tickets: tickets.map((t) => deps.presenter.ticket(t)) };
      },
    );

    app.get(
      '/assets/:site/:id/readings',
      {
        onRequest: app.requireRole(),
        schema: {
          summary: "An asset's recent readings, for a chart",
          description: `Metrics from InfluxDB (numbers; booleans as 1 and 0) over the last \`hours\`, at most ${MAX_CHART_POINTS} points each (the lowest and highest of each time slot); no series without InfluxDB or readings.`,
          tags: ['assets'],
          params: assetParams,
          querystring: query({
            hours: z.coerce
              .number()
              .positive()
              .max(24 * 31)
              .default(24),
          }),
          response: {
            200: z.object({
              from: z.string(),
              to: z.string(),
              series: z.array(
                z.object({
                  metric: z.string(),
                  unit: z.string().nullable(),
                  points: z.array(z.tuple([z.string(), z.number()])),
                }),
              ),
            }),
            400: errorSchema,
            404: errorSchema,
          },
        },
      },
      async (req, reply) => {
        const { site, id } = req.params;
        visibleAsset(userOf(req), site, id);
        const to = deps.clock.now();
        const from = to - Math.round(req.query.hours * 3_600_000);
        // A client that goes away stops the read.
        const abort = new AbortController();
        reply.raw.on('close', () => {
          if (!reply.raw.writableEnded) abort.abort();
        });
        const series = await readAssetSeries(
          deps.influx,
          { site, id },
          { from, to, maxPoints: MAX_CHART_POINTS, signal: abort.signal },
        );
        return {
          from: new Date(from).toISOString(),
          to: new Date(to).toISOString(),
          series: series.map((s) => ({
            metric: s.metric,
            unit: unitOf(s.metric),
            points: s.points.map(([at, value]): [string, number] => [new Date(at).toISOString(), value]),
          })),
        };
      },
    );

    app.post(
      '/assets/:site/:id/confirm',
      {
        onRequest: app.requireRole('admin'),
        schema: {
          summary: 'Confirm a discovered device',
          description: 'Gives it a kind and category: its rules run from then on.',
          tags: ['assets'],
          params: assetParams,
          body: strictObject({
            kind: z.string().min(1).max(64),
            category: z.string().max(64).optional(),
            name: z.string().max(200).optional(),
            location: z.string().max(200).optional(),
          }),
          response: { 200: assetSchema, 400: errorSchema, 404: errorSchema },
        },
      },
      async (req) =>
        view(await deps.assets.confirm(req.params.site, req.params.id, req.body, actorOf(req).name)),
    );
  };
