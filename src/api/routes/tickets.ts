import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { unauthorized } from '../../auth/auth-service.ts';
import { TICKET_STATUSES } from '../../domain/types.ts';
import type { Actor } from '../../tickets/ticket-service.ts';
import type { ApiDeps } from '../build-api.ts';
import { errorSchema, ticketEventSchema, ticketEventView, ticketSchema, ticketView } from '../views.ts';

const idParams = z.object({ id: z.coerce.number().int().positive() });
const ticketResponse = { 200: ticketSchema, 400: errorSchema, 404: errorSchema, 409: errorSchema };

/** `status=raised,on_site` or repeated `status=` parameters. */
const statusList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => [...new Set((Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean))])
  .pipe(z.array(z.enum(TICKET_STATUSES)));

export function actorOf(req: FastifyRequest): Actor {
  if (!req.user) throw unauthorized();
  return { name: req.user.username, role: req.user.role };
}

export const ticketRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const anyone = app.requireRole();
    const desk = app.requireRole('staff', 'admin');
    const field = app.requireRole('maintainer', 'admin');

    app.get(
      '/tickets',
      {
        onRequest: anyone,
        schema: {
          tags: ['tickets'],
          querystring: z.object({
            status: statusList.optional(),
            site: z.string().optional(),
            category: z.string().optional(),
            assetId: z.string().optional(),
            open: z.enum(['true', 'false']).optional(),
            limit: z.coerce.number().int().min(1).max(1000).default(100),
            offset: z.coerce.number().int().min(0).default(0),
          }),
          response: { 200: z.object({ tickets: z.array(ticketSchema) }) },
        },
      },
      async (req) => {
        const { open, ...filter } = req.query;
        const tickets = await deps.store.listTickets({ ...filter, open: open === 'true' });
        return { tickets: tickets.map(ticketView) };
      },
    );

    app.post(
      '/tickets',
      {
        onRequest: desk,
        schema: {
          tags: ['tickets'],
          description: 'Raise a ticket by hand, e.g. for a fault reported on the hotline.',
          body: z.object({
            site: z.string().min(1),
            assetId: z.string().min(1),
            fault: z.string().min(1).max(64),
            category: z.string().optional(),
            note: z.string().max(2000).optional(),
          }),
          response: { 201: ticketSchema, 400: errorSchema, 409: errorSchema },
        },
      },
      async (req, reply) => {
        const ticket = await deps.tickets.raiseManual(req.body, actorOf(req));
        return reply.status(201).send(ticketView(ticket));
      },
    );

    app.get(
      '/tickets/:id',
      {
        onRequest: anyone,
        schema: {
          tags: ['tickets'],
          params: idParams,
          response: { 200: ticketSchema.extend({ events: z.array(ticketEventSchema) }), 404: errorSchema },
        },
      },
      async (req) => {
        const ticket = await deps.tickets.get(req.params.id);
        const events = await deps.store.listTicketEvents(ticket.id);
        return { ...ticketView(ticket), events: events.map(ticketEventView) };
      },
    );

    app.post(
      '/tickets/:id/dispatch',
      {
        onRequest: desk,
        schema: {
          tags: ['tickets'],
          params: idParams,
          body: z.object({ assignee: z.string().min(1) }),
          response: ticketResponse,
        },
      },
      async (req) => ticketView(await deps.tickets.dispatch(req.params.id, req.body.assignee, actorOf(req))),
    );

    app.post(
      '/tickets/:id/arrive',
      { onRequest: field, schema: { tags: ['tickets'], params: idParams, response: ticketResponse } },
      async (req) => ticketView(await deps.tickets.arrive(req.params.id, actorOf(req))),
    );

    app.post(
      '/tickets/:id/repaired',
      {
        onRequest: field,
        schema: {
          tags: ['tickets'],
          params: idParams,
          // A POST with no body arrives as null.
          body: z.object({ note: z.string().max(2000).optional() }).nullish(),
          response: ticketResponse,
        },
      },
      async (req) => ticketView(await deps.tickets.repaired(req.params.id, actorOf(req), req.body?.note)),
    );

    app.post(
      '/tickets/:id/close',
      {
        onRequest: desk,
        schema: {
          tags: ['tickets'],
          params: idParams,
          body: z.object({ reason: z.string().min(1).max(500).optional() }).nullish(),
          response: ticketResponse,
        },
      },
      async (req) => ticketView(await deps.tickets.close(req.params.id, actorOf(req), req.body?.reason)),
    );
  };
