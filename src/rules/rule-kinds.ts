import type { DeviceEvent, FaultMeaning, Reading, ReadingValue, RuleLimit } from '../domain/types.ts';
import type { Condition, RuleConfig } from './config.ts';

/** What one reading or event says about a rule's condition; `undefined`: nothing (keep the state). */
export type Judgement = 'fault' | 'normal' | undefined;

export interface JudgeContext {
  /** The asset's latest value of a metric, as far as the engine has seen it. */
  latest(metric: string): ReadingValue | undefined;
  /** Recent numeric values of a metric, oldest first, within the longest rate window. */
  history(metric: string): readonly { ts: number; value: number }[];
  /** Whether the rule's alarm is active now (for hysteresis). */
  active: boolean;
}

type RuleOf<T extends RuleConfig['type']> = Extract<RuleConfig, { type: T }>;

function holds(c: Condition, value: ReadingValue): boolean {
  if (c.equals !== undefined && value !== c.equals) return false;
  if (c.above !== undefined && !(typeof value === 'number' && value > c.above)) return false;
  if (c.below !== undefined && !(typeof value === 'number' && value < c.below)) return false;
  return true;
}

/**
 * Each rule kind is a pure judgement of one reading or event. Timing (duration, debounce, silence),
 * edge detection and flapping are the engine's job, the same for every kind.
 */
const kinds: {
  [T in RuleConfig['type']]: {
    reading?(rule: RuleOf<T>, r: Reading, ctx: JudgeContext): Judgement;
    event?(rule: RuleOf<T>, e: DeviceEvent, ctx: JudgeContext): Judgement;
  };
} = {
  equals: {
    reading: (rule, r) =>
      r.metric !== rule.metric ? undefined : r.value === rule.value ? 'fault' : 'normal',
  },
  threshold: {
    reading(rule, r, { active }) {
      if (r.metric !== rule.metric || typeof r.value !== 'number') return undefined;
      const v = r.value;
      const tripped =
        (rule.above !== undefined && v > rule.above) || (rule.below !== undefined && v < rule.below);
      if (tripped) return 'fault';
      const clear =
        (rule.above === undefined || v <= (rule.clearBelow ?? rule.above)) &&
        (rule.below === undefined || v >= (rule.clearAbove ?? rule.below));
      // Inside the hysteresis band: an active alarm stays, an inactive one stays clear.
      return clear || !active ? 'normal' : undefined;
    },
  },
  all: {
    // Judged on the latest value of every metric named: devices that report only changed fields
    // (Shelly NotifyStatus) still give a complete picture.
    reading(rule, r, { latest }) {
      if (!rule.conditions.some((c) => c.metric === r.metric)) return undefined;
      const values = rule.conditions.map((c) => latest(c.metric));
      if (values.some((v) => v === undefined)) return undefined;
      return rule.conditions.every((c, i) => holds(c, values[i] as ReadingValue)) ? 'fault' : 'normal';
    },
  },
  rate: {
    reading(rule, r, { history }) {
      if (r.metric !== rule.metric || typeof r.value !== 'number') return undefined;
      const window = history(rule.metric).filter((p) => r.ts - p.ts <= rule.windowSeconds * 1000);
      const oldest = window[0];
      // Two points close together give a meaningless slope: need a tenth of the window at least.
      if (!oldest || r.ts - oldest.ts < (rule.windowSeconds * 1000) / 10) return undefined;
      const perMinute = ((r.value - oldest.value) * 60_000) / (r.ts - oldest.ts);
      const falling = rule.fallingFasterThan !== undefined && -perMinute > rule.fallingFasterThan;
      const rising = rule.risingFasterThan !== undefined && perMinute > rule.risingFasterThan;
      return falling || rising ? 'fault' : 'normal';
    },
  },
  offline: {
    event(_rule, e) {
      if (e.kind !== 'availability') return undefined;
      return e.code === 'offline' ? 'fault' : e.code === 'online' ? 'normal' : undefined;
    },
  },
  fault_event: {
    reading(rule, r) {
      const clearing = rule.clearOnMetric;
      if (clearing === undefined) return undefined;
      return (Array.isArray(clearing) ? clearing.includes(r.metric) : r.metric === clearing)
        ? 'normal'
        : undefined;
    },
    event: (rule, e) => (e.kind === 'fault' && e.code === rule.code ? 'fault' : undefined),
  },
  no_data: {
    // Any sign of life is normal; silence is judged by the engine's timer.
    reading: () => 'normal',
    event: (_rule, e) => (e.kind === 'availability' && e.code === 'offline' ? undefined : 'normal'),
  },
};

export function judge(rule: RuleConfig, item: Reading | DeviceEvent, ctx: JudgeContext): Judgement {
  const kind = kinds[rule.type] as {
    reading?(rule: RuleConfig, r: Reading, ctx: JudgeContext): Judgement;
    event?(rule: RuleConfig, e: DeviceEvent, ctx: JudgeContext): Judgement;
  };
  return 'metric' in item ? kind.reading?.(rule, item, ctx) : kind.event?.(rule, item, ctx);
}

/** Metrics whose latest value (or recent history, for rates) a rule needs remembered. */
export function remembered(rule: RuleConfig): { latest: string[]; historySeconds?: [string, number] } {
  if (rule.type === 'all') return { latest: rule.conditions.map((c) => c.metric) };
  if (rule.type === 'rate') return { latest: [], historySeconds: [rule.metric, rule.windowSeconds] };
  return { latest: [] };
}

/** The limit a rule judges against, for the ticket to show next to the reading that crossed it. */
export function limitOf(rule: RuleConfig): RuleLimit | undefined {
  const limit: RuleLimit = {};
  if (rule.type === 'equals') limit.equals = rule.value;
  if (rule.type === 'threshold') {
    if (rule.above !== undefined) limit.above = rule.above;
    if (rule.below !== undefined) limit.below = rule.below;
  }
  if (rule.type === 'rate') {
    if (rule.fallingFasterThan !== undefined) limit.fallingFasterThan = rule.fallingFasterThan;
    if (rule.risingFasterThan !== undefined) limit.risingFasterThan = rule.risingFasterThan;
    limit.windowSeconds = rule.windowSeconds;
  }
  if (rule.type === 'no_data') limit.silentSeconds = rule.silentSeconds;
  if (rule.forSeconds > 0) limit.forSeconds = rule.forSeconds;
  return Object.keys(limit).length > 0 ? limit : undefined;
}

/** What each rule kind's faults mean (for correlation): exhaustive, so a new kind must say. */
const MEANINGS: { [T in RuleConfig['type']]: FaultMeaning } = {
  equals: 'condition',
  threshold: 'condition',
  all: 'condition',
  rate: 'condition',
  fault_event: 'condition',
  offline: 'availability',
  no_data: 'availability',
};

export function meaningOf(rule: RuleConfig): FaultMeaning {
  return MEANINGS[rule.type];
}
