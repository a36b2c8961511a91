import type { Asset } from '../config/directory.ts';
import type { RuleConfig } from '../config/schema.ts';
import type { Alarm, AlarmTransition, DeviceEvent, Reading, ReadingValue, Ticket } from '../domain/types.ts';
import { judgeEvent, judgeReading, remembered, type Verdict } from './rule-kinds.ts';

const stateKey = (site: string, assetId: string, ruleId: string) => `${site}\u001f${assetId}\u001f${ruleId}`;

/**
 * Per-asset alarm state for every configured rule. Pure apart from that state: no clock, no I/O.
 * Readings and events are judged in the order the device sent them.
 */
export class RuleEngine {
  readonly #rulesByKind = new Map<string, RuleConfig[]>();
  readonly #active = new Map<string, Alarm>();
  /** Latest values per asset, only for metrics some rule needs to remember (bounded by design). */
  readonly #latest = new Map<string, Map<string, ReadingValue>>();
  readonly #rememberedMetrics = new Set<string>();

  constructor(rules: readonly RuleConfig[]) {
    for (const rule of rules) {
      for (const metric of remembered(rule)) this.#rememberedMetrics.add(metric);
      for (const kind of rule.kinds) {
        const list = this.#rulesByKind.get(kind) ?? [];
        list.push(rule);
        this.#rulesByKind.set(kind, list);
      }
    }
  }

  /**
   * After a restart, alarms behind open tickets are active again, so that the next normal value
   * clears them instead of being ignored.
   */
  seedFromTicket(ticket: Ticket): void {
    if (!ticket.alarmActive || ticket.status === 'closed') return;
    this.#active.set(stateKey(ticket.site, ticket.assetId, ticket.ruleId), {
      site: ticket.site,
      assetId: ticket.assetId,
      ruleId: ticket.ruleId,
      fault: ticket.fault,
      category: ticket.category,
      severity: ticket.severity,
      raisedAt: ticket.detectedAt,
    });
  }

  evaluate(asset: Asset, readings: readonly Reading[], events: readonly DeviceEvent[]): AlarmTransition[] {
    const rules = this.#rulesByKind.get(asset.kind);
    if (!rules) return [];
    const transitions: AlarmTransition[] = [];
    const assetKey = `${asset.site}\u001f${asset.id}`;
    const latest = (metric: string) => this.#latest.get(assetKey)?.get(metric);
    for (const item of [...events, ...readings].sort((a, b) => a.ts - b.ts)) {
      if ('metric' in item && this.#rememberedMetrics.has(item.metric))
        this.#remember(assetKey, item.metric, item.value);
      for (const rule of rules) {
        const verdict = 'metric' in item ? judgeReading(rule, item, latest) : judgeEvent(rule, item);
        const transition = this.#apply(asset, rule, verdict, item);
        if (transition) transitions.push(transition);
      }
    }
    return transitions;
  }

  /**
   * Undoes transitions whose effect could not be recorded (the store failed), so that the
   * redelivered message raises or clears again instead of being swallowed as "no change".
   */
  revert(transitions: readonly AlarmTransition[]): void {
    for (const t of [...transitions].reverse()) {
      const key = stateKey(t.alarm.site, t.alarm.assetId, t.alarm.ruleId);
      if (t.type === 'raised') this.#active.delete(key);
      else {
        const { clearedAt: _cleared, ...active } = t.alarm;
        this.#active.set(key, active);
      }
    }
  }

  #remember(assetKey: string, metric: string, value: ReadingValue): void {
    let values = this.#latest.get(assetKey);
    if (!values) {
      values = new Map();
      this.#latest.set(assetKey, values);
    }
    values.set(metric, value);
  }

  /**
   * A ticket closed while its alarm was active (false alarm, or a repair the desk accepted):
   * forget the alarm so the next report of the fault raises a new ticket instead of nothing.
   */
  forget(site: string, assetId: string, ruleId: string): void {
    this.#active.delete(stateKey(site, assetId, ruleId));
  }

  isActive(site: string, assetId: string, ruleId: string): boolean {
    return this.#active.has(stateKey(site, assetId, ruleId));
  }

  #apply(
    asset: Asset,
    rule: RuleConfig,
    verdict: Verdict,
    cause: Reading | DeviceEvent,
  ): AlarmTransition | undefined {
    if (!verdict) return undefined;
    const key = stateKey(asset.site, asset.id, rule.id);
    const current = this.#active.get(key);
    if (verdict === 'raise' && !current) {
      const alarm: Alarm = {
        site: asset.site,
        assetId: asset.id,
        ruleId: rule.id,
        fault: rule.fault,
        category: rule.category ?? asset.category,
        severity: rule.severity,
        raisedAt: cause.ts,
        cause,
      };
      this.#active.set(key, alarm);
      return { type: 'raised', alarm };
    }
    if (verdict === 'clear' && current) {
      this.#active.delete(key);
      return { type: 'cleared', alarm: { ...current, clearedAt: cause.ts, cause } };
    }
    return undefined;
  }
}
