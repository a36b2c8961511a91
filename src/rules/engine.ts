import type { Asset } from '../config/directory.ts';
import { MinHeap } from '../core/min-heap.ts';
import type { Alarm, AlarmTransition, DeviceEvent, Instant, Reading, Ticket } from '../domain/types.ts';
import { AssetMemory } from './asset-memory.ts';
import type { RuleConfig, RuleOverride } from './config.ts';
import { type Judgement, judge, remembered } from './rule-kinds.ts';

interface RuleState {
  asset: Asset;
  rule: RuleConfig;
  active?: Alarm;
  /** The condition turned bad (or good) at `since`; it must hold for the delay to count. */
  pending?: { to: 'fault' | 'normal'; since: Instant; cause: Reading | DeviceEvent };
  /** Last sign of life, for `no_data` rules. */
  lastSeen?: Instant;
  /** Confirmed state changes inside the flapping window. */
  changes: Instant[];
  flapping: boolean;
  /** Bumped whenever a timer for this state is superseded, so stale heap entries are skipped. */
  generation: number;
}

interface Wake {
  at: Instant;
  key: string;
  generation: number;
}

export interface EngineOptions {
  flapping: { maxChanges: number; windowMinutes: number };
}

const stateKey = (site: string, assetId: string, ruleId: string) => `${site}\u001f${assetId}\u001f${ruleId}`;
const assetKey = (asset: Asset) => `${asset.site}\u001f${asset.id}`;

/**
 * Per-asset alarm state for every configured rule. Pure apart from that state: no I/O, and time
 * only from the readings' timestamps and the `now` given to `wake()`. Duration, debounce and
 * silence use one heap of wake-up times; the caller arms a single timer for `nextWakeAt()`.
 */
export class RuleEngine {
  readonly #rulesByKind = new Map<string, RuleConfig[]>();
  readonly #resolved = new Map<string, RuleConfig[]>();
  readonly #states = new Map<string, RuleState>();
  readonly #wakes = new MinHeap<Wake>((a, b) => a.at < b.at);
  readonly #memory: AssetMemory;
  readonly #opts: EngineOptions;

  constructor(
    rules: readonly RuleConfig[],
    opts: EngineOptions = { flapping: { maxChanges: 6, windowMinutes: 30 } },
  ) {
    this.#opts = opts;
    for (const rule of rules) {
      for (const kind of rule.kinds)
        this.#rulesByKind.set(kind, [...(this.#rulesByKind.get(kind) ?? []), rule]);
    }
    const needs = rules.map(remembered);
    this.#memory = new AssetMemory(
      needs.flatMap((n) => n.latest),
      needs.flatMap((n) =>
        n.historySeconds ? [[n.historySeconds[0], n.historySeconds[1] * 1000] as [string, number]] : [],
      ),
    );
  }

  /** Starts the silence clocks of assets never heard from since start-up. */
  watch(assets: Iterable<Asset>, now: Instant): void {
    for (const asset of assets) {
      for (const rule of this.#rulesFor(asset)) {
        if (rule.type !== 'no_data') continue;
        const state = this.#state(asset, rule);
        state.lastSeen ??= now;
        this.#schedule(state, state.lastSeen + rule.silentSeconds * 1000);
      }
    }
  }

  /** After a restart, alarms behind open tickets are active again, so that a normal value clears them. */
  seedFromTicket(ticket: Ticket): void {
    if (!ticket.alarmActive || ticket.status === 'closed') return;
    this.#seeded.set(stateKey(ticket.site, ticket.assetId, ticket.ruleId), {
      site: ticket.site,
      assetId: ticket.assetId,
      ruleId: ticket.ruleId,
      fault: ticket.fault,
      category: ticket.category,
      severity: ticket.severity,
      raisedAt: ticket.detectedAt,
    });
  }

  readonly #seeded = new Map<string, Alarm>();

  evaluate(asset: Asset, readings: readonly Reading[], events: readonly DeviceEvent[]): AlarmTransition[] {
    const rules = this.#rulesFor(asset);
    if (rules.length === 0) return [];
    const key = assetKey(asset);
    const transitions: AlarmTransition[] = [];
    for (const item of [...events, ...readings].sort((a, b) => a.ts - b.ts)) {
      if ('metric' in item) this.#memory.note(key, item.metric, item.value, item.ts);
      for (const rule of rules) {
        const state = this.#state(asset, rule);
        const ctx = {
          latest: (metric: string) => this.#memory.latest(key, metric),
          history: (metric: string) => this.#memory.history(key, metric),
          active: state.active !== undefined,
        };
        const t = this.#step(state, judge(rule, item, ctx), item);
        if (t) transitions.push(t);
        if (rule.type === 'no_data') this.#noteAlive(state, rule, item.ts);
      }
    }
    return transitions;
  }

  /** Confirms delayed changes and silences that are due at `now`. */
  wake(now: Instant): AlarmTransition[] {
    const transitions: AlarmTransition[] = [];
    for (let next = this.#wakes.peek(); next && next.at <= now; next = this.#wakes.peek()) {
      this.#wakes.pop();
      const state = this.#states.get(next.key);
      if (!state || state.generation !== next.generation) continue;
      const t = this.#onWake(state, next.at);
      if (t) transitions.push(t);
    }
    return transitions;
  }

  nextWakeAt(): Instant | undefined {
    return this.#wakes.peek()?.at;
  }

  /** Undoes transitions whose effect could not be recorded, so a redelivered message acts again. */
  revert(transitions: readonly AlarmTransition[]): void {
    for (const t of [...transitions].reverse()) {
      const state = this.#states.get(stateKey(t.alarm.site, t.alarm.assetId, t.alarm.ruleId));
      if (!state) continue;
      if (t.type === 'raised') state.active = undefined;
      else {
        const { clearedAt: _cleared, ...active } = t.alarm;
        state.active = active;
      }
      state.pending = undefined;
    }
  }

  /** A ticket closed while its alarm was active: the next report of the fault raises a new ticket. */
  forget(site: string, assetId: string, ruleId: string): void {
    const key = stateKey(site, assetId, ruleId);
    this.#seeded.delete(key);
    const state = this.#states.get(key);
    if (state) {
      state.active = undefined;
      state.pending = undefined;
      state.changes = [];
      state.flapping = false;
    }
  }

  isActive(site: string, assetId: string, ruleId: string): boolean {
    const key = stateKey(site, assetId, ruleId);
    return this.#states.get(key)?.active !== undefined || this.#seeded.has(key);
  }

  #step(state: RuleState, judgement: Judgement, cause: Reading | DeviceEvent): AlarmTransition | undefined {
    if (!judgement) return undefined;
    const isActive = state.active !== undefined;
    if ((judgement === 'fault') === isActive) {
      // Back to the confirmed state before the delay ran out: the flip was too short to count.
      if (state.pending) this.#cancelPending(state);
      return undefined;
    }
    const delayMs = this.#delayMs(state.rule, judgement);
    if (state.pending?.to !== judgement) state.pending = { to: judgement, since: cause.ts, cause };
    const pending = state.pending;
    if (cause.ts - pending.since >= delayMs) return this.#confirm(state, pending.since, pending.cause);
    this.#schedule(state, pending.since + delayMs);
    return undefined;
  }

  #onWake(state: RuleState, at: Instant): AlarmTransition | undefined {
    const { rule, pending } = state;
    if (pending && at - pending.since >= this.#delayMs(rule, pending.to)) {
      return this.#confirm(state, pending.since, pending.cause);
    }
    if (
      rule.type === 'no_data' &&
      state.lastSeen !== undefined &&
      at - state.lastSeen >= rule.silentSeconds * 1000
    ) {
      const silence: DeviceEvent = {
        site: state.asset.site,
        assetId: state.asset.id,
        kind: 'availability',
        code: 'no_data',
        detail: { lastSeen: state.lastSeen, silentSeconds: rule.silentSeconds },
        ts: at,
      };
      // The device has been silent too long: a fault from now on, subject to the rule's timing.
      return this.#step(state, 'fault', silence);
    }
    return undefined;
  }

  #confirm(state: RuleState, at: Instant, cause: Reading | DeviceEvent): AlarmTransition {
    const { asset, rule } = state;
    state.pending = undefined;
    state.generation++;
    const flapping = this.#countChange(state, at);
    if (!state.active) {
      const alarm: Alarm = {
        site: asset.site,
        assetId: asset.id,
        ruleId: rule.id,
        fault: rule.fault,
        category: rule.category ?? asset.category,
        severity: rule.severity,
        raisedAt: at,
        cause,
        ...(flapping ? { flapping } : {}),
      };
      state.active = alarm;
      return { type: 'raised', alarm };
    }
    const cleared = { ...state.active, clearedAt: at, cause, ...(flapping ? { flapping } : {}) };
    state.active = undefined;
    return { type: 'cleared', alarm: cleared };
  }

  /** Records a confirmed change; true once the changes in the window exceed the limit. */
  #countChange(state: RuleState, at: Instant): boolean {
    const windowMs = this.#opts.flapping.windowMinutes * 60_000;
    state.changes = [...state.changes.filter((t) => at - t < windowMs), at];
    if (state.changes.length > this.#opts.flapping.maxChanges) state.flapping = true;
    return state.flapping;
  }

  #cancelPending(state: RuleState): void {
    state.pending = undefined;
    state.generation++;
    if (state.rule.type === 'no_data' && state.lastSeen !== undefined) {
      this.#schedule(state, state.lastSeen + state.rule.silentSeconds * 1000);
    }
  }

  #noteAlive(state: RuleState, rule: Extract<RuleConfig, { type: 'no_data' }>, ts: Instant): void {
    if (state.lastSeen !== undefined && ts <= state.lastSeen) return;
    state.lastSeen = ts;
    if (!state.pending) {
      state.generation++;
      this.#schedule(state, ts + rule.silentSeconds * 1000);
    }
  }

  #delayMs(rule: RuleConfig, to: 'fault' | 'normal'): number {
    const seconds = to === 'fault' ? Math.max(rule.forSeconds, rule.debounceSeconds) : rule.debounceSeconds;
    return seconds * 1000;
  }

  #schedule(state: RuleState, at: Instant): void {
    this.#wakes.push({
      at,
      key: stateKey(state.asset.site, state.asset.id, state.rule.id),
      generation: state.generation,
    });
  }

  #state(asset: Asset, rule: RuleConfig): RuleState {
    const key = stateKey(asset.site, asset.id, rule.id);
    let state = this.#states.get(key);
    if (!state) {
      const seeded = this.#seeded.get(key);
      this.#seeded.delete(key);
      state = {
        asset,
        rule,
        changes: [],
        flapping: false,
        generation: 0,
        ...(seeded ? { active: seeded } : {}),
      };
      this.#states.set(key, state);
    }
    return state;
  }

  /** The kind's rules with this asset's overrides applied; disabled ones left out. Cached. */
  #rulesFor(asset: Asset): RuleConfig[] {
    const key = assetKey(asset);
    let rules = this.#resolved.get(key);
    if (!rules) {
      rules = (this.#rulesByKind.get(asset.kind) ?? []).flatMap((rule) =>
        applyOverride(rule, asset.rules?.[rule.id]),
      );
      this.#resolved.set(key, rules);
    }
    return rules;
  }
}

function applyOverride(rule: RuleConfig, override: RuleOverride | undefined): RuleConfig[] {
  if (!override) return [rule];
  if (override.disabled) return [];
  const { disabled: _disabled, ...changes } = override;
  return [{ ...rule, ...changes } as RuleConfig];
}
