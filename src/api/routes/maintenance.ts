import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { strictObject } from '../../core/strict.ts';
import type { MaintenanceWindow } from '../../domain/types.ts';
import type { ApiDeps } from '../build-api.ts';
import { errorSchema } from '../views.ts';
import { actorOf } from './tickets.ts';

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

const windowSchema = z.object({
  id: z.number().int(),
  site: z.string(),
  assetId: z.string().optional(),
  startsAt: z.string(),
  endsAt: z.string(),
  reason: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  cancelledAt: z.string().optional(),
  cancelledBy: z.string().optional(),
});

const view = (w: MaintenanceWindow): z.infer<typeof windowSchema> => ({
  ...w,
  startsAt: iso(w.startsAt) as string,
  endsAt: iso(w.endsAt) as string,
  createdAt: iso(w.createdAt) as string,
  cancelledAt: iso(w.cancelledAt),
});

export const maintenanceRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const desk = app.requireRole('staff', 'admin');

    app.get(
      '/maintenance',
      {
        onRequest: app.requireRole(),
        schema: {
          summary: 'Planned work windows',
          description: 'Current and coming windows.',
          tags: ['maintenance'],
          response: { 200: z.object({ windows: z.array(windowSchema) }) },
        },
      },
      async () => ({ windows: deps.maintenance.list().map(view) }),
    );

    app.post(
      '/maintenance',
      {
        onRequest: desk,
        schema: {
          summary: 'Plan work on an asset or a site',
          tags: ['maintenance'],
          description:
            'Its rules are silent and SLA clocks paused meanwhile. The length of a window and how far ahead it may start are bounded (config `maintenance`).',
          body: strictObject({
            site: z.string().min(1).max(64),
            assetId: z.string().min(1).max(256).optional(),
            startsAt: z.iso.datetime({ offset: true }),
            endsAt: z.iso.datetime({ offset: true }),
            reason: z.string().min(1).max(500),
          }),
          response: { 201: windowSchema, 400: errorSchema },
        },
      },
      async (req, reply) => {
        const { startsAt, endsAt, ...rest } = req.body;
        const w = await deps.maintenance.create(
          { ...rest, startsAt: Date.parse(startsAt), endsAt: Date.parse(endsAt) },
          actorOf(req).name,
        );
        return reply.status(201).send(view(w));
      },
    );

    app.delete(
      '/maintenance/:id',
      {
        onRequest: desk,
        schema: {
          summary: 'Cancel a planned work window',
          tags: ['maintenance'],
          params: strictObject({ id: z.coerce.number().int().positive() }),
          response: { 200: windowSchema, 404: errorSchema },
        },
      },
      async (req) => view(await deps.maintenance.cancel(req.params.id, actorOf(req).name)),
    );
  };
