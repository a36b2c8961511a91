import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { strictObject } from '../../core/strict.ts';
import type { RuleLimit } from '../../domain/types.ts';
import { ruleVersionSchema, ruleView, ruleViewSchema, versionView } from '../../tuning/rule-view.ts';
import type { ApiDeps } from '../build-api.ts';
import { errorSchema, query } from '../views.ts';
import { actorOf } from './tickets.ts';

const comment = z.string().trim().min(1, 'say why (the comment is kept with the version)').max(500);
const ruleParams = strictObject({ id: z.string().min(1).max(64) });
const num = z.number().nullable().optional();
const seconds = z.number().nullable().optional();

/**
 * The fields of a rule an admin may change (not its id, type or fault: open tickets are keyed by
 * the fault). Checked here for shape only; the rule as changed is then checked as a whole, as the
 * YAML is, and the errors name the field.
 */
const ruleChanges = {
  severity: z.enum(['critical', 'major', 'minor']).optional(),
  category: z.string().max(64).nullable().optional(),
  kinds: z.array(z.string().min(1).max(64)).optional(),
  metric: z.string().max(64).optional(),
  value: z.union([z.string(), z.number(), z.boolean()]).optional(),
  above: num,
  below: num,
  clearBelow: num,
  clearAbove: num,
  conditions: z.array(z.unknown()).optional(),
  code: z.string().max(64).optional(),
  clearOnMetric: z
    .union([z.string(), z.array(z.string())])
    .nullable()
    .optional(),
  fallingFasterThan: num,
  risingFasterThan: num,
  windowSeconds: seconds,
  silentSeconds: seconds,
  forSeconds: seconds,
  debounceSeconds: seconds,
};

const overrideChanges = {
  disabled: z.boolean().nullable().optional(),
  above: num,
  below: num,
  clearBelow: num,
  clearAbove: num,
  forSeconds: seconds,
  debounceSeconds: seconds,
  silentSeconds: seconds,
  fallingFasterThan: num,
  risingFasterThan: num,
};

const atLeastOne = (b: Record<string, unknown>) => Object.keys(b).some((k) => k !== 'comment');
const withoutComment = <T extends { comment: string }>({ comment: _c, ...rest }: T) => rest;

const versionResponse = {
  200: ruleVersionSchema,
  400: errorSchema,
  403: errorSchema,
  404: errorSchema,
  409: errorSchema,
};

const count = z.number().int();
const optionalNumber = z.number().optional();

/** A rule's limit as tickets show it; every field of `RuleLimit`, so a new one cannot go missing here. */
const ruleLimitSchema = z.object({
  above: optionalNumber,
  below: optionalNumber,
  equals: z.union([z.string(), z.number(), z.boolean()]).optional(),
  fallingFasterThan: optionalNumber,
  risingFasterThan: optionalNumber,
  windowSeconds: optionalNumber,
  silentSeconds: optionalNumber,
  forSeconds: optionalNumber,
} satisfies { [K in keyof Required<RuleLimit>]: z.ZodType<RuleLimit[K]> });

const chartLimits = z.object({ current: ruleLimitSchema.nullable(), proposed: ruleLimitSchema.nullable() });

const previewSide = z.object({
  alarms: count,
  tickets: count,
  flaps: count,
  clears: count,
  assets: z
    .array(
      z.object({
        site: z.string(),
        assetId: z.string(),
        alarms: count,
        flaps: count,
        firstAt: z.array(z.string()).describe('the first raises (when the condition began), ISO 8601'),
      }),
    )
    .describe('assets that raised at least once, most alarms first'),
});

const previewResponse = z.object({
  rule: z.string(),
  from: z.string(),
  to: z.string(),
  readings: count,
  assets: count.describe('assets replayed, those without readings in the window too'),
  current: previewSide,
  proposed: previewSide,
  difference: z
    .object({
      alarms: count,
      tickets: count,
      flaps: count,
      onlyCurrent: z.array(z.string()),
      onlyProposed: z.array(z.string()),
    })
    .describe('proposed minus current; assets as "site/assetId" that raise on one side only'),
  chart: z
    .object({
      metric: z.string().nullable().describe('the metric drawn; null for `all` and `no_data` rules'),
      limits: chartLimits.describe(
        "each side's rule as written; null where it judges another metric than the one drawn",
      ),
      series: z
        .array(
          z.object({
            site: z.string(),
            assetId: z.string(),
            limits: chartLimits.describe(
              "what this asset is judged against: the rule with the site's and its own overrides",
            ),
            points: z
              .array(z.tuple([z.string(), z.number()]))
              .describe(
                "[ISO 8601, value] of the metric, booleans as 1/0, at most 600, downsampled keeping each stretch's lowest and highest",
              ),
            raised: z
              .object({ current: z.array(z.string()), proposed: z.array(z.string()) })
              .describe('when each side raised (the condition began), ISO 8601; over 600, thinned evenly'),
          }),
        )
        .describe(
          'at most 3 assets: the most raises by the proposed rule, then by the current one; where fewer raised, ' +
            'assets with readings follow, so the chart still shows them against the limits',
        ),
    })
    .describe('the readings and raises of the assets that raised most, for a chart'),
  elapsedMs: count,
});

/** Alert rules at runtime: read by the desk, changed, restored and approved by admins. */
export const ruleRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const admin = app.requireRole('admin');
    const readers = app.requireRole('admin', 'staff');
    const { ruleVersions: versions } = deps;

    app.get(
      '/rules',
      {
        onRequest: readers,
        schema: {
          summary: 'List the rules in force',
          description:
            'Each rule with its version, every value with where it comes from, and changes pending approval.',
          tags: ['rules'],
          response: { 200: z.object({ rules: z.array(ruleViewSchema) }) },
        },
      },
      async () => ({ rules: (await versions.list()).map((r) => ruleView(r.current, r.pending)) }),
    );

    app.get(
      '/rules/export',
      {
        onRequest: admin,
        schema: {
          summary: 'Export the rules in force as YAML',
          description:
            'The `rules:` section of the config file, with every runtime change, ready to commit back.',
          tags: ['rules'],
        },
      },
      async (_req, reply) => reply.type('application/yaml; charset=utf-8').send(versions.exportYaml()),
    );

    app.get(
      '/rules/noise',
      {
        onRequest: readers,
        schema: {
          summary: 'Rules to tune: the noisiest',
          description:
            "A rule's noise score is the share of its tickets closed as no_fault_found or sensor_fault " +
            '(over `tuning.noiseWindowDays`). Rules at or above `tuning.noiseThreshold`, with at least ' +
            '`tuning.noiseMinTickets` closed tickets, each with a preview request to start from.',
          tags: ['rules'],
          response: {
            200: z.object({
              threshold: z.number(),
              minTickets: z.number(),
              windowDays: z.number(),
              rules: z.array(
                z.object({
                  ruleId: z.string(),
                  closed: z.number().int(),
                  noise: z.number().int(),
                  score: z.number(),
                  byResolution: z.record(z.string(), z.number()),
                  preview: z.object({ rule: z.string(), changes: z.object({}), days: z.number() }),
                }),
              ),
            }),
          },
        },
      },
      async () => versions.noise(),
    );

    app.get(
      '/rules/:id/versions',
      {
        onRequest: readers,
        schema: {
          summary: "List a rule's versions",
          description: 'Every version, oldest first: who, when, the comment, the diff and the state.',
          tags: ['rules'],
          params: ruleParams,
          response: { 200: z.object({ versions: z.array(ruleVersionSchema) }), 404: errorSchema },
        },
      },
      async (req) => ({ versions: (await versions.versionsOf(req.params.id)).map(versionView) }),
    );

    app.patch(
      '/rules/:id',
      {
        onRequest: admin,
        schema: {
          summary: 'Change a rule',
          description:
            'Applied at once, without a restart (the next reading is judged by it; open alarms are judged again), ' +
            'unless it affects more assets than `tuning.approvalAboveAssets`: then it waits for a second admin. ' +
            '`null` removes an optional field.',
          tags: ['rules'],
          params: ruleParams,
          body: strictObject({ comment, ...ruleChanges }).refine(
            atLeastOne,
            'give at least one field to change',
          ),
          response: versionResponse,
        },
      },
      async (req) =>
        versionView(
          await versions.change(req.params.id, withoutComment(req.body), req.body.comment, actorOf(req).name),
        ),
    );

    const overrideRoute = (withAsset: boolean) => {
      const params = strictObject({
        id: z.string().min(1).max(64),
        site: z.string().min(1).max(64),
        ...(withAsset ? { assetId: z.string().min(1).max(128) } : {}),
      });
      const path = withAsset ? '/rules/:id/overrides/:site/:assetId' : '/rules/:id/overrides/:site';
      const set = async (req: FastifyRequest, override: Record<string, unknown> | null, comment: string) => {
        const p = req.params as { id: string; site: string; assetId?: string };
        const scope = { site: p.site, ...(p.assetId === undefined ? {} : { assetId: p.assetId }) };
        return versionView(await versions.setOverride(p.id, scope, override, comment, actorOf(req).name));
      };
      app.patch(
        path,
        {
          onRequest: admin,
          schema: {
            summary: withAsset ? "Set a rule's override for one asset" : "Set a rule's override for a site",
            description:
              'Fields are merged into the override there; `null` removes one. A new version of the rule.',
            tags: ['rules'],
            params,
            body: strictObject({ comment, ...overrideChanges }).refine(atLeastOne, 'give at least one field'),
            response: versionResponse,
          },
        },
        async (req) => set(req, withoutComment(req.body), req.body.comment),
      );
      app.delete(
        path,
        {
          onRequest: admin,
          schema: {
            summary: withAsset
              ? "Remove a rule's override for one asset"
              : "Remove a rule's override for a site",
            tags: ['rules'],
            params,
            querystring: query({ comment }),
            response: versionResponse,
          },
        },
        async (req) => set(req, null, req.query.comment),
      );
    };
    overrideRoute(false);
    overrideRoute(true);

    app.post(
      '/rules/:id/restore',
      {
        onRequest: admin,
        schema: {
          summary: 'Restore an earlier version of a rule',
          description:
            'The earlier version becomes the rule again, as a new version (subject to approval like any change).',
          tags: ['rules'],
          params: ruleParams,
          body: strictObject({ version: z.number().int().positive(), comment }),
          response: versionResponse,
        },
      },
      async (req) =>
        versionView(
          await versions.restore(req.params.id, req.body.version, req.body.comment, actorOf(req).name),
        ),
    );

    app.post(
      '/rules/preview',
      {
        onRequest: admin,
        schema: {
          summary: 'Preview a change on real history',
          description:
            'Replays InfluxDB history (the last `days`, or `from`–`to`, optionally one site) through the rule in force ' +
            'and the rule with `changes`, with the live rule engine, and returns both side by side: alarms, tickets, ' +
            'flaps, which assets and their first times, and the difference, and a chart of the readings of the ' +
            'assets that raised most, with both limits and where each side raised. Saves nothing.',
          tags: ['rules'],
          body: strictObject({
            rule: z.string().min(1).max(64),
            changes: strictObject(ruleChanges).default({}),
            days: z.number().positive().max(90).default(7),
            from: z.iso.datetime({ offset: true }).optional(),
            to: z.iso.datetime({ offset: true }).optional(),
            site: z.string().min(1).max(64).optional(),
          }),
          response: {
            200: previewResponse,
            400: errorSchema,
            403: errorSchema,
            404: errorSchema,
            409: errorSchema,
            422: errorSchema,
            429: errorSchema,
          },
        },
      },
      async (req, reply) => {
        // The admin gave up (closed the page): stop reading history.
        const abort = new AbortController();
        reply.raw.on('close', () => {
          if (!reply.raw.writableEnded) abort.abort();
        });
        const { from, to, ...rest } = req.body;
        return deps.rulePreview.run(
          {
            ...rest,
            changes: rest.changes as Record<string, unknown>,
            ...(from ? { from: Date.parse(from) } : {}),
            ...(to ? { to: Date.parse(to) } : {}),
          },
          abort.signal,
        );
      },
    );

    for (const decision of ['approve', 'reject'] as const) {
      app.post(
        `/rules/:id/versions/:version/${decision}`,
        {
          onRequest: admin,
          schema: {
            summary: decision === 'approve' ? 'Approve a pending change' : 'Reject a pending change',
            description:
              decision === 'approve'
                ? 'By an admin other than its author; it then takes effect at once.'
                : 'It never takes effect.',
            tags: ['rules'],
            params: strictObject({
              id: z.string().min(1).max(64),
              version: z.coerce.number().int().positive(),
            }),
            body: strictObject({ comment: comment.optional() }).nullish(),
            response: versionResponse,
          },
        },
        async (req) =>
          versionView(
            await versions.decide(
              req.params.id,
              req.params.version,
              decision === 'approve',
              actorOf(req).name,
              req.body?.comment,
            ),
          ),
      );
    }
  };
