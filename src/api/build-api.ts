import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import type { AssetRegistry } from '../assets/asset-registry.ts';
import type { AuthService } from '../auth/auth-service.ts';
import type { QrSigner } from '../auth/qr-signer.ts';
import type { CallbackService } from '../callbacks/callback-service.ts';
import type { Directory } from '../config/directory.ts';
import type { Config } from '../config/schema.ts';
import type { Clock } from '../core/clock.ts';
import { XiaoerError } from '../core/errors.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { Logger } from '../core/logger.ts';
import type { Role, User } from '../domain/types.ts';
import type { EventLog } from '../events/event-log.ts';
import type { KnowledgeBase } from '../knowledge/knowledge-base.ts';
import type { MaintenanceService } from '../maintenance/maintenance-service.ts';
import type { ReportSource } from '../reports/report-source.ts';
import type { ShiftService } from '../shifts/shift-service.ts';
import type { Store } from '../store/store.ts';
import type { InfluxConfig } from '../telemetry/config.ts';
import type { GatewayStatus } from '../tickets/gateway-watch.ts';
import type { TicketPresenter } from '../tickets/ticket-dto.ts';
import type { TicketService } from '../tickets/ticket-service.ts';
import type { RulePreview } from '../tuning/preview.ts';
import type { RuleVersions } from '../tuning/rule-versions.ts';
import { type ConsoleFallback, DEFAULT_CONSOLE_DIR, registerConsole } from './console.ts';
import { createFastSerializerCompiler } from './fast-serializer.ts';
import { adminRoutes } from './routes/admin.ts';
import { assetRoutes } from './routes/assets.ts';
import { authRoutes } from './routes/auth.ts';
import { callbackRoutes } from './routes/callbacks.ts';
import { fieldRoutes } from './routes/field.ts';
import { healthRoutes } from './routes/health.ts';
import { knowledgeRoutes } from './routes/knowledge.ts';
import { type LiveClients, liveRoutes } from './routes/live.ts';
import { maintenanceRoutes } from './routes/maintenance.ts';
import { reportRoutes } from './routes/reports.ts';
import { weeklyReportRoutes } from './routes/reports-weekly.ts';
import { ruleRoutes } from './routes/rules.ts';
import { siteRoutes } from './routes/sites.ts';
import { ticketRoutes } from './routes/tickets.ts';

export interface ApiDeps {
  tickets: TicketService;
  assets: AssetRegistry;
  maintenance: MaintenanceService;
  auth: AuthService;
  store: Store;
  directory: Directory;
  presenter: TicketPresenter;
  /** The alert rules as versions: listed, changed, restored and approved at runtime. */
  ruleVersions: RuleVersions;
  /** Replays of a rule change over InfluxDB history. */
  rulePreview: RulePreview;
  /** The ticket event log the live feed replays and follows. */
  eventLog: EventLog;
  /** Who is checked in where. */
  shifts: ShiftService;
  knowledge: KnowledgeBase;
  /** Satisfaction call-backs after a ticket closed. */
  callbacks: CallbackService;
  /** The figures of a period (SLA compliance, timings, fault mix, scores), from the event log. */
  reports: ReportSource;
  /** The promised targets (config `sla`), which the weekly report's headline is judged against. */
  sla: Config['sla'];
  /** Signs and checks the QR labels. */
  qr: QrSigner;
  /** Telemetry history for the asset page's chart; absent: no InfluxDB configured. */
  influx: InfluxConfig | undefined;
  clock: Clock;
  log: Logger;
  bus: EventBus;
  http: Config['http'];
  /** Open live-feed (SSE) responses, closed on shutdown. */
  liveClients: LiveClients;
  /** The site gateways as the embedded broker sees them (empty with an external broker). */
  gateways(): GatewayStatus[];
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

const LOOPBACK = /^(127\.|::1$|localhost$)/;

/** Builds the HTTP API without listening, so tests can use `app.inject()` or a real socket alike. */
export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  // The Zod type provider is applied per plugin (FastifyPluginAsyncZod); the root stays plain.
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    // One access line per request at debug level (below), without fastify's two lines at info.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
  });
  app.setValidatorCompiler(validatorCompiler);
  // Responses skip the zod walk outside tests (see fast-serializer.ts); the docs still come from the schemas.
  app.setSerializerCompiler(createFastSerializerCompiler());
  app.setErrorHandler(errorHandler);
  let consolePage: ConsoleFallback | undefined;
  // A page of the console (asked for by a browser, outside /api and /docs) is its index.html;
  // anything else unknown is the API's JSON error.
  app.setNotFoundHandler((req, reply) => {
    if (consolePage?.(req, reply)) return reply;
    return reply
      .status(404)
      .send({ error: { code: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` } });
  });
  app.addHook('onResponse', async (req, reply) => {
    req.log.debug(
      {
        method: req.method,
        // The live feed takes its token in the query string: never log one.
        url: req.url.replace(/([?&]token=)[^&]*/, '$1[redacted]'),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
        user: req.user?.username,
        ip: req.ip,
      },
      'http request',
    );
  });

  app.decorate('requireRole', (...roles: Role[]) => async (req) => {
    const user = await deps.auth.authenticate(req.headers.authorization);
    if (roles.length > 0 && !roles.includes(user.role)) {
      throw new XiaoerError('forbidden', `role ${user.role} may not do this (needs ${roles.join(' or ')})`, {
        httpStatus: 403,
      });
    }
    req.user = user;
  });

  // Security headers. The API serves JSON and the docs page; the docs UI needs its own inline
  // bootstrap, so the CSP is set per response by swagger-ui and left to it there.
  await app.register(helmet, { global: true, contentSecurityPolicy: false });
  await app.register(rateLimit, {
    max: deps.http.rateLimit.max,
    timeWindow: deps.http.rateLimit.windowSeconds * 1000,
    // Counted per address; the store is bounded (an LRU), so a flood of addresses cannot grow it.
    cache: 10_000,
    // Thrown by the plugin, so it goes through the error handler below like every other error.
    errorResponseBuilder: (_req, ctx) =>
      new XiaoerError(
        'rate_limited',
        `too many requests from this address; try again in ${Math.ceil(ctx.ttl / 1000)} s`,
        { httpStatus: 429, details: { retryAfterSeconds: Math.ceil(ctx.ttl / 1000), limit: ctx.max } },
      ),
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'xiaoer API', version: '0.2.0', description: 'Maintenance tickets and SLA clocks' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  if (deps.http.docs ?? LOOPBACK.test(deps.http.host))
    await app.register(swaggerUi, { routePrefix: '/docs' });

  for (const routes of [
    healthRoutes,
    authRoutes,
    ticketRoutes,
    adminRoutes,
    siteRoutes,
    assetRoutes,
    liveRoutes,
    maintenanceRoutes,
    ruleRoutes,
    fieldRoutes,
    knowledgeRoutes,
    callbackRoutes,
    reportRoutes,
    weeklyReportRoutes,
  ]) {
    await app.register(routes(deps), { prefix: '/api' });
  }
  if (deps.http.console) {
    consolePage = await registerConsole(app, {
      dir: deps.http.consoleDir ?? DEFAULT_CONSOLE_DIR,
      log: deps.log,
    });
  }
  // SSE responses never end by themselves: close them so that app.close() can finish.
  app.addHook('preClose', async () => {
    for (const res of deps.liveClients.all) res.end();
  });
  return app;
}

function errorHandler(
  err: Error,
  req: import('fastify').FastifyRequest,
  reply: import('fastify').FastifyReply,
): unknown {
  if (hasZodFastifySchemaValidationErrors(err)) {
    const where = err.validationContext ?? 'request';
    const details = err.validation.map((v) => ({
      path: v.instancePath || '(root)',
      message: v.message ?? 'invalid',
    }));
    return reply.status(400).send({
      error: {
        code: 'invalid_request',
        message: `invalid ${where}: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`,
        details,
      },
    });
  }
  if (err instanceof XiaoerError) {
    if (err.httpStatus === 429) {
      const retry = (err.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds;
      if (retry !== undefined) void reply.header('retry-after', String(retry));
    }
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
}
