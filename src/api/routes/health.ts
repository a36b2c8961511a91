import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ApiDeps } from '../build-api.ts';

export const healthRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/health',
      {
        schema: {
          summary: 'Liveness, and the service state for logged-in users',
          description:
            'Without a login: `{status: "ok"}` only. With one: ingest counters, gateways, SLA deadlines, notifications, telemetry and warnings.',
          tags: ['health'],
          security: [],
        },
      },
      async (req) => {
        // Ports, counters and webhook errors help an attacker more than a load balancer needs them.
        const user = req.headers.authorization
          ? await deps.auth.authenticate(req.headers.authorization).catch(() => undefined)
          : undefined;
        if (!user) return { status: 'ok' };
        return { status: 'ok', ...(await deps.health()) };
      },
    );
  };
