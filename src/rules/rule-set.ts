import type { Asset } from '../config/directory.ts';
import type { RuleConfig, RuleOverride } from './config.ts';

/** One rule's changes for a site, and for single assets (by site, then asset id). */
export interface RuleOverrides {
  sites?: Readonly<Record<string, RuleOverride>>;
  assets?: Readonly<Record<string, Readonly<Record<string, RuleOverride>>>>;
}

/**
 * The rules the engine judges by, as one immutable value: the rules themselves and their site
 * and asset overrides. A change at runtime builds a new set and hands it over whole, so no
 * message is ever judged against half of a change.
 *
 * Precedence, most specific last: the rule, the site's override, the asset's override. With
 * `assetRules`, the `rules:` a device carries in the YAML apply on top; the versioned rules turn
 * that off, because they already hold those overrides (and an admin may have removed one since).
 */
export class RuleSet {
  readonly rules: readonly RuleConfig[];
  readonly #overrides: ReadonlyMap<string, RuleOverrides>;
  readonly #assetRules: boolean;
  /** Sites with at least one override, to tell quickly that an asset needs no resolution. */
  readonly #sites = new Set<string>();

  constructor(
    rules: readonly RuleConfig[],
    overrides?: ReadonlyMap<string, RuleOverrides>,
    opts: { assetRules?: boolean } = {},
  ) {
    this.rules = rules;
    // Without a map of its own, the set takes the rules' `overrides` as the YAML wrote them.
    this.#overrides =
      overrides ?? new Map(rules.flatMap((r) => (r.overrides ? [[r.id, r.overrides] as const] : [])));
    this.#assetRules = opts.assetRules ?? true;
    for (const o of this.#overrides.values())
      for (const site of [...Object.keys(o.sites ?? {}), ...Object.keys(o.assets ?? {})])
        this.#sites.add(site);
  }

  overridesOf(ruleId: string): RuleOverrides {
    return this.#overrides.get(ruleId) ?? {};
  }

  /** Whether anything changes the asset's rules from its kind's (most assets: nothing). */
  touches(asset: Asset): boolean {
    return (this.#assetRules && asset.rules !== undefined) || this.#sites.has(asset.site);
  }

  /** The rule as it applies to the asset, or undefined where it is switched off for it. */
  resolve(rule: RuleConfig, asset: Asset): RuleConfig | undefined {
    const o = this.#overrides.get(rule.id);
    const site = o?.sites?.[asset.site];
    const own = o?.assets?.[asset.site]?.[asset.id];
    const yaml = this.#assetRules ? asset.rules?.[rule.id] : undefined;
    if (!site && !own && !yaml) return rule;
    const merged: RuleOverride = { ...site, ...own, ...yaml };
    if (merged.disabled) return undefined;
    const { disabled: _disabled, ...changes } = merged;
    return { ...rule, ...changes } as RuleConfig;
  }
}
