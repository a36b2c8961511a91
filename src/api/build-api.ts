import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import type { AssetRegistry } from '../assets/asset-registry.ts';
import type { AuthService } from '../auth/auth-service.ts';
import type { Directory } from '../config/directory.ts';
import { XiaoerError } from '../core/errors.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { Logger } from '../core/logger.ts';
import type { Role, User } from '../domain/types.ts';
import type { MaintenanceService } from '../maintenance/maintenance-service.ts';
import type { Store } from '../store/store.ts';
import type { TicketService } from '../tickets/ticket-service.ts';
import { adminRoutes } from './routes/admin.ts';
import { assetRoutes } from './routes/assets.ts';
import { authRoutes } from './routes/auth.ts';
import { healthRoutes } from './routes/health.ts';
import { liveRoutes } from './routes/live.ts';
import { maintenanceRoutes } from './routes/maintenance.ts';
import { ticketRoutes } from './routes/tickets.ts';

export interface ApiDeps {
  tickets: TicketService;
  assets: AssetRegistry;
  maintenance: MaintenanceService;
  auth: AuthService;
  store: Store;
  directory: Directory;
  log: Logger;
  bus: EventBus;
  /** Open live-feed (SSE) responses, closed on shutdown. */
  liveClients: Set<import('node:http').ServerResponse>;
  /** Live figures for /api/health, gathered by the App. */
  health(): Promise<Record<string, unknown>>;
}

declare module 'fastify' {
  interface FastifyRequest {
    user?: User;
  }
  interface FastifyInstance {
    /** An onRequest hook (before the body is even parsed) that lets only the given roles through. */
    requireRole(...roles: Role[]): (req: import('fastify').FastifyRequest) => Promise<void>;
  }
}

/** Builds the HTTP API without listening, so tests can use `app.inject()` or a real socket alike. */
export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  // The Zod type provider is applied per plugin (FastifyPluginAsyncZod); the root stays plain.
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    // Per-request lines would drown the ingest's logs; errors are still logged by the handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.setErrorHandler((err: Error, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      return reply.status(400).send({
        error: {
          code: 'invalid_request',
          message: `invalid ${err.validationContext ?? 'request'}: ${err.validation.map((v) => `${v.instancePath || '(root)'} ${v.message}`).join('; ')}`,
          details: err.validation.map((v) => ({ path: v.instancePath, message: v.message })),
        },
      });
    }
    if (err instanceof XiaoerError) {
      return reply
        .status(err.httpStatus)
        .send({ error: { code: err.code, message: err.message, details: err.details } });
    }
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) {
      return reply
        .status(status)
        .send({ error: { code: (err as { code?: string }).code ?? 'bad_request', message: err.message } });
    }
    req.log.error({ err }, 'unhandled API error');
    return reply
      .status(500)
      .send({ error: { code: 'internal', message: 'internal error; see the service log' } });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send({ error: { code: 'not_found', message: `no route ${req.method} ${req.url}` } }),
  );

  app.decorate('requireRole', (...roles: Role[]) => async (req) => {
    const user = await deps.auth.authenticate(req.headers.authorization);
    if (roles.length > 0 && !roles.includes(user.role)) {
      throw new XiaoerError('forbidden', `role ${user.role} may not do this (needs ${roles.join(' or ')})`, {
        httpStatus: 403,
      });
    }
    req.user = user;
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'xiaoer API', version: '0.1.0', description: 'Maintenance tickets and SLA clocks' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(healthRoutes(deps), { prefix: '/api' });
  await app.register(authRoutes(deps), { prefix: '/api' });
  await app.register(ticketRoutes(deps), { prefix: '/api' });
  await app.register(adminRoutes(deps), { prefix: '/api' });
  await app.register(assetRoutes(deps), { prefix: '/api' });
  await app.register(liveRoutes(deps), { prefix: '/api' });
  await app.register(maintenanceRoutes(deps), { prefix: '/api' });
  // SSE responses never end by themselves: close them so that app.close() can finish.
  app.addHook('preClose', async () => {
    for (const res of deps.liveClients) res.end();
  });
  return app;
}
