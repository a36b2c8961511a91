import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { QrSigner } from '../../auth/qr-signer.ts';
import { assertSite, seesSite } from '../../auth/site-scope.ts';
import { badRequest } from '../../core/errors.ts';
import { strictObject } from '../../core/strict.ts';
import { RESOLUTIONS, ROLES } from '../../domain/types.ts';
import { ticketDtoSchema } from '../../tickets/ticket-dto.ts';
import type { ApiDeps } from '../build-api.ts';
import { errorSchema, query, shiftSchema, shiftView } from '../views.ts';
import { displayNames } from './sites.ts';
import { actorOf, userOf } from './tickets.ts';

const siteId = z.string().min(1).max(64);
const minutes = (ms: number | null) => (ms === null ? null : ms / 60_000);

const labelSchema = z.object({
  kind: z.enum(['asset', 'site']),
  site: z.string(),
  siteName: z.string(),
  assetId: z.string().nullable(),
  assetName: z.string().nullable(),
  location: z.string().nullable(),
  path: z.string().describe('the signed path, `?sig=` included'),
  url: z.string(),
});

/**
 * The field work of the console (issue 12): what the pages need to know (sites, categories),
 * the maintainers and their shifts, check-in and check-out, the QR labels and their scans.
 */
export const fieldRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const anyone = app.requireRole();
    const field = app.requireRole('maintainer', 'admin');

    app.get(
      '/meta',
      {
        onRequest: anyone,
        schema: {
          summary: 'What the console needs to know',
          description:
            'The sites the user sees, the categories with their targets, resolutions, roles, and the public URL.',
          tags: ['console'],
        },
      },
      async (req) => {
        const user = userOf(req);
        return {
          sites: deps.directory.sites
            .filter((s) => seesSite(user, s.id))
            .map((s) => ({ id: s.id, name: s.name })),
          categories: deps.directory.categoryIds().map((id) => {
            const sla = deps.directory.slaFor(id);
            return {
              id,
              name: deps.directory.category(id)?.name ?? id,
              arrivalMinutes: minutes(sla.arrivalMs),
              repairMinutes: minutes(sla.repairMs),
            };
          }),
          resolutions: [...RESOLUTIONS],
          roles: [...ROLES],
          publicUrl: deps.http.publicUrl ?? null,
        };
      },
    );

    app.get(
      '/maintainers',
      {
        onRequest: app.requireRole('staff', 'admin'),
        schema: {
          summary: 'Maintainers who may work at a site, and their shifts',
          description: 'Active maintainers whose sites include `site` (all that the caller sees without it).',
          tags: ['console'],
          querystring: query({ site: siteId.optional() }),
          response: {
            200: z.array(
              z.object({
                username: z.string(),
                displayName: z.string(),
                sites: z.array(z.string()),
                onShift: z.boolean(),
                shiftSite: z.string().nullable(),
              }),
            ),
            400: errorSchema,
            403: errorSchema,
          },
        },
      },
      async (req) => {
        const user = userOf(req);
        const { site } = req.query;
        if (site !== undefined) assertSite(user, site);
        const mayWork = (u: { sites: string[] }) =>
          site !== undefined
            ? seesSite(u, site)
            : u.sites.length === 0 || u.sites.some((s) => seesSite(user, s));
        return (await deps.store.listUsers())
          .filter((u) => u.role === 'maintainer' && u.disabledAt === undefined && mayWork(u))
          .map((u) => {
            const shift = deps.shifts.current(u.username);
            return {
              username: u.username,
              displayName: u.displayName,
              sites: u.sites,
              onShift: shift !== undefined && (site === undefined || shift.site === site),
              shiftSite: shift?.site ?? null,
            };
          });
      },
    );

    app.get(
      '/shifts',
      {
        onRequest: anyone,
        schema: {
          summary: 'Open shifts',
          description: 'Who is checked in where (at the sites the caller sees), oldest first.',
          tags: ['console'],
          querystring: query({ site: siteId.optional() }),
          response: { 200: z.array(shiftSchema), 400: errorSchema },
        },
      },
      async (req) => {
        const user = userOf(req);
        const names = await displayNames(deps);
        return deps.shifts
          .list(req.query.site)
          .filter((s) => seesSite(user, s.site))
          .map((s) => shiftView(s, names.get(s.username)));
      },
    );

    app.get(
      '/me/shift',
      {
        onRequest: anyone,
        schema: {
          summary: 'My open shift',
          tags: ['console'],
          response: { 200: z.object({ shift: shiftSchema.nullable() }) },
        },
      },
      async (req) => {
        const user = userOf(req);
        const shift = deps.shifts.current(user.username);
        return { shift: shift ? shiftView(shift, user.displayName) : null };
      },
    );

    app.post(
      '/shifts/check-in',
      {
        onRequest: field,
        schema: {
          summary: 'Check in at a site',
          description: 'Starts my shift there (one of my sites); a shift open elsewhere ends.',
          tags: ['console'],
          body: strictObject({ site: siteId }),
          response: { 200: shiftSchema, 400: errorSchema, 403: errorSchema },
        },
      },
      async (req) => {
        const user = userOf(req);
        return shiftView(await deps.shifts.checkIn(user, req.body.site, 'button'), user.displayName);
      },
    );

    app.post(
      '/shifts/check-out',
      {
        onRequest: field,
        schema: {
          summary: 'Check out',
          description: 'Ends my open shift (404 `no_shift` when there is none).',
          tags: ['console'],
          body: strictObject({}).nullish(),
          response: { 200: shiftSchema, 404: errorSchema },
        },
      },
      async (req) => {
        const user = userOf(req);
        return shiftView(await deps.shifts.checkOut(user.username), user.displayName);
      },
    );

    app.post(
      '/scan',
      {
        onRequest: field,
        schema: {
          summary: 'A QR label scanned',
          description:
            "A site's entrance label checks me in there (`via: qr`); an asset's label records my arrival on its open " +
            'ticket (dispatched to me, or to nobody yet) as proven (`presence: qr`). 400 `bad_signature` for a label ' +
            'xiaoer did not sign; 404 `no_open_ticket`; 403 `not_assignee`.',
          tags: ['console'],
          body: strictObject({
            kind: z.enum(['asset', 'site']),
            site: siteId,
            assetId: z.string().min(1).max(256).optional(),
            sig: z.string().max(64),
          }),
          response: {
            200: z.discriminatedUnion('kind', [
              z.object({ kind: z.literal('site'), shift: shiftSchema }),
              z.object({ kind: z.literal('asset'), ticket: ticketDtoSchema }),
            ]),
            400: errorSchema,
            403: errorSchema,
            404: errorSchema,
          },
        },
      },
      async (req) => {
        const user = userOf(req);
        const { kind, site, assetId, sig } = req.body;
        if (kind === 'asset' && assetId === undefined)
          throw badRequest('asset_required', 'an asset label has an assetId');
        if (!deps.qr.verify(QrSigner.pathOf(kind, site, assetId), sig))
          throw badRequest('bad_signature', 'this label was not made by xiaoer (or it was altered)');
        if (kind === 'site')
          return { kind, shift: shiftView(await deps.shifts.checkIn(user, site, 'qr'), user.displayName) };
        assertSite(user, site);
        const ticket = await deps.tickets.arriveAt(site, assetId as string, actorOf(req));
        return { kind, ticket: deps.presenter.ticket(ticket) };
      },
    );

    app.get(
      '/labels',
      {
        onRequest: app.requireRole('admin'),
        schema: {
          summary: 'QR labels to print',
          description:
            "Per asset (its label opens arrival) and per site entrance (check-in), with the signed URL: `http.publicUrl`, else this request's origin.",
          tags: ['console'],
          querystring: query({ site: siteId.optional(), kind: z.enum(['asset', 'site']).optional() }),
          response: { 200: z.array(labelSchema), 400: errorSchema },
        },
      },
      async (req) => {
        const { site, kind } = req.query;
        const base = (deps.http.publicUrl ?? `${req.protocol}://${req.host}`).replace(/\/+$/, '');
        const sites = deps.directory.sites.filter((s) => site === undefined || s.id === site);
        const labels: z.infer<typeof labelSchema>[] = [];
        const label = (l: Omit<z.infer<typeof labelSchema>, 'path' | 'url'>, path: string) => {
          const signed = deps.qr.signed(path);
          labels.push({ ...l, path: signed, url: `${base}${signed}` });
        };
        for (const s of sites) {
          if (kind !== 'asset') {
            const names = {
              kind: 'site',
              site: s.id,
              siteName: s.name,
              assetId: null,
              assetName: null,
            } as const;
            label({ ...names, location: null }, QrSigner.sitePath(s.id));
          }
          if (kind === 'site') continue;
          for (const a of deps.assets.list({ site: s.id, status: 'confirmed' })) {
            label(
              {
                kind: 'asset',
                site: s.id,
                siteName: s.name,
                assetId: a.id,
                assetName: a.name,
                location: a.location ?? null,
              },
              QrSigner.assetPath(s.id, a.id),
            );
          }
        }
        return labels;
      },
    );
  };
