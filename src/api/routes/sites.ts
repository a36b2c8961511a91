import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ApiDeps } from '../build-api.ts';
import { iso } from '../views.ts';

export const siteRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/sites',
      {
        onRequest: app.requireRole(),
        schema: {
          summary: 'Sites, their gateways and devices',
          description:
            'Gateway `state` is `connected`, `offline` or `not_commissioned` (configured, never connected: a warning, not an outage). Passwords stay out.',
          tags: ['sites'],
        },
      },
      async () => {
        const gateways = new Map(deps.gateways().map((g) => [g.site, g]));
        return {
          sites: deps.directory.sites.map((s) => {
            const g = gateways.get(s.id);
            return {
              id: s.id,
              name: s.name,
              gateway: {
                username: s.gateway.username,
                state: g?.state ?? 'unknown',
                firstConnectedAt: iso(g?.firstConnectedAt) ?? null,
                lastConnectedAt: iso(g?.lastConnectedAt) ?? null,
                lastDisconnectedAt: iso(g?.lastDisconnectedAt) ?? null,
              },
              warnings: g?.state === 'not_commissioned' ? [gatewayWarning(g.username)] : [],
              devices: s.devices.map(({ rules: _rules, ...device }) => device),
            };
          }),
        };
      },
    );
  };

export const gatewayWarning = (username: string) =>
  `gateway ${username} is not commissioned yet: it has never connected`;
