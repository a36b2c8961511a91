import {
  isMetric,
  METRICS,
  type MetricSpec,
  type MetricType,
  metricAppliesTo,
} from '../../adapters/metrics.ts';
import { didYouMean } from '../core/strict.ts';
import type { RuleConfig } from '../rules/config.ts';

type Issue = { path: (string | number)[]; message: string };

export function unknownMetric(metric: string): string {
  const hint = didYouMean(metric, Object.keys(METRICS));
  return `unknown metric "${metric}"${hint ? ` (did you mean "${hint}"?)` : ''}: no adapter reports it, so the rule could never fire`;
}

/** One metric a rule names: canonical, reported for one of the rule's kinds, of the type the rule needs. */
function metricIssues(
  rule: RuleConfig,
  metric: string,
  path: (string | number)[],
  needs?: MetricType,
): Issue[] {
  if (!isMetric(metric)) return [{ path, message: unknownMetric(metric) }];
  if (!rule.kinds.some((kind) => metricAppliesTo(metric, kind))) {
    const kinds = METRICS[metric].kinds;
    return [
      {
        path,
        message: `metric "${metric}" says nothing about kind ${rule.kinds.join(', ')} (it is reported for ${kinds === 'any' ? 'any kind' : kinds.join(', ')})`,
      },
    ];
  }
  const type = METRICS[metric].type;
  if (needs && type !== needs)
    return [{ path, message: `metric "${metric}" is a ${type}; this needs a ${needs}` }];
  return [];
}

const typeOf = (v: unknown): MetricType => typeof v as MetricType;

/** A limit outside what the metric can read could never be crossed: the wrong unit, or a typo. */
function rangeIssue(metric: string, value: unknown, path: (string | number)[]): Issue[] {
  if (!isMetric(metric) || typeof value !== 'number') return [];
  const spec: MetricSpec = METRICS[metric];
  if (!spec.range) return [];
  const [min, max] = spec.range;
  if (value >= min && value <= max) return [];
  const unit = spec.unit ? ` ${spec.unit}` : '';
  return [
    {
      path,
      message: `${value}${unit} is outside what ${metric} can read (${min} to ${max}${unit}): the limit could never be crossed (wrong unit?)`,
    },
  ];
}

const LIMITS = ['above', 'below', 'clearBelow', 'clearAbove'] as const;

/** A threshold's limits (or an `all` rule's conditions) against the metric's range and unit. */
export function limitIssues(rule: RuleConfig): Issue[] {
  if (rule.type === 'threshold')
    return LIMITS.flatMap((field) => rangeIssue(rule.metric, rule[field], [field]));
  if (rule.type === 'all')
    return rule.conditions.flatMap((c, i) =>
      (['above', 'below'] as const).flatMap((field) =>
        rangeIssue(c.metric, c[field], ['conditions', i, field]),
      ),
    );
  return [];
}

/** The rule against the metric vocabulary (adapters/metrics.ts): names, kinds, types and ranges. */
export function ruleVocabularyIssues(rule: RuleConfig): Issue[] {
  return [...metricNameIssues(rule), ...limitIssues(rule)];
}

function metricNameIssues(rule: RuleConfig): Issue[] {
  switch (rule.type) {
    case 'threshold':
    case 'rate':
      return metricIssues(rule, rule.metric, ['metric'], 'number');
    case 'equals':
      return metricIssues(rule, rule.metric, ['metric'], typeOf(rule.value));
    case 'all':
      return rule.conditions.flatMap((c, i) =>
        metricIssues(
          rule,
          c.metric,
          ['conditions', i, 'metric'],
          c.equals !== undefined ? typeOf(c.equals) : 'number',
        ),
      );
    case 'fault_event': {
      const clearing = rule.clearOnMetric === undefined ? [] : [rule.clearOnMetric].flat();
      return clearing.flatMap((metric, i) =>
        metricIssues(
          rule,
          metric,
          Array.isArray(rule.clearOnMetric) ? ['clearOnMetric', i] : ['clearOnMetric'],
        ),
      );
    }
    default:
      return [];
  }
}
