import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { strictObject } from '../../core/strict.ts';
import type { ApiDeps } from '../build-api.ts';
import { errorSchema, iso, pageQuery, query } from '../views.ts';
import { actorOf } from './tickets.ts';

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

const view = (a: ReturnType<ApiDeps['assets']['list']>[number]) => {
  const { rules: _rules, ...rest } = a;
  return { ...rest, firstSeenAt: iso(a.firstSeenAt) };
};

export const assetRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/assets',
      {
        onRequest: app.requireRole(),
        schema: {
          summary: 'List assets',
          description:
            'Configured assets, and devices first seen on the wire (unconfirmed until an admin confirms them), a page at a time.',
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
        const all = deps.assets.list(filter);
        return { total: all.length, limit, offset, assets: all.slice(offset, offset + limit).map(view) };
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
          params: strictObject({ site: z.string().max(64), id: z.string().max(256) }),
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
