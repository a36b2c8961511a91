import type { RuleConfig } from '../config/schema.ts';
import type { DeviceEvent, Reading } from '../domain/types.ts';

export type Verdict = 'raise' | 'clear' | undefined;

type RuleOf<T extends RuleConfig['type']> = Extract<RuleConfig, { type: T }>;

/**
 * Each rule kind is a pure judgement of one reading or event: raise, clear, or no opinion.
 * Edge detection (only transitions count) is the engine's job, not the kind's.
 */
const kinds: {
  [T in RuleConfig['type']]: {
    reading?(rule: RuleOf<T>, r: Reading): Verdict;
    event?(rule: RuleOf<T>, e: DeviceEvent): Verdict;
  };
} = {
  equals: {
    reading: (rule, r) => (r.metric !== rule.metric ? undefined : r.value === rule.value ? 'raise' : 'clear'),
  },
  threshold: {
    reading(rule, r) {
      if (r.metric !== rule.metric || typeof r.value !== 'number') return undefined;
      const breached =
        (rule.above !== undefined && r.value > rule.above) ||
        (rule.below !== undefined && r.value < rule.below);
      return breached ? 'raise' : 'clear';
    },
  },
  offline: {
    event(_rule, e) {
      if (e.kind !== 'availability') return undefined;
      return e.code === 'offline' ? 'raise' : e.code === 'online' ? 'clear' : undefined;
    },
  },
  fault_event: {
    reading: (rule, r) =>
      rule.clearOnMetric !== undefined && r.metric === rule.clearOnMetric ? 'clear' : undefined,
    event: (rule, e) => (e.kind === 'fault' && e.code === rule.code ? 'raise' : undefined),
  },
};

export function judgeReading(rule: RuleConfig, r: Reading): Verdict {
  const kind = kinds[rule.type] as { reading?(rule: RuleConfig, r: Reading): Verdict };
  return kind.reading?.(rule, r);
}

export function judgeEvent(rule: RuleConfig, e: DeviceEvent): Verdict {
  const kind = kinds[rule.type] as { event?(rule: RuleConfig, e: DeviceEvent): Verdict };
  return kind.event?.(rule, e);
}
