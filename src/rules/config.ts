import { z } from 'zod';
import { strictObject } from '../core/strict.ts';

const id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected lower-case letters, digits, "-" or "_" (used in MQTT topics)');

const severity = z.enum(['critical', 'major', 'minor']);

const conditionSchema = strictObject({
  metric: z.string().min(1),
  equals: z.union([z.string(), z.number(), z.boolean()]).optional(),
  above: z.number().optional(),
  below: z.number().optional(),
}).refine((c) => c.equals !== undefined || c.above !== undefined || c.below !== undefined, {
  message: 'a condition needs "equals", "above" or "below"',
});

export type Condition = z.infer<typeof conditionSchema>;

const seconds = z
  .number()
  .min(0)
  .max(30 * 86_400);

/** Per-asset changes to a rule: thresholds and timings, or switching it off for that asset. */
export const ruleOverrideSchema = strictObject({
  disabled: z.boolean().optional(),
  above: z.number().optional(),
  below: z.number().optional(),
  clearBelow: z.number().optional(),
  clearAbove: z.number().optional(),
  forSeconds: seconds.optional(),
  debounceSeconds: seconds.optional(),
  silentSeconds: z.number().positive().optional(),
  fallingFasterThan: z.number().positive().optional(),
  risingFasterThan: z.number().positive().optional(),
});

export type RuleOverride = z.infer<typeof ruleOverrideSchema>;

/** Settings every rule kind has; the timing ones can be overridden per asset. */
const ruleBase = {
  id,
  /** Asset kinds the rule applies to. */
  kinds: z.array(z.string().min(1)).min(1),
  fault: id,
  severity: severity.default('major'),
  /** Overrides the asset's category for the tickets this rule raises. */
  category: z.string().optional(),
  /** Duration: the fault condition must hold this long before the alarm is raised. */
  forSeconds: seconds.default(0),
  /** Debounce: a change of state (either way) that lasts less than this is ignored. */
  debounceSeconds: seconds.default(0),
  /**
   * Changes for whole sites (by site id) and single assets (site id, then device id): the form an
   * admin's runtime overrides take in the YAML (`GET /api/rules/export`). A device's own `rules:`
   * say the same for one device; where both name one device and rule they must agree.
   */
  overrides: strictObject({
    sites: z.record(z.string(), ruleOverrideSchema).optional(),
    assets: z.record(z.string(), z.record(z.string(), ruleOverrideSchema)).optional(),
  }).optional(),
};

const equalsRule = strictObject({
  ...ruleBase,
  type: z.literal('equals'),
  metric: z.string().min(1),
  value: z.union([z.string(), z.number(), z.boolean()]),
});

/**
 * `above`/`below` raise; `clearBelow`/`clearAbove` are the hysteresis: a value between the two
 * thresholds keeps the alarm as it is, so a value hovering at the limit does not flap.
 */
const thresholdRule = strictObject({
  ...ruleBase,
  type: z.literal('threshold'),
  metric: z.string().min(1),
  above: z.number().optional(),
  below: z.number().optional(),
  clearBelow: z.number().optional(),
  clearAbove: z.number().optional(),
});

const offlineRule = strictObject({ ...ruleBase, type: z.literal('offline') });

const allRule = strictObject({
  ...ruleBase,
  /** Every condition holds on the latest values, e.g. a pump relay on while drawing no power. */
  type: z.literal('all'),
  conditions: z.array(conditionSchema).min(2),
});

const faultEventRule = strictObject({
  ...ruleBase,
  type: z.literal('fault_event'),
  code: z.string().min(1),
  /** A valid reading of this metric (or any of these) clears the fault, e.g. a real temperature. */
  clearOnMetric: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
});

/** Rate of change per minute over a sliding window, e.g. pipe pressure falling fast: a burst. */
const rateRule = strictObject({
  ...ruleBase,
  type: z.literal('rate'),
  metric: z.string().min(1),
  fallingFasterThan: z.number().positive().optional(),
  risingFasterThan: z.number().positive().optional(),
  windowSeconds: z.number().positive().max(86_400).default(60),
});

/** A device silent for longer than it should be (per kind: battery sensors report rarely). */
const noDataRule = strictObject({
  ...ruleBase,
  type: z.literal('no_data'),
  silentSeconds: z
    .number()
    .positive()
    .max(30 * 86_400),
});

export const ruleSchema = z
  .discriminatedUnion('type', [
    equalsRule,
    thresholdRule,
    offlineRule,
    allRule,
    faultEventRule,
    rateRule,
    noDataRule,
  ])
  .superRefine((r, ctx) => {
    const issue = (message: string, path: string[] = []) => ctx.addIssue({ code: 'custom', message, path });
    if (r.type === 'threshold') {
      if (r.above === undefined && r.below === undefined)
        issue('a threshold rule needs "above", "below" or both');
      if (r.clearBelow !== undefined && (r.above === undefined || r.clearBelow > r.above)) {
        issue('"clearBelow" must be at most "above" (the hysteresis lies under the trip point)', [
          'clearBelow',
        ]);
      }
      if (r.clearAbove !== undefined && (r.below === undefined || r.clearAbove < r.below)) {
        issue('"clearAbove" must be at least "below"', ['clearAbove']);
      }
    }
    if (r.type === 'rate' && r.fallingFasterThan === undefined && r.risingFasterThan === undefined) {
      issue('a rate rule needs "fallingFasterThan", "risingFasterThan" or both');
    }
  });

export type RuleConfig = z.infer<typeof ruleSchema>;

export const flappingSchema = strictObject({
  /** More state changes than this within the window mark the asset's ticket as flapping. */
  maxChanges: z.number().int().positive().default(6),
  windowMinutes: z.number().positive().default(30),
}).prefault({});

/** The override fields that mean something for each rule type (timings apply to all). */
const OVERRIDABLE: { [T in RuleConfig['type']]: readonly (keyof RuleOverride)[] } = {
  equals: [],
  threshold: ['above', 'below', 'clearBelow', 'clearAbove'],
  offline: [],
  all: [],
  fault_event: [],
  rate: ['fallingFasterThan', 'risingFasterThan'],
  no_data: ['silentSeconds'],
};
const ANY_RULE: readonly (keyof RuleOverride)[] = ['disabled', 'forSeconds', 'debounceSeconds'];

/**
 * What is wrong with an asset's override of `rule`: fields the rule's type has no use for (they
 * would be ignored silently), and a hysteresis turned inside out by the new values.
 */
export function overrideIssues(
  rule: RuleConfig,
  override: RuleOverride,
): { path: string[]; message: string }[] {
  const allowed = [...ANY_RULE, ...OVERRIDABLE[rule.type]];
  const issues = Object.keys(override)
    .filter((field) => !allowed.includes(field as keyof RuleOverride))
    .map((field) => ({
      path: [field],
      message: `rule "${rule.id}" is of type ${rule.type}: "${field}" does not apply (it takes ${allowed.join(', ')})`,
    }));
  if (rule.type === 'threshold' && issues.length === 0) {
    const merged = { ...rule, ...override };
    if (merged.clearBelow !== undefined && merged.above !== undefined && merged.clearBelow > merged.above)
      issues.push({ path: ['clearBelow'], message: '"clearBelow" must be at most "above"' });
    if (merged.clearAbove !== undefined && merged.below !== undefined && merged.clearAbove < merged.below)
      issues.push({ path: ['clearAbove'], message: '"clearAbove" must be at least "below"' });
  }
  return issues;
}
