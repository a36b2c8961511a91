import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { assertSeesTicket } from '../../auth/site-scope.ts';
import { strictObject } from '../../core/strict.ts';
import { KB_HINT_MAX_CHARS } from '../../domain/types.ts';
import type { ApiDeps } from '../build-api.ts';
import { errorSchema, kbEntrySchema, kbView, query } from '../views.ts';
import { actorOf, userOf } from './tickets.ts';

const idParams = strictObject({ id: z.coerce.number().int().positive() });
const title = z.string().trim().min(1).max(200);
const hint = z.string().trim().min(1).max(KB_HINT_MAX_CHARS);
const body = z.string().max(20_000);
const fault = z.string().max(64);
const entryResponse = { 400: errorSchema, 404: errorSchema };

/** The knowledge base: read by everyone, kept by admins (every change audited). */
export const knowledgeRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const admin = app.requireRole('admin');
    const kb = deps.knowledge;

    app.get(
      '/kb',
      {
        onRequest: app.requireRole(),
        schema: {
          summary: 'Knowledge-base entries',
          description: 'By category, fault code, and words in the title, hint or body; oldest first.',
          tags: ['knowledge'],
          querystring: query({
            category: z.string().max(64).optional(),
            fault: fault.optional(),
            q: z.string().trim().max(100).optional(),
          }),
          response: { 200: z.array(kbEntrySchema), 400: errorSchema },
        },
      },
      async (req) => (await kb.list(req.query)).map(kbView),
    );

    app.post(
      '/kb',
      {
        onRequest: admin,
        schema: {
          summary: 'Add an entry',
          description: 'Without `fault`, the hint is for every fault of the category.',
          tags: ['knowledge'],
          body: strictObject({
            category: z.string().min(1).max(64),
            fault: fault.nullish(),
            title,
            hint,
            body: body.optional(),
          }),
          response: { 201: kbEntrySchema, ...entryResponse },
        },
      },
      async (req, reply) => reply.status(201).send(kbView(await kb.create(req.body, actorOf(req).name))),
    );

    app.patch(
      '/kb/:id',
      {
        onRequest: admin,
        schema: {
          summary: 'Edit an entry',
          description: '`fault: null` makes it a hint for the whole category.',
          tags: ['knowledge'],
          params: idParams,
          body: strictObject({
            category: z.string().min(1).max(64).optional(),
            fault: fault.nullish(),
            title: title.optional(),
            hint: hint.optional(),
            body: body.optional(),
          }).refine((b) => Object.keys(b).length > 0, 'give at least one field to change'),
          response: { 200: kbEntrySchema, ...entryResponse },
        },
      },
      async (req) => kbView(await kb.update(req.params.id, req.body, actorOf(req).name)),
    );

    app.delete(
      '/kb/:id',
      {
        onRequest: admin,
        schema: {
          summary: 'Delete an entry',
          tags: ['knowledge'],
          params: idParams,
        },
      },
      async (req, reply) => {
        await kb.remove(req.params.id, actorOf(req).name);
        return reply.status(204).send();
      },
    );

    app.post(
      '/kb/from-ticket/:id',
      {
        onRequest: admin,
        schema: {
          summary: "A new entry from a ticket's repair note",
          description:
            "The ticket's category and fault, and the note the maintainer left with the repair (the hint unless one is given).",
          tags: ['knowledge'],
          params: idParams,
          body: strictObject({ title: title.optional(), hint: hint.optional() }).nullish(),
          response: { 201: kbEntrySchema, ...entryResponse },
        },
      },
      async (req, reply) => {
        // An admin of some sites may not copy another site's repair note (404, as elsewhere).
        assertSeesTicket(userOf(req), await deps.tickets.get(req.params.id));
        return reply
          .status(201)
          .send(kbView(await kb.fromTicket(req.params.id, actorOf(req).name, req.body ?? {})));
      },
    );
  };
