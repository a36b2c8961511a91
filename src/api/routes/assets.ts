import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../build-api.ts';
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

const view = (a: ReturnType<ApiDeps['assets']['list']>[number]) => ({
  ...a,
  firstSeenAt: a.firstSeenAt === undefined ? undefined : new Date(a.firstSeenAt).toISOString(),
});

export const assetRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/assets',
      {
        onRequest: app.requireRole(),
        schema: {
          tags: ['assets'],
          description:
            'Configured assets, and devices first seen on the wire (unconfirmed until an admin confirms them).',
          querystring: z.object({
            site: z.string().optional(),
            status: z.enum(['confirmed', 'unconfirmed']).optional(),
          }),
          response: { 200: z.object({ assets: z.array(assetSchema) }) },
        },
      },
      async (req) => ({ assets: deps.assets.list(req.query).map(view) }),
    );

    app.post(
      '/assets/:site/:id/confirm',
      {
        onRequest: app.requireRole('admin'),
        schema: {
          tags: ['assets'],
          params: z.object({ site: z.string(), id: z.string() }),
          body: z.object({
            kind: z.string().min(1),
            category: z.string().optional(),
            name: z.string().max(200).optional(),
            location: z.string().max(200).optional(),
          }),
          response: { 200: assetSchema },
        },
      },
      async (req) =>
        view(await deps.assets.confirm(req.params.site, req.params.id, req.body, actorOf(req).name)),
    );
  };
