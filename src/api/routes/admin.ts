import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Directory } from '../../config/directory.ts';
import { badRequest } from '../../core/errors.ts';
import { strictObject } from '../../core/strict.ts';
import { ROLES } from '../../domain/types.ts';
import type { ApiDeps } from '../build-api.ts';
import { errorSchema, iso, pageQuery, query, userSchema, userView } from '../views.ts';
import { actorOf } from './tickets.ts';

const username = z.string().regex(/^[a-zA-Z0-9._-]{2,64}$/, 'expected 2-64 letters, digits, ".", "_" or "-"');
const password = z.string().min(8, 'expected at least 8 characters').max(200);
const userParams = strictObject({ username: z.string().min(1).max(64) });
const sites = z
  .array(z.string().min(1).max(64))
  .max(100)
  .transform((list) => [...new Set(list)])
  .describe('the sites the user sees and works at; empty: every site');

/** Each site must be one the config has: a typo would lock the user out of their own site. */
function checkSites(directory: Directory, list: string[] | undefined): void {
  const unknown = list?.filter((id) => !directory.site(id)) ?? [];
  if (unknown.length > 0) {
    throw badRequest('unknown_site', `not configured: ${unknown.join(', ')}`, {
      known: directory.sites.map((s) => s.id),
    });
  }
}

/** Users, the audit log and dead letters: admins only. */
export const adminRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const admin = app.requireRole('admin');

    app.get(
      '/users',
      {
        onRequest: admin,
        schema: {
          summary: 'List users',
          tags: ['users'],
          response: { 200: z.object({ users: z.array(userSchema) }) },
        },
      },
      async () => ({ users: (await deps.store.listUsers()).map(userView) }),
    );

    app.post(
      '/users',
      {
        onRequest: admin,
        schema: {
          summary: 'Create a user',
          tags: ['users'],
          body: strictObject({
            username,
            displayName: z.string().min(1).max(100),
            role: z.enum(ROLES),
            password,
            sites: sites.optional(),
          }),
          response: { 201: userSchema, 400: errorSchema, 409: errorSchema },
        },
      },
      async (req, reply) => {
        checkSites(deps.directory, req.body.sites);
        return reply.status(201).send(userView(await deps.auth.createUser(req.body, actorOf(req).name)));
      },
    );

    app.patch(
      '/users/:username',
      {
        onRequest: admin,
        schema: {
          summary: 'Edit or disable a user',
          description:
            'A disabled user cannot log in and is logged out everywhere; the last active admin cannot be disabled or demoted.',
          tags: ['users'],
          params: userParams,
          body: strictObject({
            displayName: z.string().min(1).max(100).optional(),
            role: z.enum(ROLES).optional(),
            disabled: z.boolean().optional(),
            sites: sites.optional(),
          }).refine(
            (b) => Object.keys(b).length > 0,
            'give at least one of displayName, role, disabled, sites',
          ),
          response: { 200: userSchema, 400: errorSchema, 404: errorSchema, 409: errorSchema },
        },
      },
      async (req) => {
        checkSites(deps.directory, req.body.sites);
        return userView(await deps.auth.updateUser(req.params.username, req.body, actorOf(req).name));
      },
    );

    app.post(
      '/users/:username/password',
      {
        onRequest: admin,
        schema: {
          summary: "Reset a user's password",
          description:
            'Sets the given password, or generates one and returns it once. The user is logged out everywhere.',
          tags: ['users'],
          params: userParams,
          body: strictObject({ password: password.optional() }).nullish(),
          response: {
            200: z.object({ user: userSchema, generatedPassword: z.string().optional() }),
            404: errorSchema,
          },
        },
      },
      async (req) => {
        const given = req.body?.password;
        const { user, password: set } = await deps.auth.resetPassword(
          req.params.username,
          actorOf(req).name,
          given,
        );
        return { user: userView(user), ...(given === undefined ? { generatedPassword: set } : {}) };
      },
    );

    app.get(
      '/audit',
      {
        onRequest: admin,
        schema: {
          summary: 'The audit log',
          description: 'Changes outside tickets (users, planned work, assets), newest first.',
          tags: ['users'],
          querystring: query(pageQuery(500)),
        },
      },
      async (req) => ({
        entries: (await deps.store.listAudit(req.query)).map((e) => ({ ...e, at: iso(e.at) })),
      }),
    );

    app.get(
      '/dead-letters',
      {
        onRequest: admin,
        schema: {
          summary: 'Rejected payloads',
          description:
            'Messages that could not be used, with the reason, newest first (the newest 10,000 are kept).',
          tags: ['ingest'],
          querystring: query(pageQuery(500)),
        },
      },
      async (req) => ({
        total: await deps.store.countDeadLetters(),
        limit: req.query.limit,
        offset: req.query.offset,
        deadLetters: (await deps.store.listDeadLetters(req.query)).map((d) => ({ ...d, at: iso(d.at) })),
      }),
    );
  };
