import type { Adapter, Normalised } from '../../adapters/index.ts';
import type { AssetRegistry } from '../assets/asset-registry.ts';
import { inferKind } from '../assets/infer-kind.ts';
import type { Directory } from '../config/directory.ts';
import type { Clock } from '../core/clock.ts';
import type { EventBus } from '../core/event-bus.ts';
import { KeyedQueue } from '../core/keyed-queue.ts';
import type { Logger } from '../core/logger.ts';
import type { Service } from '../core/service.ts';
import type { Alarm, AlarmTransition, DeviceEvent, Reading } from '../domain/types.ts';
import type { RuleEngine } from '../rules/engine.ts';
import { RuleTimer } from '../rules/rule-timer.ts';
import type { Store } from '../store/store.ts';
import type { TicketService } from '../tickets/ticket-service.ts';
import { decodePayload, describeSchemaError } from './decode.ts';
import { TopicRouter } from './router.ts';

export interface IncomingMessage {
  topic: string;
  payload: Uint8Array;
  qos: 0 | 1 | 2;
}

export interface IngestStats {
  received: number;
  unrouted: number;
  empty: number;
  accepted: number;
  deadLettered: Record<string, number>;
  unconfirmedReadings: number;
  silenced: number;
  alarms: number;
}

export interface IngestDeps {
  directory: Directory;
  assets: AssetRegistry;
  rules: RuleEngine;
  tickets: TicketService;
  store: Store;
  bus: EventBus;
  clock: Clock;
  log: Logger;
  maxPayloadBytes: number;
  /** Planned work: the asset's rules are silent (its readings are still kept). */
  isSilenced?(site: string, assetId: string, at: number): boolean;
}

const PAYLOAD_HEAD_BYTES = 512;
const MAX_ADAPTER_STATES = 100_000;

/**
 * The path from a device message to recorded ticket changes. `accept()` resolves only once every
 * effect of the message is in the store (or the message is dead-lettered), which is what lets the
 * broker hooks withhold the QoS 1 acknowledgement until then. It rejects when the store failed:
 * the caller must then not acknowledge, so the sender retries.
 */
export class Ingest implements Service {
  readonly name = 'ingest';
  readonly #router: TopicRouter;
  readonly #ruleTimer: RuleTimer;
  readonly #queue = new KeyedQueue();
  readonly #loggedDeadLetters = new Set<string>();
  readonly #adapterState = new Map<string, unknown>();
  /** Alarms raised during planned work, not yet ticketed. */
  readonly #held = new Map<string, Alarm>();
  readonly #deps: IngestDeps;
  readonly stats: IngestStats = {
    received: 0,
    unrouted: 0,
    empty: 0,
    accepted: 0,
    deadLettered: {},
    unconfirmedReadings: 0,
    silenced: 0,
    alarms: 0,
  };

  constructor(adapters: readonly Adapter[], deps: IngestDeps) {
    this.#router = new TopicRouter(adapters);
    this.#deps = deps;
    this.#ruleTimer = new RuleTimer({
      engine: deps.rules,
      clock: deps.clock,
      log: deps.log,
      onDue: (transitions) => this.#applyTimed(transitions),
    });
  }

  /** Arms the rules' timers; configured assets start their silence clocks now. */
  async start(): Promise<void> {
    this.#deps.rules.watch(this.#deps.directory.assets(), this.#deps.clock.now());
    this.#ruleTimer.start();
  }

  /** Stops the timers and waits for messages already being processed (graceful shutdown). */
  async stop(): Promise<void> {
    await this.#ruleTimer.stop();
    await this.#queue.drain();
  }

  subscriptionFilters(): string[] {
    return this.#router.filters();
  }

  async accept(msg: IncomingMessage): Promise<void> {
    this.stats.received++;
    const match = this.#router.match(msg.topic);
    if (!match) {
      this.stats.unrouted++;
      return;
    }
    // An empty message clears a retained one (e.g. Zigbee2MQTT after a rename): not device input.
    if (msg.payload.byteLength === 0) {
      this.stats.empty++;
      return;
    }
    const { route, site, deviceId, params } = match;
    if (!this.#deps.directory.site(site)) {
      return this.#deadLetter(msg, site, 'unknown_site', `site "${site}" is not configured`);
    }
    if (msg.payload.byteLength > this.#deps.maxPayloadBytes) {
      return this.#deadLetter(
        msg,
        site,
        'too_large',
        `payload is ${msg.payload.byteLength} bytes; the limit (mqtt.maxPayloadBytes) is ${this.#deps.maxPayloadBytes}`,
      );
    }
    const decoded = decodePayload(msg.payload, route.payload);
    if (!decoded.ok) return this.#deadLetter(msg, site, decoded.reason, decoded.detail);
    const parsed = route.schema.safeParse(decoded.value);
    if (!parsed.success) return this.#deadLetter(msg, site, 'schema', describeSchemaError(parsed.error));

    const stateKey = `${route.adapterId}\u001f${site}\u001f${route.stateKey(params)}`;
    let normalised: Normalised;
    try {
      normalised = route.toReadings(parsed.data, {
        site,
        deviceId,
        params,
        topic: msg.topic,
        receivedAt: this.#deps.clock.now(),
        state: this.#adapterState.get(stateKey),
      });
    } catch (err) {
      return this.#deadLetter(msg, site, 'adapter_error', (err as Error).message);
    }
    if (normalised.state !== undefined) this.#keepState(stateKey, normalised.state);
    this.stats.accepted++;
    await this.record(normalised, route.adapterId);
  }

  /**
   * Records normalised readings and events from any source (MQTT adapters, the OPC UA client):
   * telemetry first, then, per asset and in arrival order, rules and ticket changes.
   */
  async record(normalised: Normalised, source: string): Promise<void> {
    if (normalised.readings.length > 0) this.#deps.bus.emit('readings', normalised.readings);
    const byAsset = new Map<
      string,
      { site: string; assetId: string; readings: Reading[]; events: DeviceEvent[] }
    >();
    const group = (site: string, assetId: string) => {
      const k = `${site}/${assetId}`;
      let g = byAsset.get(k);
      if (!g) {
        g = { site, assetId, readings: [], events: [] };
        byAsset.set(k, g);
      }
      return g;
    };
    for (const r of normalised.readings) group(r.site, r.assetId).readings.push(r);
    for (const e of normalised.events) group(e.site, e.assetId).events.push(e);
    const work: Promise<void>[] = [];
    for (const [k, g] of byAsset) {
      // A known asset no rule applies to (telemetry only) needs no queue and no rule step.
      const asset = this.#deps.assets.active(g.site, g.assetId);
      if (asset && !this.#deps.rules.hasRules(asset)) continue;
      work.push(this.#queue.run(k, () => this.#applyRules(g, normalised.kinds?.[g.assetId], source)));
    }
    await Promise.all(work);
  }

  async #applyRules(
    g: { site: string; assetId: string; readings: Reading[]; events: DeviceEvent[] },
    kindHint: string | undefined,
    source: string,
  ): Promise<void> {
    const { assets, rules } = this.#deps;
    const asset = assets.active(g.site, g.assetId);
    if (!asset) {
      // Unknown or unconfirmed: the readings are kept (telemetry), rules wait for an admin.
      this.stats.unconfirmedReadings += g.readings.length + g.events.length;
      await assets.discover(g.site, g.assetId, kindHint ?? inferKind(g.readings, g.events), source);
      return;
    }
    const transitions = rules.evaluate(asset, g.readings, g.events);
    this.#ruleTimer.poke();
    await this.#recordTransitions(this.#holdBackSilenced(transitions));
  }

  /**
   * Planned work: rules still run (so clearings and silence clocks stay right), but alarms raised
   * on a silenced asset are held back instead of raising tickets. When the window ends, those
   * still active are raised then (`releaseHeld`), dated from the window's end.
   */
  #holdBackSilenced(transitions: readonly AlarmTransition[]): AlarmTransition[] {
    const now = this.#deps.clock.now();
    return transitions.filter((t) => {
      const key = `${t.alarm.site}\u001f${t.alarm.assetId}\u001f${t.alarm.ruleId}`;
      if (t.type === 'cleared' && this.#held.delete(key)) return false;
      if (t.type === 'raised' && this.#deps.isSilenced?.(t.alarm.site, t.alarm.assetId, now)) {
        this.#held.set(key, t.alarm);
        this.stats.silenced++;
        return false;
      }
      return true;
    });
  }

  /** A maintenance window ended: faults that outlasted the planned work become tickets now. */
  async releaseHeld(site: string, assetId?: string): Promise<void> {
    const now = this.#deps.clock.now();
    const due: AlarmTransition[] = [];
    for (const [key, alarm] of this.#held) {
      if (alarm.site !== site || (assetId !== undefined && alarm.assetId !== assetId)) continue;
      if (this.#deps.isSilenced?.(alarm.site, alarm.assetId, now)) continue;
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

  #keepState(key: string, state: unknown): void {
    // Bounded: a flood of made-up device names must not grow memory without limit.
    if (!this.#adapterState.has(key) && this.#adapterState.size >= MAX_ADAPTER_STATES) {
      const oldest = this.#adapterState.keys().next().value;
      if (oldest !== undefined) this.#adapterState.delete(oldest);
    }
    this.#adapterState.set(key, state);
  }

  async #deadLetter(
    msg: IncomingMessage,
    site: string | undefined,
    reason: string,
    detail: string,
  ): Promise<void> {
    this.stats.deadLettered[reason] = (this.stats.deadLettered[reason] ?? 0) + 1;
    const logKey = `${msg.topic}\u0000${reason}`;
    if (!this.#loggedDeadLetters.has(logKey)) {
      // Once per topic and reason: a misconfigured device must not flood the log. The set is an
      // LRU of bounded size, so a flood of new topics costs at most one line each.
      if (this.#loggedDeadLetters.size >= 10_000) {
        const oldest = this.#loggedDeadLetters.values().next().value;
        if (oldest !== undefined) this.#loggedDeadLetters.delete(oldest);
      }
      this.#loggedDeadLetters.add(logKey);
      this.#deps.log.warn({ topic: msg.topic, reason, detail }, 'payload rejected (dead letter)');
    }
    const head = Buffer.from(msg.payload.subarray(0, PAYLOAD_HEAD_BYTES)).toString('base64');
    await this.#deps.store.addDeadLetter({
      at: this.#deps.clock.now(),
      ...(site ? { site } : {}),
      topic: msg.topic,
      reason,
      detail: detail.slice(0, 1000),
      payloadBytes: msg.payload.byteLength,
      payloadHead: head,
    });
    this.#deps.bus.emit('deadLetter', { topic: msg.topic, reason, ...(site ? { site } : {}) });
  }
}
