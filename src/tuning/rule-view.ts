import { z } from 'zod';
import { isMetric, METRICS, type MetricSpec } from '../../adapters/metrics.ts';
import type { RuleVersion } from '../store/store.ts';
import { canonical, RULE_DEFAULTS } from './rule-document.ts';

export const ruleVersionSchema = z.object({
  ruleId: z.string(),
  version: z.number().int(),
  state: z.enum(['applied', 'pending', 'rejected']),
  author: z.string(),
  createdAt: z.string(),
  comment: z.string(),
  diff: z.array(z.object({ path: z.string(), from: z.unknown(), to: z.unknown() })),
  assetsAffected: z.number().int(),
  baseVersion: z.number().int().nullable(),
  restoredFrom: z.number().int().nullable(),
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
  decisionComment: z.string().nullable(),
  /** The rule and its overrides as of this version; null: the version removed the rule. */
  document: z.unknown(),
});

const source = z.enum(['default', 'kind', 'site', 'asset']);

export const ruleViewSchema = z.object({
  id: z.string(),
  type: z.string(),
  kinds: z.array(z.string()),
  version: z.number().int(),
  /** The metric the rule judges, with its unit (null for rules on events or silence). */
  metric: z.object({ name: z.string(), unit: z.string().nullable() }).nullable(),
  /**
   * Every value and where it comes from: `default` (the schema's), `kind` (the rule, for the
   * asset kinds it names), `site` or `asset` (an override, with its site and asset).
   */
  values: z.array(
    z.object({
      field: z.string(),
      value: z.unknown(),
      source,
      site: z.string().nullable(),
      assetId: z.string().nullable(),
    }),
  ),
  /** Changes waiting for a second admin. */
  pending: z.array(ruleVersionSchema),
});

export function versionView(v: RuleVersion): z.infer<typeof ruleVersionSchema> {
  return {
    ruleId: v.ruleId,
    version: v.version,
    state: v.state,
    author: v.author,
    createdAt: new Date(v.createdAt).toISOString(),
    comment: v.comment,
    diff: v.diff,
    assetsAffected: v.assetsAffected,
    baseVersion: v.baseVersion ?? null,
    restoredFrom: v.restoredFrom ?? null,
    decidedBy: v.decidedBy ?? null,
    decidedAt: v.decidedAt === undefined ? null : new Date(v.decidedAt).toISOString(),
    decisionComment: v.decisionComment ?? null,
    document: v.document,
  };
}

export function ruleView(current: RuleVersion, pending: RuleVersion[]): z.infer<typeof ruleViewSchema> {
  const doc = current.document;
  if (!doc) throw new Error(`rule ${current.ruleId} was removed`);
  const { rule, overrides } = doc;
  const values: z.infer<typeof ruleViewSchema>['values'] = [];
  for (const [field, value] of Object.entries(rule)) {
    if (field === 'id' || field === 'type' || field === 'kinds') continue;
    const isDefault = field in RULE_DEFAULTS && canonical(RULE_DEFAULTS[field]) === canonical(value);
    values.push({ field, value, source: isDefault ? 'default' : 'kind', site: null, assetId: null });
  }
  for (const [site, o] of Object.entries(overrides.sites ?? {}))
    for (const [field, value] of Object.entries(o))
      values.push({ field, value, source: 'site', site, assetId: null });
  for (const [site, byAsset] of Object.entries(overrides.assets ?? {}))
    for (const [assetId, o] of Object.entries(byAsset))
      for (const [field, value] of Object.entries(o))
        values.push({ field, value, source: 'asset', site, assetId });
  const metric = 'metric' in rule && typeof rule.metric === 'string' ? rule.metric : undefined;
  const spec: MetricSpec | undefined = metric && isMetric(metric) ? METRICS[metric] : undefined;
  return {
    id: rule.id,
    type: rule.type,
    kinds: rule.kinds,
    version: current.version,
    metric: metric ? { name: metric, unit: spec?.unit ?? null } : null,
    values,
    pending: pending.map(versionView),
  };
}
