import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ROLES } from '../../domain/types.ts';
import type { ApiDeps } from '../build-api.ts';
import { errorSchema, userSchema, userView } from '../views.ts';

export const adminRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const admin = app.requireRole('admin');

    app.get(
      '/users',
      {
        onRequest: admin,
        schema: { tags: ['admin'], response: { 200: z.object({ users: z.array(userSchema) }) } },
      },
      async () => ({ users: (await deps.store.listUsers()).map(userView) }),
    );

    app.post(
      '/users',
      {
        onRequest: admin,
        schema: {
          tags: ['admin'],
          body: z.object({
            username: z
              .string()
              .regex(/^[a-zA-Z0-9._-]{2,64}$/, 'expected 2-64 letters, digits, ".", "_" or "-"'),
            displayName: z.string().min(1).max(100),
            role: z.enum(ROLES),
            password: z.string().min(8, 'expected at least 8 characters'),
          }),
          response: { 201: userSchema, 400: errorSchema, 409: errorSchema },
        },
      },
      async (req, reply) => reply.status(201).send(userView(await deps.auth.createUser(req.body))),
    );

    app.get('/sites', { onRequest: app.requireRole(), schema: { tags: ['sites'] } }, async () => ({
      // Gateway passwords stay out of the API.
      sites: deps.directory.sites.map((s) => ({ id: s.id, name: s.name, devices: s.devices })),
    }));

    app.get(
      '/dead-letters',
      {
        onRequest: admin,
        schema: {
          tags: ['admin'],
          querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
        },
      },
      async (req) => ({
        total: await deps.store.countDeadLetters(),
        deadLetters: (await deps.store.listDeadLetters(req.query.limit)).map((d) => ({
          ...d,
          at: new Date(d.at).toISOString(),
        })),
      }),
    );
  };
