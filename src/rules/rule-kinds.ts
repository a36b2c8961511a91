import type { Condition, RuleConfig } from '../config/schema.ts';
import type { DeviceEvent, Reading, ReadingValue } from '../domain/types.ts';

export type Verdict = 'raise' | 'clear' | undefined;

/** The asset's latest value of a metric, as far as the engine has seen it. */
export type Latest = (metric: string) => ReadingValue | undefined;

function holds(c: Condition, value: ReadingValue): boolean {
  if (c.equals !== undefined && value !== c.equals) return false;
  if (c.above !== undefined && !(typeof value === 'number' && value > c.above)) return false;
  if (c.below !== undefined && !(typeof value === 'number' && value < c.below)) return false;
  return true;
}

type RuleOf<T extends RuleConfig['type']> = Extract<RuleConfig, { type: T }>;

/**
 * Each rule kind is a pure judgement of one reading or event: raise, clear, or no opinion.
 * Edge detection (only transitions count) is the engine's job, not the kind's.
 */
const kinds: {
  [T in RuleConfig['type']]: {
    reading?(rule: RuleOf<T>, r: Reading, latest: Latest): Verdict;
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
  all: {
    // Judged on the latest value of every metric named: devices that report only changed fields
    // (Shelly NotifyStatus) still give a complete picture.
    reading(rule, r, latest) {
      if (!rule.conditions.some((c) => c.metric === r.metric)) return undefined;
      const values = rule.conditions.map((c) => latest(c.metric));
      if (values.some((v) => v === undefined)) return undefined;
      return rule.conditions.every((c, i) => holds(c, values[i] as ReadingValue)) ? 'raise' : 'clear';
    },
  },
  offline: {
    event(_rule, e) {
      if (e.kind !== 'availability') return undefined;
      return e.code === 'offline' ? 'raise' : e.code === 'online' ? 'clear' : undefined;
    },
  },
  fault_event: {
    reading(rule, r) {
      const clearing = rule.clearOnMetric;
      if (clearing === undefined) return undefined;
      return (Array.isArray(clearing) ? clearing.includes(r.metric) : r.metric === clearing)
        ? 'clear'
        : undefined;
    },
    event: (rule, e) => (e.kind === 'fault' && e.code === rule.code ? 'raise' : undefined),
  },
};

export function judgeReading(rule: RuleConfig, r: Reading, latest: Latest): Verdict {
  const kind = kinds[rule.type] as { reading?(rule: RuleConfig, r: Reading, latest: Latest): Verdict };
  return kind.reading?.(rule, r, latest);
}

/** Metrics whose latest value a rule needs remembered between messages. */
export function remembered(rule: RuleConfig): string[] {
  return rule.type === 'all' ? rule.conditions.map((c) => c.metric) : [];
}

export function judgeEvent(rule: RuleConfig, e: DeviceEvent): Verdict {
  const kind = kinds[rule.type] as { event?(rule: RuleConfig, e: DeviceEvent): Verdict };
  return kind.event?.(rule, e);
}
