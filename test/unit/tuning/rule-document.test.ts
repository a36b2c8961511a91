import { describe, expect, it } from 'vitest';
import { ruleSchema } from '../../../src/rules/config.ts';
import {
  diffDocuments,
  documentsFromConfig,
  hashDocument,
  RULE_DEFAULTS,
} from '../../../src/tuning/rule-document.ts';
import { exampleConfig } from '../../helpers/domain.ts';

describe('rule documents', () => {
  it('knows the defaults the rule schema fills in', () => {
    const minimal = { id: 'r', kinds: ['hvac'], fault: 'f', metric: 'temperature_c' };
    const rate = ruleSchema.parse({ ...minimal, type: 'rate', risingFasterThan: 1 });
    const filled = Object.entries(rate).filter(
      ([k]) => !(k in minimal) && k !== 'type' && k !== 'risingFasterThan',
    );
    expect(Object.fromEntries(filled)).toEqual(RULE_DEFAULTS);
  });

  it("folds devices' own rules into the rule's asset overrides", () => {
    const config = exampleConfig();
    const first = config.sites[0]?.devices[0];
    if (first) first.rules = { 'water-leak': { debounceSeconds: 5 } };
    const docs = documentsFromConfig(config);
    const site = config.sites[0]?.id as string;
    const device = config.sites[0]?.devices[0]?.id as string;
    expect(docs.get('water-leak')?.overrides).toEqual({
      assets: { [site]: { [device]: { debounceSeconds: 5 } } },
    });
    expect(docs.get('office-overheat')?.overrides).toEqual({});
  });

  it('diffs by place and hashes equal documents alike, whatever the key order', () => {
    const rule = ruleSchema.parse({
      id: 'r',
      type: 'threshold',
      kinds: ['hvac'],
      fault: 'f',
      metric: 'temperature_c',
      above: 28,
    });
    const before = { rule, overrides: {} };
    const after = { rule: { ...rule, above: 26 }, overrides: { sites: { north: { disabled: true } } } };
    expect(diffDocuments(before, after)).toEqual([
      { path: 'rule.above', from: 28, to: 26 },
      { path: 'sites.north.disabled', from: null, to: true },
    ]);
    expect(diffDocuments(before, null).map((c) => c.to)).toEqual(expect.arrayContaining([null]));
    const reordered = {
      overrides: {},
      rule: Object.fromEntries(Object.entries(rule).reverse()),
    } as typeof before;
    expect(hashDocument(reordered)).toBe(hashDocument(before));
    expect(hashDocument(after)).not.toBe(hashDocument(before));
  });
});
