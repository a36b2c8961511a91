import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ApiDeps } from '../build-api.ts';

export const healthRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get('/health', { schema: { tags: ['health'], security: [] } }, async () => ({
      status: 'ok',
      ...(await deps.health()),
    }));
  };
