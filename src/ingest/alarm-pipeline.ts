import type { AssetRegistry } from '../assets/asset-registry.ts';
import { inferKind } from '../assets/infer-kind.ts';
import type { Directory } from '../config/directory.ts';
import type { EventBus } from '../core/event-bus.ts';
import { KeyedQueue } from '../core/keyed-queue.ts';
import type { Logger } from '../core/logger.ts';
import type { Scheduler } from '../core/scheduler.ts';
import type { Alarm, AlarmTransition, DeviceEvent, Normalised, Reading, Ticket } from '../domain/types.ts';
import type { EventLog } from '../events/event-log.ts';
import type { RuleEngine } from '../rules/engine.ts';
import { RuleTimer } from '../rules/rule-timer.ts';
import type { TicketService } from '../tickets/ticket-service.ts';

export interface AlarmPipelineDeps {
  directory: Directory;
  assets: AssetRegistry;
  rules: RuleEngine;
  tickets: TicketService;
  eventLog: EventLog;
  bus: EventBus;
  scheduler: Scheduler;
  log: Logger;
  /** How far back a device may date what it reports, for alarms (SLA clocks start there). */
  maxBackdateSeconds: number;
  /** Planned work: the asset's rules are silent (its readings are still kept). */
  isSilenced(site: string, assetId: string, at: number): boolean;
}

export interface AlarmStats {
  unconfirmedReadings: number;
  silenced: number;
  alarms: number;
  /** Readings and events judged by the rules. */
  evaluations: number;
}

type AssetGroup = { site: string; assetId: string; readings: Reading[]; events: DeviceEvent[] };

/**
 * What happens to decoded readings and events: per asset and in arrival order (a queue per asset,
 * so two messages of one asset never interleave), the rules, then the hold-back for planned work,
 * then the tickets. Timed rule changes (duration, silence) take the same queues. It listens on
 * the bus for what concerns it: a maintenance window over, an asset confirmed, a gateway
 * commissioned, and, in the event log, a ticket closed while its alarm was on.
 */
export class AlarmPipeline {
  readonly #deps: AlarmPipelineDeps;
  readonly #queue = new KeyedQueue();
  readonly #ruleTimer: RuleTimer;
  /** Alarms raised during planned work, not yet ticketed. */
  readonly #held = new Map<string, Alarm>();
  readonly #unsubscribe: (() => void)[] = [];
  /** Sites whose silence clocks run (their gateway has connected at least once). */
  readonly #watched = new Set<string>();
  readonly stats: AlarmStats = { unconfirmedReadings: 0, silenced: 0, alarms: 0, evaluations: 0 };

  constructor(deps: AlarmPipelineDeps) {
    this.#deps = deps;
    this.#ruleTimer = new RuleTimer({
      engine: deps.rules,
      scheduler: deps.scheduler,
      log: deps.log,
      onDue: (transitions) => this.#applyTimed(transitions),
    });
  }

  start(): void {
    const { bus, eventLog, rules } = this.#deps;
    this.#unsubscribe.push(
      bus.on('maintenanceOver', (w) => {
        this.releaseHeld(w.site, w.assetId).catch((err: unknown) =>
          this.#deps.log.error(
            { err, windowId: w.id },
            'could not raise the alarms held during planned work',
          ),
        );
      }),
      bus.on('assetConfirmed', (site, id) => rules.invalidate(site, id)),
      bus.on('gatewayCommissioned', (site) => this.watchSite(site)),
      // An admin changed the rules: judge by the new set from the next message on, and act on
      // what judging the open alarms again by it changed (in each asset's queue, like messages).
      bus.on('rulesChanged', (ruleSet) => {
        const now = this.#deps.scheduler.now();
        const transitions = rules.replace(ruleSet, now);
        // A silence rule new to an asset counts from now where the site's clocks already run.
        for (const site of this.#watched) rules.watch(this.#siteAssets(site), now);
        this.#ruleTimer.poke();
        this.#applyTimed(transitions).catch((err: unknown) =>
          this.#deps.log.error({ err }, 'could not record the alarms a rule change cleared'),
        );
      }),
      // A ticket closed while its alarm was on: the next report of the fault raises a new ticket.
      eventLog.onAppend(({ ticket, event }) => {
        if (event.type === 'closed') rules.forget(ticket.site, ticket.assetId, ticket.ruleId);
      }),
    );
    this.#ruleTimer.start();
  }

  async stop(): Promise<void> {
    for (const off of this.#unsubscribe.splice(0)) off();
    await this.#ruleTimer.stop();
    await this.#queue.drain();
  }

  /**
   * Starts the silence clocks (`no_data` rules) of a site's configured assets now: at start-up
   * for a site whose gateway has been commissioned, else when it connects for the first time.
   * A device behind a gateway that never connected cannot have fallen silent.
   */
  watchSite(site: string): void {
    this.#watched.add(site);
    this.#deps.rules.watch(this.#siteAssets(site), this.#deps.scheduler.now());
    this.#ruleTimer.poke();
  }

  /**
   * This instance consumes the site from now on (a cluster's partition, src/cluster): what it knew
   * of the site is dropped, the alarms behind the site's open tickets (read from the store just
   * before) are active again, and its silence clocks start now, as at a start.
   */
  ownSite(site: string, openTickets: readonly Ticket[]): void {
    const { rules } = this.#deps;
    rules.dropSite(site);
    for (const ticket of openTickets) if (ticket.site === site) rules.seedFromTicket(ticket);
    this.watchSite(site);
  }

  /** Another instance consumes the site now: its rule state and held alarms are no longer this one's. */
  releaseSite(site: string): void {
    this.#watched.delete(site);
    for (const [key, alarm] of this.#held) if (alarm.site === site) this.#held.delete(key);
    this.#deps.rules.dropSite(site);
  }

  #siteAssets(site: string) {
    return [...this.#deps.directory.assets()].filter((a) => a.site === site);
  }

  /** Readings and events of one message (or one OPC UA batch), received at `receivedAt`. */
  async record(normalised: Normalised, source: string, receivedAt: number): Promise<void> {
    const ruleTime = this.#ruleTime(receivedAt);
    const { readings, events } = normalised;
    const first = readings[0] ?? events[0];
    if (!first) return;
    // Most messages are one device's: no grouping to do.
    if (ofOneAsset(readings, first) && ofOneAsset(events, first)) {
      const g = {
        site: first.site,
        assetId: first.assetId,
        readings: readings.map(ruleTime),
        events: events.map(ruleTime),
      };
      await this.#enqueue(g, normalised.kinds?.[g.assetId], source);
      return;
    }
    const byAsset = new Map<string, AssetGroup>();
    const group = (site: string, assetId: string) => {
      const k = `${site}/${assetId}`;
      let g = byAsset.get(k);
      if (!g) {
        g = { site, assetId, readings: [], events: [] };
        byAsset.set(k, g);
      }
      return g;
    };
    for (const r of readings) group(r.site, r.assetId).readings.push(ruleTime(r));
    for (const e of events) group(e.site, e.assetId).events.push(ruleTime(e));
    await Promise.all(
      [...byAsset.values()].map((g) => this.#enqueue(g, normalised.kinds?.[g.assetId], source)),
    );
  }

  /** Rules for one asset's part of a message, in the asset's queue; none for an asset no rule applies to. */
  #enqueue(g: AssetGroup, kindHint: string | undefined, source: string): Promise<void> | undefined {
    // A known asset no rule applies to (telemetry only) needs no queue and no rule step.
    const asset = this.#deps.assets.active(g.site, g.assetId);
    if (asset && !this.#deps.rules.hasRules(asset)) return undefined;
    return this.#queue.run(`${g.site}/${g.assetId}`, () => this.#applyRules(g, kindHint, source));
  }

  /**
   * The time rules see: never later than receipt (a clock running ahead would stretch the SLA),
   * and at most `maxBackdateSeconds` earlier (a wrong clock would raise a ticket already breached).
   * Telemetry keeps the device's own time.
   */
  #ruleTime(receivedAt: number) {
    const earliest = receivedAt - this.#deps.maxBackdateSeconds * 1000;
    return <T extends { ts: number }>(item: T): T =>
      item.ts > receivedAt
        ? { ...item, ts: receivedAt }
        : item.ts < earliest
          ? { ...item, ts: earliest }
          : item;
  }

  async #applyRules(g: AssetGroup, kindHint: string | undefined, source: string): Promise<void> {
    const { assets, rules } = this.#deps;
    const asset = assets.active(g.site, g.assetId);
    if (!asset) {
      // Unknown or unconfirmed: the readings are kept (telemetry), rules wait for an admin.
      this.stats.unconfirmedReadings += g.readings.length + g.events.length;
      await assets.discover(g.site, g.assetId, kindHint ?? inferKind(g.readings, g.events), source);
      return;
    }
    const transitions = rules.evaluate(asset, g.readings, g.events);
    this.stats.evaluations += g.readings.length + g.events.length;
    this.#ruleTimer.poke();
    await this.#recordTransitions(this.#holdBackSilenced(transitions));
  }

  /**
   * Planned work: rules still run (so clearings and silence clocks stay right), but alarms raised
   * on a silenced asset are held back instead of raising tickets. When the window ends, those
   * still active are raised then (`releaseHeld`), dated from the window's end.
   */
  #holdBackSilenced(transitions: readonly AlarmTransition[]): AlarmTransition[] {
    const now = this.#deps.scheduler.now();
    return transitions.filter((t) => {
      const key = `${t.alarm.site}\u001f${t.alarm.assetId}\u001f${t.alarm.ruleId}`;
      if (t.type === 'cleared' && this.#held.delete(key)) return false;
      if (t.type === 'raised' && this.#deps.isSilenced(t.alarm.site, t.alarm.assetId, now)) {
        this.#held.set(key, t.alarm);
        this.stats.silenced++;
        return false;
      }
      return true;
    });
  }

  /** A maintenance window ended: faults that outlasted the planned work become tickets now. */
  async releaseHeld(site: string, assetId?: string): Promise<void> {
    const now = this.#deps.scheduler.now();
    const due: AlarmTransition[] = [];
    for (const [key, alarm] of this.#held) {
      if (alarm.site !== site || (assetId !== undefined && alarm.assetId !== assetId)) continue;
      if (this.#deps.isSilenced(alarm.site, alarm.assetId, now)) continue;
      this.#held.delete(key);
      if (this.#deps.rules.isActive(alarm.site, alarm.assetId, alarm.ruleId)) {
        due.push({ type: 'raised', alarm: { ...alarm, raisedAt: now } });
      }
    }
    await this.#applyTimed(due, false);
  }

  /** Ticket changes for alarms, in order; on failure the rest is reverted so a retry acts again. */
  async #recordTransitions(transitions: readonly AlarmTransition[]): Promise<void> {
    let recorded = 0;
    try {
      for (const t of transitions) {
        this.#deps.bus.emit('alarm', t);
        await this.#deps.tickets.applyAlarm(t);
        recorded++;
      }
    } catch (err) {
      this.#deps.rules.revert(transitions.slice(recorded));
      throw err;
    }
    this.stats.alarms += transitions.length;
  }

  /** Alarms confirmed by a timer (duration, debounce, silence), in each asset's queue like messages. */
  async #applyTimed(transitions: AlarmTransition[], holdBack = true): Promise<void> {
    const byAsset = new Map<string, AlarmTransition[]>();
    for (const t of holdBack ? this.#holdBackSilenced(transitions) : transitions) {
      const k = `${t.alarm.site}/${t.alarm.assetId}`;
      byAsset.set(k, [...(byAsset.get(k) ?? []), t]);
    }
    await Promise.all([...byAsset].map(([k, ts]) => this.#queue.run(k, () => this.#recordTransitions(ts))));
  }
}

function ofOneAsset(
  items: readonly { site: string; assetId: string }[],
  first: { site: string; assetId: string },
) {
  for (const item of items) if (item.assetId !== first.assetId || item.site !== first.site) return false;
  return true;
}
