import { createHash } from 'node:crypto';
import type { Config } from '../config/schema.ts';
import type { RuleConfig, RuleOverride } from '../rules/config.ts';
import type { RuleOverrides } from '../rules/rule-set.ts';
import { RuleSet } from '../rules/rule-set.ts';
import type { RuleChange, RuleDocument } from '../store/store.ts';

/** The values the rule schema fills in when a rule leaves them out (checked by a unit test). */
export const RULE_DEFAULTS: Readonly<Record<string, unknown>> = {
  severity: 'major',
  forSeconds: 0,
  debounceSeconds: 0,
  windowSeconds: 60,
};

/** The rules of these documents with their overrides, as the engine judges by them. */
export function ruleSetOf(docs: readonly RuleDocument[]): RuleSet {
  return new RuleSet(
    docs.map((d) => d.rule),
    new Map(docs.map((d) => [d.rule.id, d.overrides])),
    { assetRules: false },
  );
}

/** JSON with keys in order, so equal documents hash and compare equal. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

export function hashDocument(doc: RuleDocument | null): string {
  return createHash('sha256').update(canonical(doc)).digest('hex').slice(0, 32);
}

/**
 * Each rule of the YAML as a document: the rule, its own `overrides`, and the `rules:` that
 * devices carry for it (the cross-checks made sure the two agree where both are given).
 */
export function documentsFromConfig(config: Config): Map<string, RuleDocument> {
  const docs = new Map<string, RuleDocument>();
  for (const { overrides, ...rule } of config.rules) {
    const assets: Record<string, Record<string, RuleOverride>> = {};
    for (const [site, byAsset] of Object.entries(overrides?.assets ?? {})) assets[site] = { ...byAsset };
    for (const site of config.sites) {
      for (const device of site.devices) {
        const own = device.rules?.[rule.id];
        if (own) assets[site.id] = { ...assets[site.id], [device.id]: own };
      }
    }
    docs.set(rule.id, {
      rule: rule as RuleConfig,
      overrides: compactOverrides({ sites: overrides?.sites, assets }),
    });
  }
  return docs;
}

/** Drops empty parts, so that "no overrides" has one form (and one hash). */
export function compactOverrides(o: RuleOverrides): RuleOverrides {
  const out: { sites?: Record<string, RuleOverride>; assets?: Record<string, Record<string, RuleOverride>> } =
    {};
  const sites = Object.entries(o.sites ?? {}).filter(([, v]) => Object.keys(v).length > 0);
  if (sites.length > 0) out.sites = Object.fromEntries(sites);
  const assets = Object.entries(o.assets ?? {})
    .map(
      ([site, byAsset]) =>
        [
          site,
          Object.fromEntries(Object.entries(byAsset).filter(([, v]) => Object.keys(v).length > 0)),
        ] as const,
    )
    .filter(([, byAsset]) => Object.keys(byAsset).length > 0);
  if (assets.length > 0) out.assets = Object.fromEntries(assets);
  return out;
}

/** `rule.above`, `sites.north.above`, `assets.north.lock-1.disabled`: every value by its place. */
function flatten(doc: RuleDocument | null): Map<string, string> {
  const out = new Map<string, string>();
  if (!doc) return out;
  for (const [field, value] of Object.entries(doc.rule)) out.set(`rule.${field}`, canonical(value));
  for (const [site, o] of Object.entries(doc.overrides.sites ?? {}))
    for (const [field, value] of Object.entries(o)) out.set(`sites.${site}.${field}`, canonical(value));
  for (const [site, byAsset] of Object.entries(doc.overrides.assets ?? {}))
    for (const [asset, o] of Object.entries(byAsset))
      for (const [field, value] of Object.entries(o))
        out.set(`assets.${site}.${asset}.${field}`, canonical(value));
  return out;
}

/** What changed from one version to the next; `from`/`to` null where a value was absent. */
export function diffDocuments(before: RuleDocument | null, after: RuleDocument | null): RuleChange[] {
  const a = flatten(before);
  const b = flatten(after);
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  return paths
    .filter((p) => a.get(p) !== b.get(p))
    .map((path) => ({ path, from: parse(a.get(path)), to: parse(b.get(path)) }));
}

const parse = (json: string | undefined): unknown => (json === undefined ? null : JSON.parse(json));
