import { didYouMean } from '../core/strict.ts';
import { overrideIssues, type RuleConfig, type RuleOverride } from '../rules/config.ts';
import type { RuleOverrides } from '../rules/rule-set.ts';
import { limitIssues } from './vocabulary-checks.ts';

type Issue = { path: (string | number)[]; message: string };

/** The configured devices of each site, by id: what an override may name. */
export type SiteDevices = ReadonlyMap<string, ReadonlyMap<string, { kind?: unknown; rules?: unknown }>>;

/**
 * One override of `rule` for a site or an asset: fields the rule's type uses, a hysteresis still
 * the right way round, and limits the metric can read, all judged on the rule as it would apply.
 */
export function oneOverrideIssues(rule: RuleConfig, override: RuleOverride): Issue[] {
  const issues = overrideIssues(rule, override);
  if (issues.length > 0) return issues;
  return limitIssues({ ...rule, ...override } as RuleConfig);
}

/**
 * A rule's `overrides`: sites that exist, devices of that site that the rule applies to, and
 * changes that make sense for the rule. A device's own `rules:` for the same rule must agree.
 */
export function ruleOverridesIssues(rule: RuleConfig, overrides: RuleOverrides, sites: SiteDevices): Issue[] {
  const issues: Issue[] = [];
  const unknownSite = (site: string, path: Issue['path']) => {
    const hint = didYouMean(site, sites.keys());
    issues.push({ path, message: `unknown site "${site}"${hint ? ` (did you mean "${hint}"?)` : ''}` });
  };
  for (const [site, override] of Object.entries(overrides.sites ?? {})) {
    if (!sites.has(site)) unknownSite(site, ['sites', site]);
    else
      for (const i of oneOverrideIssues(rule, override))
        issues.push({ ...i, path: ['sites', site, ...i.path] });
  }
  for (const [site, assets] of Object.entries(overrides.assets ?? {})) {
    const devices = sites.get(site);
    if (!devices) {
      unknownSite(site, ['assets', site]);
      continue;
    }
    for (const [assetId, override] of Object.entries(assets)) {
      const path = ['assets', site, assetId];
      const device = devices.get(assetId);
      if (!device) {
        const hint = didYouMean(assetId, devices.keys());
        issues.push({
          path,
          message: `site "${site}" has no device "${assetId}"${hint ? ` (did you mean "${hint}"?)` : ''}`,
        });
        continue;
      }
      if (typeof device.kind === 'string' && !rule.kinds.includes(device.kind)) {
        issues.push({
          path,
          message: `rule "${rule.id}" applies to ${rule.kinds.join(', ')}, not to kind "${device.kind}"`,
        });
        continue;
      }
      const own = (device.rules as Record<string, unknown> | undefined)?.[rule.id];
      if (own !== undefined && JSON.stringify(own) !== JSON.stringify(override)) {
        issues.push({
          path,
          message: `device "${assetId}" sets its own rules.${rule.id} differently; keep one of the two`,
        });
      }
      for (const i of oneOverrideIssues(rule, override)) issues.push({ ...i, path: [...path, ...i.path] });
    }
  }
  return issues;
}
