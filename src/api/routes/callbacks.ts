import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { assertSeesTicket, siteFilter } from '../../auth/site-scope.ts';
import type { CallbackItem } from '../../callbacks/callback-service.ts';
import { strictObject } from '../../core/strict.ts';
import { SATISFACTION_MAX, SATISFACTION_MIN } from '../../domain/types.ts';
import { ticketDtoSchema } from '../../tickets/ticket-dto.ts';
import type { ApiDeps } from '../build-api.ts';
import { errorSchema, query } from '../views.ts';
import { actorOf, userOf } from './tickets.ts';

const iso = z.string().describe('ISO 8601 instant');

const callbackSchema = z.object({
  reached: z.boolean(),
  score: z
    .number()
    .int()
    .nullable()
    .describe('1 (very dissatisfied) to 5 (very satisfied); null when nobody answered'),
  remark: z.string().nullable(),
  recordedBy: z.string(),
  recordedAt: iso,
});

const callbackItemSchema = z.object({
  ticket: ticketDtoSchema,
  dueAt: iso.describe('callbacks.dueHours after the ticket closed'),
  overdue: z.boolean().describe('still due after dueAt, or recorded after it'),
  callback: callbackSchema.nullable().describe('null while the call-back is due'),
});

const isoQuery = z.iso
  .datetime({ offset: true })
  .transform((s) => Date.parse(s))
  .optional();

export const callbackRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const desk = app.requireRole('staff', 'admin');
    const view = (item: CallbackItem) => ({
      ticket: deps.presenter.ticket(item.ticket),
      dueAt: new Date(item.dueAt).toISOString(),
      overdue: item.overdue,
      callback: item.callback
        ? {
            reached: item.callback.reached,
            score: item.callback.score ?? null,
            remark: item.callback.remark ?? null,
            recordedBy: item.callback.recordedBy,
            recordedAt: new Date(item.callback.recordedAt).toISOString(),
          }
        : null,
    });

    app.get(
      '/callbacks',
      {
        onRequest: desk,
        schema: {
          summary: 'Satisfaction call-backs: due or recorded',
          description:
            '`due=true` (default): closed tickets nobody has called back yet, oldest closed first; `due=false`: ' +
            'the recorded call-backs, newest first. `from`/`to`: tickets closed in [from, to). Outage device ' +
            "tickets are left out (the outage's own ticket is called back). Scoped to the caller's sites.",
          tags: ['callbacks'],
          querystring: query({
            due: z.enum(['true', 'false']).default('true'),
            site: z.string().max(64).optional(),
            from: isoQuery,
            to: isoQuery,
            limit: z.coerce.number().int().min(1).max(1000).default(200),
          }),
          response: { 200: z.object({ callbacks: z.array(callbackItemSchema) }), 400: errorSchema },
        },
      },
      async (req) => {
        const { due, ...filter } = req.query;
        const sites = siteFilter(userOf(req));
        const items = await deps.callbacks.list({
          ...filter,
          due: due === 'true',
          ...(sites ? { sites } : {}),
        });
        return { callbacks: items.map(view) };
      },
    );

    app.post(
      '/tickets/:id/callback',
      {
        onRequest: desk,
        schema: {
          summary: "Record a closed ticket's satisfaction call-back",
          description:
            'Once per ticket, after it closed: `reached` with a `score` 1–5, or `reached: false` (nobody ' +
            'answered: no score). 409 `ticket_not_closed` or `callback_exists`. Written as the ticket event ' +
            '`callback_recorded` and audited.',
          tags: ['callbacks'],
          params: strictObject({ id: z.coerce.number().int().positive() }),
          body: strictObject({
            reached: z.boolean(),
            score: z.number().int().min(SATISFACTION_MIN).max(SATISFACTION_MAX).optional(),
            remark: z.string().trim().max(500).optional(),
          }),
          response: { 201: callbackItemSchema, 400: errorSchema, 404: errorSchema, 409: errorSchema },
        },
      },
      async (req, reply) => {
        assertSeesTicket(userOf(req), await deps.tickets.get(req.params.id));
        const item = await deps.callbacks.record(req.params.id, req.body, actorOf(req));
        return reply.status(201).send(view(item));
      },
    );
  };
