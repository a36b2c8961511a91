import { formatPath } from '../config/load.ts';
import { type Config, configSchema } from '../config/schema.ts';
import type { RuleDocument } from '../store/store.ts';

export interface FieldIssue {
  /** The field of the rule (`above`, `overrides.sites.north.above`), as the API body names it. */
  field: string;
  message: string;
}

/**
 * What is wrong with the rules if `ruleId` took `candidate`: the whole configuration is checked
 * again with it, so a runtime change meets every check a YAML edit meets (schema, hysteresis,
 * the metric vocabulary and ranges, categories, one fault per kind, overrides of real devices).
 * Devices' own `rules:` are left out: the documents already hold them.
 */
export function candidateIssues(
  config: Config,
  current: ReadonlyMap<string, RuleDocument>,
  ruleId: string,
  candidate: RuleDocument,
): FieldIssue[] {
  const rules = [...current.entries()].filter(([id]) => id !== ruleId).map(([, doc]) => doc);
  rules.push(candidate);
  const raw = {
    ...config,
    sites: config.sites.map((site) => ({
      ...site,
      devices: site.devices.map(({ rules: _own, ...device }) => device),
    })),
    rules: rules.map((d) => ({ ...d.rule, ...(hasOverrides(d) ? { overrides: d.overrides } : {}) })),
  };
  const index = rules.length - 1;
  const result = configSchema.safeParse(raw);
  if (result.success) return [];
  return result.error.issues.map((i) => {
    const [head, n, ...rest] = i.path;
    if (head === 'rules' && n === index) return { field: formatPath(rest), message: i.message };
    return { field: formatPath(i.path), message: i.message };
  });
}

function hasOverrides(doc: RuleDocument): boolean {
  return Object.keys(doc.overrides.sites ?? {}).length + Object.keys(doc.overrides.assets ?? {}).length > 0;
}
