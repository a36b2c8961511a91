import type { Asset } from '../config/directory.ts';
import { MinHeap } from '../core/min-heap.ts';
import type { Alarm, AlarmTransition, DeviceEvent, Instant, Reading, Ticket } from '../domain/types.ts';
import { AssetMemory } from './asset-memory.ts';
import type { RuleConfig } from './config.ts';
import { type JudgeContext, type Judgement, judge, limitOf, meaningOf, remembered } from './rule-kinds.ts';
import { RuleSet } from './rule-set.ts';

interface Pending {
  to: 'fault' | 'normal';
  since: Instant;
  cause: Reading | DeviceEvent;
}

interface RuleState {
  asset: Asset;
  rule: RuleConfig;
  active?: Alarm;
  /** The condition turned bad (or good) at `since`; it must hold for the rule's delay to count. */
  pending?: Pending;
  /** Last sign of life, for `no_data` rules, and the silence wake-up already in the heap. */
  lastSeen?: Instant;
  silenceWakeAt?: Instant;
  /** Confirmed state changes inside the flapping window. */
  changes: Instant[];
  flapping: boolean;
  /** The last reading the rule judged, to judge an active alarm again when the rule changes. */
  last?: Reading;
}

/** What a confirmed change replaced, so that `revert()` can put it back exactly. */
type Snapshot = Pick<RuleState, 'active' | 'pending' | 'changes' | 'flapping'>;

interface Wake {
  at: Instant;
  key: string;
  kind: 'pending' | 'silence';
}

export interface EngineOptions {
  flapping: { maxChanges: number; windowMinutes: number };
}

const stateKey = (site: string, assetId: string, ruleId: string) => `${site}\u001f${assetId}\u001f${ruleId}`;
const assetKey = (site: string, assetId: string) => `${site}\u001f${assetId}`;

/**
 * Per-asset alarm state for every configured rule. Pure apart from that state: no I/O, and time
 * only from the readings' timestamps and the `now` given to `wake()`. Duration, debounce and
 * silence use one heap of wake-up times (at most one pending and one silence entry per asset and
 * rule); the caller arms a single timer for `nextWakeAt()`.
 */
export class RuleEngine {
  #ruleSet: RuleSet;
  #rulesByKind = new Map<string, RuleConfig[]>();
  readonly #resolved = new Map<string, RuleConfig[]>();
  readonly #states = new Map<string, RuleState>();
  /** The same states per asset, in the order of its rules, for one lookup per message. */
  readonly #byAsset = new Map<string, (RuleState | undefined)[]>();
  readonly #seeded = new Map<string, Alarm>();
  /** Per asset key, how many entries of `#seeded` it has: asking about an asset with none builds no string. */
  readonly #seededAssets = new Map<string, number>();
  readonly #snapshots = new WeakMap<AlarmTransition, Snapshot>();
  readonly #wakes = new MinHeap<Wake>((a, b) => a.at < b.at);
  readonly #memory = new AssetMemory();
  readonly #assetKeys = new WeakMap<Asset, string>();
  readonly #opts: EngineOptions;
  /**
   * The judge's view of the asset being evaluated: one object for the engine's life, re-pointed
   * per message (`#ctxKey`), because building closures per message costs on the ingest's hot path
   * and even more in a replay of millions of readings.
   */
  #ctxKey = '';
  readonly #ctx: JudgeContext = {
    latest: (metric) => this.#memory.latest(this.#ctxKey, metric),
    history: (metric) => this.#memory.history(this.#ctxKey, metric),
    active: false,
  };

  constructor(
    rules: readonly RuleConfig[] | RuleSet,
    opts: EngineOptions = { flapping: { maxChanges: 6, windowMinutes: 30 } },
  ) {
    this.#opts = opts;
    this.#ruleSet = rules instanceof RuleSet ? rules : new RuleSet(rules);
    this.#index();
  }

  get ruleSet(): RuleSet {
    return this.#ruleSet;
  }

  #index(): void {
    const rules = this.#ruleSet.rules;
    this.#rulesByKind = new Map();
    for (const rule of rules) {
      for (const kind of rule.kinds)
        this.#rulesByKind.set(kind, [...(this.#rulesByKind.get(kind) ?? []), rule]);
    }
    // Overrides change limits and timings, never a metric or a rate window: the rules say what to keep.
    const needs = rules.map(remembered);
    this.#memory.configure(
      needs.flatMap((n) => n.latest),
      needs.flatMap((n) =>
        n.historySeconds ? [[n.historySeconds[0], n.historySeconds[1] * 1000] as [string, number]] : [],
      ),
    );
  }

  /**
   * Takes a new rule set at once (an admin's change at runtime). Each rule's state stays with the
   * asset (an active alarm stays active, its flapping history too) and is judged again by the new
   * rule on the last reading it saw: an alarm the new limits no longer call a fault clears, after
   * the rule's debounce as usual. An alarm whose rule was removed or switched off for the asset
   * clears now. A change still waiting out its delay restarts if the new rule sees it otherwise.
   */
  replace(ruleSet: RuleSet, now: Instant): AlarmTransition[] {
    this.#ruleSet = ruleSet;
    this.#index();
    this.#resolved.clear();
    this.#byAsset.clear();
    const transitions: AlarmTransition[] = [];
    for (const [key, state] of this.#states) {
      const rule = this.#rulesFor(state.asset).find((r) => r.id === state.rule.id);
      if (!rule) {
        this.#states.delete(key);
        if (state.active) {
          transitions.push({ type: 'cleared', alarm: { ...state.active, clearedAt: now, cause: undefined } });
        }
        continue;
      }
      state.rule = rule;
      if (state.rule.type === 'no_data' && state.silenceWakeAt !== undefined) {
        // The silence allowed may have changed: arm again from the last sign of life.
        state.silenceWakeAt = undefined;
        this.#armSilence(state);
      }
      const t = this.#rejudge(state, now);
      if (t) transitions.push(t);
    }
    return transitions;
  }

  #rejudge(state: RuleState, now: Instant): AlarmTransition | undefined {
    const { last, pending } = state;
    this.#ctxKey = assetKey(state.asset.site, state.asset.id);
    this.#ctx.active = state.active !== undefined;
    if (pending) {
      state.pending = undefined;
      const still = judge(state.rule, pending.cause, this.#ctx) === pending.to;
      if (still) {
        state.pending = pending;
        const dueAt = pending.since + this.#delayMs(state.rule, pending.to);
        if (dueAt <= now) return this.#confirm(state, pending);
        this.#schedule(state, 'pending', dueAt);
      }
      return undefined;
    }
    if (!state.active || !last) return undefined;
    const judgement = judge(state.rule, last, this.#ctx);
    return judgement === 'normal' ? this.#step(state, judgement, { ...last, ts: now }) : undefined;
  }

  /** Starts the silence clocks of assets never heard from since start-up. */
  watch(assets: Iterable<Asset>, now: Instant): void {
    for (const asset of assets) {
      for (const rule of this.#rulesFor(asset)) {
        if (rule.type !== 'no_data') continue;
        const state = this.#state(asset, rule);
        state.lastSeen ??= now;
        this.#armSilence(state);
      }
    }
  }

  /** After a restart, alarms behind open tickets are active again, so that a normal value clears them. */
  seedFromTicket(ticket: Ticket): void {
    if (!ticket.alarmActive || ticket.status === 'closed') return;
    const key = stateKey(ticket.site, ticket.assetId, ticket.ruleId);
    if (!this.#seeded.has(key)) this.#countSeeded(assetKey(ticket.site, ticket.assetId), 1);
    this.#seeded.set(key, {
      site: ticket.site,
      assetId: ticket.assetId,
      ruleId: ticket.ruleId,
      fault: ticket.fault,
      meaning: ticket.meaning,
      category: ticket.category,
      severity: ticket.severity,
      raisedAt: ticket.detectedAt,
    });
  }

  /** Whether any rule applies to the asset at all (most telemetry-only devices have none). */
  hasRules(asset: Asset): boolean {
    return this.#rulesFor(asset).length > 0;
  }

  evaluate(asset: Asset, readings: readonly Reading[], events: readonly DeviceEvent[]): AlarmTransition[] {
    const rules = this.#rulesFor(asset);
    if (rules.length === 0) return [];
    const key = this.#keyOf(asset);
    let states = this.#byAsset.get(key);
    if (!states) {
      states = new Array(rules.length);
      this.#byAsset.set(key, states);
    }
    this.#ctxKey = key;
    const ctx = this.#ctx;
    const transitions: AlarmTransition[] = [];
    for (const item of inOrder(readings, events)) {
      if ('metric' in item) this.#memory.note(key, item.metric, item.value, item.ts);
      for (let i = 0; i < rules.length; i++) {
        const rule = rules[i] as RuleConfig;
        let state = states[i];
        ctx.active = state?.active !== undefined;
        const judgement = judge(rule, item, ctx);
        if (!judgement) continue;
        if (!state) {
          // Normal and never anything else: no state needed (most readings of most assets).
          if (judgement === 'normal' && rule.type !== 'no_data' && !this.#isSeeded(asset, rule)) continue;
          state = this.#state(asset, rule);
          states[i] = state;
        }
        if ('metric' in item) state.last = item;
        const t = this.#step(state, judgement, item);
        if (t) transitions.push(t);
        if (rule.type === 'no_data' && judgement === 'normal') this.#noteAlive(state, item.ts);
      }
    }
    return transitions;
  }

  /** Built once per asset object: a fresh key string per message was most of evaluate()'s cost. */
  #keyOf(asset: Asset): string {
    let key = this.#assetKeys.get(asset);
    if (key === undefined) {
      key = assetKey(asset.site, asset.id);
      this.#assetKeys.set(asset, key);
    }
    return key;
  }

  #isSeeded(asset: Asset, rule: RuleConfig): boolean {
    return (
      this.#seededAssets.size > 0 &&
      this.#seededAssets.has(this.#keyOf(asset)) &&
      this.#seeded.has(stateKey(asset.site, asset.id, rule.id))
    );
  }

  #unseed(key: string, site: string, assetId: string): Alarm | undefined {
    const seeded = this.#seeded.get(key);
    if (seeded && this.#seeded.delete(key)) this.#countSeeded(assetKey(site, assetId), -1);
    return seeded;
  }

  #countSeeded(asset: string, delta: number): void {
    const n = (this.#seededAssets.get(asset) ?? 0) + delta;
    if (n > 0) this.#seededAssets.set(asset, n);
    else this.#seededAssets.delete(asset);
  }

  /** Confirms delayed changes and silences that are due at `now`. */
  wake(now: Instant): AlarmTransition[] {
    const transitions: AlarmTransition[] = [];
    for (let next = this.#wakes.peek(); next && next.at <= now; next = this.#wakes.peek()) {
      this.#wakes.pop();
      const state = this.#states.get(next.key);
      if (!state) continue;
      const t = next.kind === 'pending' ? this.#pendingDue(state, next.at) : this.#silenceDue(state, next.at);
      if (t) transitions.push(t);
    }
    return transitions;
  }

  nextWakeAt(): Instant | undefined {
    return this.#wakes.peek()?.at;
  }

  /**
   * Undoes transitions whose effect could not be recorded (the store failed), restoring exactly the
   * state before them and re-arming their wake-ups, so that a retry or a redelivery acts again.
   */
  revert(transitions: readonly AlarmTransition[]): void {
    for (const t of [...transitions].reverse()) {
      const state = this.#states.get(stateKey(t.alarm.site, t.alarm.assetId, t.alarm.ruleId));
      const before = this.#snapshots.get(t);
      if (!state || !before) continue;
      Object.assign(state, before);
      if (state.pending)
        this.#schedule(state, 'pending', state.pending.since + this.#delayMs(state.rule, state.pending.to));
      this.#armSilence(state);
    }
  }

  /** A ticket closed while its alarm was active: the next report of the fault raises a new ticket. */
  forget(site: string, assetId: string, ruleId: string): void {
    const key = stateKey(site, assetId, ruleId);
    this.#unseed(key, site, assetId);
    const state = this.#states.get(key);
    if (state) Object.assign(state, { active: undefined, pending: undefined, changes: [], flapping: false });
  }

  /**
   * Forgets a site's assets: rule states, alarms seeded from tickets and remembered readings.
   * Another instance consumes the site now (src/cluster); their wake-ups left in the heap find no
   * state and are skipped, or, if the site comes back, no longer match the new state's.
   */
  dropSite(site: string): void {
    const prefix = `${site}\u001f`;
    for (const map of [this.#states, this.#byAsset, this.#seeded, this.#seededAssets, this.#resolved])
      for (const key of [...map.keys()]) if (key.startsWith(prefix)) map.delete(key);
    this.#memory.forget(prefix);
  }

  /** An asset's rules changed (confirmed with another kind): resolve them afresh. */
  invalidate(site: string, assetId: string): void {
    this.#resolved.delete(assetKey(site, assetId));
    this.#byAsset.delete(assetKey(site, assetId));
    for (const key of [...this.#states.keys()])
      if (key.startsWith(`${assetKey(site, assetId)}\u001f`)) this.#states.delete(key);
  }

  isActive(site: string, assetId: string, ruleId: string): boolean {
    const key = stateKey(site, assetId, ruleId);
    return this.#states.get(key)?.active !== undefined || this.#seeded.has(key);
  }

  #step(state: RuleState, judgement: Judgement, cause: Reading | DeviceEvent): AlarmTransition | undefined {
    if (!judgement) return undefined;
    if ((judgement === 'fault') === (state.active !== undefined)) {
      // Back to the confirmed state before the delay ran out: the flip was too short to count.
      state.pending = undefined;
      return undefined;
    }
    const delayMs = this.#delayMs(state.rule, judgement);
    if (state.pending?.to !== judgement) {
      state.pending = { to: judgement, since: cause.ts, cause };
      if (delayMs > 0) this.#schedule(state, 'pending', cause.ts + delayMs);
    }
    const pending = state.pending;
    return cause.ts - pending.since >= delayMs ? this.#confirm(state, pending) : undefined;
  }

  #pendingDue(state: RuleState, at: Instant): AlarmTransition | undefined {
    const { pending } = state;
    if (!pending || at - pending.since < this.#delayMs(state.rule, pending.to)) return undefined;
    return this.#confirm(state, pending);
  }

  #silenceDue(state: RuleState, at: Instant): AlarmTransition | undefined {
    if (state.silenceWakeAt !== at) return undefined;
    state.silenceWakeAt = undefined;
    const { rule, lastSeen } = state;
    if (rule.type !== 'no_data' || lastSeen === undefined) return undefined;
    const due = lastSeen + rule.silentSeconds * 1000;
    if (at < due) {
      // Heard from since this wake-up was armed: wait for the new deadline.
      this.#armSilence(state);
      return undefined;
    }
    const silence: DeviceEvent = {
      site: state.asset.site,
      assetId: state.asset.id,
      kind: 'availability',
      code: 'no_data',
      detail: { lastSeen, silentSeconds: rule.silentSeconds },
      ts: due,
    };
    // Silent too long: a fault from its deadline on, subject to the rule's timing.
    return this.#step(state, 'fault', silence);
  }

  #confirm(state: RuleState, pending: Pending): AlarmTransition {
    const { asset, rule } = state;
    const before: Snapshot = {
      active: state.active,
      pending: state.pending,
      changes: state.changes,
      flapping: state.flapping,
    };
    state.pending = undefined;
    const windowMs = this.#opts.flapping.windowMinutes * 60_000;
    state.changes = [...state.changes.filter((t) => pending.since - t < windowMs), pending.since];
    state.flapping = state.changes.length > this.#opts.flapping.maxChanges;
    const flapping = state.flapping ? { flapping: true } : {};
    let transition: AlarmTransition;
    if (!state.active) {
      const alarm: Alarm = {
        site: asset.site,
        assetId: asset.id,
        ruleId: rule.id,
        fault: rule.fault,
        meaning: meaningOf(rule),
        category: rule.category ?? asset.category,
        severity: rule.severity,
        raisedAt: pending.since,
        cause: pending.cause,
        ...flapping,
      };
      const limit = limitOf(rule);
      if (limit) alarm.limit = limit;
      state.active = alarm;
      transition = { type: 'raised', alarm };
    } else {
      transition = {
        type: 'cleared',
        alarm: { ...state.active, clearedAt: pending.since, cause: pending.cause, ...flapping },
      };
      state.active = undefined;
      // Silent again from now on counts anew.
      this.#armSilence(state);
    }
    this.#snapshots.set(transition, before);
    return transition;
  }

  #noteAlive(state: RuleState, ts: Instant): void {
    if (state.lastSeen !== undefined && ts <= state.lastSeen) return;
    state.lastSeen = ts;
    this.#armSilence(state);
  }

  /** Keeps one silence wake-up per state: an early one re-checks `lastSeen` and re-arms. */
  #armSilence(state: RuleState): void {
    if (state.rule.type !== 'no_data' || state.lastSeen === undefined || state.silenceWakeAt !== undefined)
      return;
    state.silenceWakeAt = state.lastSeen + state.rule.silentSeconds * 1000;
    this.#schedule(state, 'silence', state.silenceWakeAt);
  }

  #delayMs(rule: RuleConfig, to: 'fault' | 'normal'): number {
    const seconds = to === 'fault' ? Math.max(rule.forSeconds, rule.debounceSeconds) : rule.debounceSeconds;
    return seconds * 1000;
  }

  #schedule(state: RuleState, kind: Wake['kind'], at: Instant): void {
    this.#wakes.push({ at, key: stateKey(state.asset.site, state.asset.id, state.rule.id), kind });
  }

  #state(asset: Asset, rule: RuleConfig): RuleState {
    const key = stateKey(asset.site, asset.id, rule.id);
    let state = this.#states.get(key);
    if (!state) {
      const seeded = this.#unseed(key, asset.site, asset.id);
      state = { asset, rule, changes: [], flapping: false, ...(seeded ? { active: seeded } : {}) };
      this.#states.set(key, state);
    }
    return state;
  }

  /**
   * The kind's rules with this asset's overrides applied; disabled ones left out. Assets without
   * overrides share their kind's list (no copy per asset: there may be 100,000 of them).
   */
  #rulesFor(asset: Asset): RuleConfig[] {
    const forKind = this.#rulesByKind.get(asset.kind) ?? NO_RULES;
    if (forKind.length === 0 || !this.#ruleSet.touches(asset)) return forKind;
    const key = assetKey(asset.site, asset.id);
    let rules = this.#resolved.get(key);
    if (!rules) {
      rules = forKind.flatMap((rule) => this.#ruleSet.resolve(rule, asset) ?? []);
      this.#resolved.set(key, rules);
    }
    return rules;
  }
}

const NO_RULES: RuleConfig[] = [];

/** Readings and events in time order; a single message's readings usually need no sort. */
function inOrder(
  readings: readonly Reading[],
  events: readonly DeviceEvent[],
): readonly (Reading | DeviceEvent)[] {
  if (events.length === 0 && readings.every((r) => r.ts === readings[0]?.ts)) return readings;
  return [...events, ...readings].sort((a, b) => a.ts - b.ts);
}
