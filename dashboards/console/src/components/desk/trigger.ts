import { formatValue } from '../../format';
import type { RuleLimit, Ticket } from '../../types';

/** How a value reads: booleans in words ("是"), numbers with their unit ("28.4 °C"). */
export type ValueText = (value: unknown, unit?: string | null) => string;

/**
 * The reading and the limit it crossed, as a maintainer reads it: "28.4 °C > 28", "18 % < 20";
 * a reading equal to the value the rule looks for stands alone ("漏水：是"). Null without a
 * trigger (a ticket raised by hand).
 */
export function triggerText(trigger: Ticket['trigger'], text: ValueText = formatValue): string | null {
  if (!trigger) return null;
  const reading = trigger.code ?? text(trigger.value, trigger.unit);
  const limit = limitText((trigger.limit ?? null) as RuleLimit | null, trigger, text);
  return limit ? `${reading} ${limit}` : reading;
}

function limitText(
  l: RuleLimit | null,
  trigger: NonNullable<Ticket['trigger']>,
  text: ValueText,
): string | null {
  if (!l) return null;
  const per = `/${l.windowSeconds ?? 60} s`;
  if (l.above !== undefined) return `> ${text(l.above)}`;
  if (l.below !== undefined) return `< ${text(l.below)}`;
  if (l.equals !== undefined) return l.equals === trigger.value ? null : `≠ ${text(l.equals)}`;
  if (l.risingFasterThan !== undefined) return `↑ > ${text(l.risingFasterThan, trigger.unit)}${per}`;
  if (l.fallingFasterThan !== undefined) return `↓ > ${text(l.fallingFasterThan, trigger.unit)}${per}`;
  if (l.silentSeconds !== undefined) return `> ${l.silentSeconds} s`;
  return null;
}
