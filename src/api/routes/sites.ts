import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { seesSite } from '../../auth/site-scope.ts';
import type { ApiDeps } from '../build-api.ts';
import { iso } from '../views.ts';
import { userOf } from './tickets.ts';

export const siteRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/sites',
      {
        onRequest: app.requireRole(),
        schema: {
          summary: 'Sites, their gateways, devices and who is on shift',
          description:
            'Gateway `state` is `connected`, `offline` or `not_commissioned` (configured, never connected: a warning, not an outage). Passwords stay out. Only the sites the user sees; `onShift`: the maintainers checked in there.',
          tags: ['sites'],
        },
      },
      async (req) => {
        const user = userOf(req);
        const gateways = new Map(deps.gateways().map((g) => [g.site, g]));
        const names = await displayNames(deps);
        return {
          sites: deps.directory.sites
            .filter((s) => seesSite(user, s.id))
            .map((s) => {
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
                onShift: deps.shifts.list(s.id).map((shift) => ({
                  username: shift.username,
                  displayName: names.get(shift.username) ?? shift.username,
                  since: new Date(shift.startedAt).toISOString(),
                })),
              };
            }),
        };
      },
    );
  };

/** Display names by user name (users are few: created by admins). */
export async function displayNames(deps: Pick<ApiDeps, 'store'>): Promise<Map<string, string>> {
  return new Map((await deps.store.listUsers()).map((u) => [u.username, u.displayName]));
}

export const gatewayWarning = (username: string) =>
  `gateway ${username} is not commissioned yet: it has never connected`;
