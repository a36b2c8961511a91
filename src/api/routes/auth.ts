import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { strictObject } from '../../core/strict.ts';
import type { ApiDeps } from '../build-api.ts';
import { errorSchema, userSchema, userView } from '../views.ts';

export const authRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/auth/login',
      {
        schema: {
          summary: 'Log in',
          description:
            'Returns a bearer token. Failed attempts are limited per user name and address, and per address (429 with retryAfterSeconds).',
          tags: ['auth'],
          security: [],
          body: strictObject({ username: z.string().min(1).max(128), password: z.string().min(1).max(200) }),
          response: {
            200: z.object({ token: z.string(), expiresAt: z.string(), user: userSchema }),
            401: errorSchema,
            429: errorSchema,
          },
        },
      },
      async (req) => {
        const { token, user, expiresAt } = await deps.auth.login(
          req.body.username,
          req.body.password,
          req.ip,
        );
        return { token, expiresAt: new Date(expiresAt).toISOString(), user: userView(user) };
      },
    );

    app.post(
      '/auth/logout',
      { schema: { summary: 'Log out', description: 'Ends the session of the token sent.', tags: ['auth'] } },
      async (req, reply) => {
        await deps.auth.logout(req.headers.authorization);
        return reply.status(204).send();
      },
    );

    app.get(
      '/me',
      {
        schema: { summary: 'Who am I', tags: ['auth'], response: { 200: userSchema } },
        onRequest: app.requireRole(),
      },
      async (req) => userView(req.user as NonNullable<typeof req.user>),
    );
  };
