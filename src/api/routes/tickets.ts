import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { unauthorized } from '../../auth/auth-service.ts';
import { assertSeesTicket, assertSite, siteFilter } from '../../auth/site-scope.ts';
import { strictObject } from '../../core/strict.ts';
import { RESOLUTIONS, TICKET_STATUSES, type User } from '../../domain/types.ts';
import { ticketDtoSchema, ticketEventDtoSchema } from '../../tickets/ticket-dto.ts';
import type { Actor } from '../../tickets/ticket-service.ts';
import type { ApiDeps } from '../build-api.ts';
import { errorSchema, kbEntrySchema, kbView, pageQuery, query } from '../views.ts';

const idParams = strictObject({ id: z.coerce.number().int().positive() });
const ticketResponse = {
  200: ticketDtoSchema,
  400: errorSchema,
  403: errorSchema,
  404: errorSchema,
  409: errorSchema,
};

/** `status=raised,on_site` or repeated `status=` parameters. */
const statusList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => [...new Set((Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean))])
  .pipe(z.array(z.enum(TICKET_STATUSES)));

export function actorOf(req: FastifyRequest): Actor {
  if (!req.user) throw unauthorized();
  return { name: req.user.username, role: req.user.role };
}

/** The logged-in user (set by `requireRole`). */
export function userOf(req: FastifyRequest): User {
  if (!req.user) throw unauthorized();
  return req.user;
}

export const ticketRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const anyone = app.requireRole();
    const desk = app.requireRole('staff', 'admin');
    const field = app.requireRole('maintainer', 'admin');
    const dto = (t: Parameters<typeof deps.presenter.ticket>[0]) => deps.presenter.ticket(t);
    /** The ticket, if the caller may see it: another site's is 404 like an unknown id. */
    const visible = async (req: FastifyRequest, id: number) => {
      const ticket = await deps.tickets.get(id);
      assertSeesTicket(userOf(req), ticket);
      return ticket;
    };

    app.get(
      '/tickets',
      {
        onRequest: anyone,
        schema: {
          summary: 'List tickets',
          description:
            "Filters combine. `assignee=me` lists the caller's own tickets; `sort=deadline` puts the nearest running SLA deadline first (missed ones first of all). " +
            '`q`: a work-order number or part of it (`XC-20261201-007`, `xc20261201`, `1201-007`), or a ticket id.',
          tags: ['tickets'],
          querystring: query({
            status: statusList.optional(),
            site: z.string().max(64).optional(),
            category: z.string().max(64).optional(),
            assetId: z.string().max(256).optional(),
            q: z.string().trim().min(1).max(64).optional(),
            assignee: z.string().min(1).max(64).optional().describe('a user name, or `me`'),
            open: z.enum(['true', 'false']).optional(),
            sort: z.enum(['newest', 'deadline']).default('newest'),
            ...pageQuery(1000),
          }),
          response: { 200: z.object({ tickets: z.array(ticketDtoSchema) }), 400: errorSchema },
        },
      },
      async (req) => {
        const { open, assignee, ...filter } = req.query;
        const sites = siteFilter(userOf(req));
        const tickets = await deps.store.listTickets({
          ...filter,
          ...(sites ? { sites } : {}),
          ...(assignee ? { assignee: assignee === 'me' ? actorOf(req).name : assignee } : {}),
          open: open === 'true',
        });
        return { tickets: tickets.map(dto) };
      },
    );

    app.post(
      '/tickets',
      {
        onRequest: desk,
        schema: {
          summary: 'Raise a ticket by hand',
          description: 'For a fault or a request reported on the hotline or at the desk: same SLA clocks.',
          tags: ['tickets'],
          body: strictObject({
            site: z.string().min(1).max(64),
            assetId: z.string().min(1).max(256),
            fault: z.string().min(1).max(64),
            category: z.string().max(64).optional(),
            note: z.string().max(2000).optional(),
          }),
          response: { 201: ticketDtoSchema, 400: errorSchema, 403: errorSchema, 409: errorSchema },
        },
      },
      async (req, reply) => {
        assertSite(userOf(req), req.body.site);
        const ticket = await deps.tickets.raiseManual(req.body, actorOf(req));
        return reply.status(201).send(dto(ticket));
      },
    );

    app.get(
      '/tickets/:id',
      {
        onRequest: anyone,
        schema: {
          summary: 'One ticket with its events, hints and outage children',
          description:
            'Every change of the ticket: who, when, what (the audit trail). `knowledge`: the knowledge ' +
            "base's hints for its category and fault, best first; `children`: an outage's device tickets.",
          tags: ['tickets'],
          params: idParams,
          response: {
            200: ticketDtoSchema.extend({
              events: z.array(ticketEventDtoSchema),
              knowledge: z.array(kbEntrySchema),
              children: z.array(ticketDtoSchema),
            }),
            404: errorSchema,
          },
        },
      },
      async (req) => {
        const ticket = await visible(req, req.params.id);
        const [events, knowledge, children] = await Promise.all([
          deps.store.listTicketEvents(ticket.id),
          deps.knowledge.hintsFor(ticket.category, ticket.fault),
          deps.store.listTickets({ parentId: ticket.id, limit: 1000 }),
        ]);
        return {
          ...dto(ticket),
          events: events.map((e) => deps.presenter.event(e)),
          knowledge: knowledge.map(kbView),
          children: children.map(dto),
        };
      },
    );

    app.post(
      '/tickets/:id/dispatch',
      {
        onRequest: desk,
        schema: {
          summary: 'Dispatch a ticket to a maintainer',
          tags: ['tickets'],
          params: idParams,
          body: strictObject({ assignee: z.string().min(1).max(64) }),
          response: ticketResponse,
        },
      },
      async (req) => {
        await visible(req, req.params.id);
        return dto(await deps.tickets.dispatch(req.params.id, req.body.assignee, actorOf(req)));
      },
    );

    app.post(
      '/tickets/:id/arrive',
      {
        onRequest: field,
        schema: {
          summary: 'Acknowledge arrival on site',
          description:
            "Stops the arrival clock (the 5-minute target) on the maintainer's word (`presence: unverified`); " +
            "scanning the asset's QR label (POST /api/scan) records it as proven.",
          tags: ['tickets'],
          params: idParams,
          // A POST with no body arrives as null; an empty object is fine, anything in it is not.
          body: strictObject({}).nullish(),
          response: ticketResponse,
        },
      },
      async (req) => {
        await visible(req, req.params.id);
        return dto(await deps.tickets.arrive(req.params.id, actorOf(req), 'unverified'));
      },
    );

    app.post(
      '/tickets/:id/repaired',
      {
        onRequest: field,
        schema: {
          summary: 'Report the repair done',
          description:
            'Stops the repair clock tentatively: a ticket raised by a sensor is verified once the sensor stays clear. ' +
            'A resolution given here is kept and used when the ticket is closed.',
          tags: ['tickets'],
          params: idParams,
          body: strictObject({
            note: z.string().max(2000).optional(),
            resolution: z.enum(RESOLUTIONS).optional(),
          }).nullish(),
          response: ticketResponse,
        },
      },
      async (req) => {
        await visible(req, req.params.id);
        return dto(await deps.tickets.repaired(req.params.id, actorOf(req), req.body ?? {}));
      },
    );

    app.post(
      '/tickets/:id/close',
      {
        onRequest: desk,
        schema: {
          summary: 'Close a ticket',
          description:
            'A repair the sensor verified closes as a real fault unless another resolution is given. ' +
            'An unverified ticket needs a reason and a resolution (no_fault_found and sensor_fault count ' +
            'as noise against the rule that raised it).',
          tags: ['tickets'],
          params: idParams,
          body: strictObject({
            reason: z.string().min(1).max(500).optional(),
            resolution: z.enum(RESOLUTIONS).optional(),
          }).nullish(),
          response: ticketResponse,
        },
      },
      async (req) => {
        await visible(req, req.params.id);
        return dto(await deps.tickets.close(req.params.id, actorOf(req), req.body ?? {}));
      },
    );
  };
