import type { RuleValue, RuleView } from '../../admin-types';

/** A field of a rule an admin changes from the rules page: a number, optional or required. */
export interface FieldSpec {
  field: string;
  /** Optional fields may be left empty: the change sends `null`, which removes them. */
  optional: boolean;
  /** Seconds rather than the metric's unit. */
  seconds: boolean;
}

const limit = (field: string): FieldSpec => ({ field, optional: true, seconds: false });
const timing = (field: string): FieldSpec => ({ field, optional: false, seconds: true });

const TIMINGS = [timing('forSeconds'), timing('debounceSeconds')];

/** The numeric fields of each rule type (src/rules/config.ts); the rest stay in the YAML. */
const FIELDS: Record<string, FieldSpec[]> = {
  threshold: [limit('above'), limit('below'), limit('clearBelow'), limit('clearAbove'), ...TIMINGS],
  rate: [limit('fallingFasterThan'), limit('risingFasterThan'), timing('windowSeconds'), ...TIMINGS],
  no_data: [timing('silentSeconds'), ...TIMINGS],
};

export function fieldsOf(rule: RuleView): FieldSpec[] {
  return FIELDS[rule.type] ?? TIMINGS;
}

/** The rule's own values (not the site or asset overrides). */
export function ownValues(rule: RuleView): Map<string, unknown> {
  return new Map(
    rule.values.filter((v) => v.source === 'default' || v.source === 'kind').map((v) => [v.field, v.value]),
  );
}

export function overrides(rule: RuleView): RuleValue[] {
  return rule.values.filter((v) => v.source === 'site' || v.source === 'asset');
}

/** The inputs' text for a rule as it is. */
export function inputsOf(rule: RuleView): Record<string, string> {
  const own = ownValues(rule);
  return Object.fromEntries(
    fieldsOf(rule).map((f) => {
      const v = own.get(f.field);
      return [f.field, v === undefined || v === null ? '' : String(v)];
    }),
  );
}

export type ParsedChanges =
  | { ok: true; changes: Record<string, number | string | null> }
  | { ok: false; errors: Record<string, 'notNumber' | 'required'> };

/** The fields whose input differs from the rule: a number, or `null` for an emptied optional field. */
export function changesOf(rule: RuleView, inputs: Record<string, string>, severity: string): ParsedChanges {
  const own = ownValues(rule);
  const changes: Record<string, number | string | null> = {};
  const errors: Record<string, 'notNumber' | 'required'> = {};
  for (const f of fieldsOf(rule)) {
    const text = (inputs[f.field] ?? '').trim();
    const before = own.get(f.field);
    if (text === '') {
      if (!f.optional) errors[f.field] = 'required';
      else if (before !== undefined) changes[f.field] = null;
      continue;
    }
    const value = Number(text);
    if (!Number.isFinite(value)) errors[f.field] = 'notNumber';
    else if (value !== before) changes[f.field] = value;
  }
  if (severity && severity !== own.get('severity')) changes.severity = severity;
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, changes };
}

/** "above 28 °C · forSeconds 60 s": a rule's own values in one line. */
export function summaryOf(rule: RuleView): { field: string; value: string }[] {
  const own = ownValues(rule);
  const unit = rule.metric?.unit;
  return fieldsOf(rule)
    .filter((f) => own.get(f.field) !== undefined && !(f.seconds && own.get(f.field) === 0))
    .map((f) => ({
      field: f.field,
      value: `${String(own.get(f.field))}${f.seconds ? ' s' : unit ? ` ${unit}` : ''}`,
    }));
}
