import { NonFiniteReadingError } from '../../adapters/define.ts';
import type { Adapter, Normalised } from '../../adapters/index.ts';
import type { AssetRegistry } from '../assets/asset-registry.ts';
import { inferKind } from '../assets/infer-kind.ts';
import type { Directory } from '../config/directory.ts';
import { approxBytes, BoundedMap } from '../core/bounded-map.ts';
import type { EventBus } from '../core/event-bus.ts';
import { KeyedQueue } from '../core/keyed-queue.ts';
import type { Logger } from '../core/logger.ts';
import type { Scheduler } from '../core/scheduler.ts';
import type { Service } from '../core/service.ts';
import type { Alarm, AlarmTransition, DeviceEvent, Reading } from '../domain/types.ts';
import type { RuleEngine } from '../rules/engine.ts';
import { RuleTimer } from '../rules/rule-timer.ts';
import type { Store } from '../store/store.ts';
import type { TicketService } from '../tickets/ticket-service.ts';
import { decodePayload, describeSchemaError } from './decode.ts';
import { type RouteMatch, TopicRouter } from './router.ts';

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

export interface IngestLimits {
  maxPayloadBytes: number;
  maxDeviceIdLength: number;
  maxJsonDepth: number;
  /** How far back a device may date what it reports, for alarms (SLA clocks start there). */
  maxBackdateSeconds: number;
}

export interface IngestDeps {
  directory: Directory;
  assets: AssetRegistry;
  rules: RuleEngine;
  tickets: TicketService;
  store: Store;
  bus: EventBus;
  scheduler: Scheduler;
  log: Logger;
  limits: IngestLimits;
  /** Planned work: the asset's rules are silent (its readings are still kept). */
  isSilenced?(site: string, assetId: string, at: number): boolean;
}

const PAYLOAD_HEAD_BYTES = 512;
/** Longest text value a reading may carry (a lock state, an HVAC mode): a word, not a document. */
const MAX_TEXT_VALUE = 256;
/** Per-device memory of the adapters (Sparkplug sessions and alias maps), bounded both ways. */
const ADAPTER_STATE_LIMITS = { maxEntries: 100_000, maxBytes: 64 * 1024 * 1024 };
/** Topics and reasons already logged once (the log line per new topic and reason). */
const LOGGED_LIMITS = { maxEntries: 10_000, maxBytes: 4 * 1024 * 1024 };

/** A message the adapters cannot use: why, for the dead-letter record. */
class Rejected {
  constructor(
    readonly reason: string,
    readonly detail: string,
  ) {}
}

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
  readonly #loggedDeadLetters = new BoundedMap<string, true>({
    ...LOGGED_LIMITS,
    sizeOf: (k) => 64 + k.length * 2,
  });
  readonly #adapterState = new BoundedMap<string, unknown>({
    ...ADAPTER_STATE_LIMITS,
    sizeOf: (k, v) => 64 + k.length * 2 + approxBytes(v),
  });
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
      scheduler: deps.scheduler,
      log: deps.log,
      onDue: (transitions) => this.#applyTimed(transitions),
    });
  }

  /** Arms the rules' timers (silence clocks start per site, see `watchSite`). */
  async start(): Promise<void> {
    this.#ruleTimer.start();
  }

  /**
   * Starts the silence clocks (`no_data` rules) of a site's configured assets now: at start-up
   * for a site whose gateway has been commissioned, else when it connects for the first time.
   * A device behind a gateway that never connected cannot have fallen silent.
   */
  watchSite(site: string): void {
    const assets = [...this.#deps.directory.assets()].filter((a) => a.site === site);
    this.#deps.rules.watch(assets, this.#deps.scheduler.now());
    this.#ruleTimer.poke();
  }

  /** Stops the timers and waits for messages already being processed (graceful shutdown). */
  async stop(): Promise<void> {
    await this.#ruleTimer.stop();
    await this.#queue.drain();
  }

  subscriptionFilters(): string[] {
    return this.#router.filters();
  }

  /**
   * Takes one message: a message the adapters cannot use in any way (bad bytes, a failing schema,
   * an adapter that throws, even a stack overflow on pathological nesting) is dead-lettered and
   * acknowledged, so a poison message never blocks the ones behind it. Only a failure to record
   * rejects: then the sender must try again.
   */
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
    const site = match.site;
    if (!this.#deps.directory.site(site)) {
      return this.#deadLetter(msg, site, 'unknown_site', `site "${site.slice(0, 64)}" is not configured`);
    }
    let normalised: Normalised;
    try {
      normalised = this.#decode(msg, match);
    } catch (err) {
      const detail = err instanceof Rejected ? err.detail : `could not decode: ${String(err).slice(0, 300)}`;
      return this.#deadLetter(msg, site, err instanceof Rejected ? err.reason : 'invalid_payload', detail);
    }
    this.stats.accepted++;
    await this.record(normalised, match.route.adapterId, this.#deps.scheduler.now());
  }

  /** Topic match to readings and events; throws `Rejected` (or anything) for a dead letter. */
  #decode(msg: IncomingMessage, match: RouteMatch): Normalised {
    const { route, site, deviceId, params } = match;
    const { limits } = this.#deps;
    if (msg.payload.byteLength > limits.maxPayloadBytes) {
      throw new Rejected(
        'too_large',
        `payload is ${msg.payload.byteLength} bytes; the limit (mqtt.maxPayloadBytes) is ${limits.maxPayloadBytes}`,
      );
    }
    this.#checkId(deviceId);
    const decoded = decodePayload(msg.payload, route.payload, limits.maxJsonDepth);
    if (!decoded.ok) throw new Rejected(decoded.reason, decoded.detail);
    const parsed = route.schema.safeParse(decoded.value);
    if (!parsed.success) throw new Rejected('schema', describeSchemaError(parsed.error));
    const stateKey = `${route.adapterId}\u001f${site}\u001f${route.stateKey(params)}`;
    let normalised: Normalised;
    try {
      normalised = route.toReadings(parsed.data, {
        site,
        deviceId,
        params,
        topic: msg.topic,
        receivedAt: this.#deps.scheduler.now(),
        state: this.#adapterState.get(stateKey),
      });
    } catch (err) {
      const reason = err instanceof NonFiniteReadingError ? 'invalid_value' : 'adapter_error';
      throw new Rejected(reason, String((err as Error).message ?? err).slice(0, 300));
    }
    this.#checkOutput(normalised);
    if (normalised.state !== undefined) this.#adapterState.set(stateKey, normalised.state);
    return normalised;
  }

  #checkId(id: string): void {
    const max = this.#deps.limits.maxDeviceIdLength;
    if (id.length > max) {
      throw new Rejected(
        'id_too_long',
        `device id of ${id.length} characters; the limit (ingest.maxDeviceIdLength) is ${max}: "${id.slice(0, 32)}..."`,
      );
    }
  }

  /** Every value finite and every text short, every asset id within bounds, after every conversion. */
  #checkOutput(n: Normalised): void {
    for (const r of n.readings) {
      this.#checkId(r.assetId);
      if (typeof r.value === 'number' && !Number.isFinite(r.value))
        throw new Rejected('invalid_value', `${r.metric} is ${String(r.value)}, not a finite number`);
      if (typeof r.value === 'string' && r.value.length > MAX_TEXT_VALUE)
        throw new Rejected(
          'invalid_value',
          `${r.metric} is a text of ${r.value.length} characters (at most ${MAX_TEXT_VALUE})`,
        );
    }
    for (const e of n.events) this.#checkId(e.assetId);
  }

  /**
   * Records normalised readings and events from any source (MQTT adapters, the OPC UA client):
   * telemetry first, then, per asset and in arrival order, rules and ticket changes.
   */
  async record(
    normalised: Normalised,
    source: string,
    receivedAt = this.#deps.scheduler.now(),
  ): Promise<void> {
    if (normalised.readings.length > 0) this.#deps.bus.emit('readings', normalised.readings);
    const ruleTime = this.#ruleTime(receivedAt);
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
    for (const r of normalised.readings) group(r.site, r.assetId).readings.push(ruleTime(r));
    for (const e of normalised.events) group(e.site, e.assetId).events.push(ruleTime(e));
    const work: Promise<void>[] = [];
    for (const [k, g] of byAsset) {
      // A known asset no rule applies to (telemetry only) needs no queue and no rule step.
      const asset = this.#deps.assets.active(g.site, g.assetId);
      if (asset && !this.#deps.rules.hasRules(asset)) continue;
      work.push(this.#queue.run(k, () => this.#applyRules(g, normalised.kinds?.[g.assetId], source)));
    }
    await Promise.all(work);
  }

  /**
   * The time rules see: never later than receipt (a clock running ahead would stretch the SLA),
   * and at most `maxBackdateSeconds` earlier (a wrong clock would raise a ticket already breached).
   * Telemetry keeps the device's own time.
   */
  #ruleTime(receivedAt: number) {
    const earliest = receivedAt - this.#deps.limits.maxBackdateSeconds * 1000;
    return <T extends { ts: number }>(item: T): T =>
      item.ts > receivedAt
        ? { ...item, ts: receivedAt }
        : item.ts < earliest
          ? { ...item, ts: earliest }
          : item;
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
    const now = this.#deps.scheduler.now();
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
    const now = this.#deps.scheduler.now();
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

  async #deadLetter(
    msg: IncomingMessage,
    site: string | undefined,
    reason: string,
    detail: string,
  ): Promise<void> {
    this.stats.deadLettered[reason] = (this.stats.deadLettered[reason] ?? 0) + 1;
    const logKey = `${msg.topic.slice(0, 1024)}\u0000${reason}`;
    if (!this.#loggedDeadLetters.has(logKey)) {
      // Once per topic and reason: a misconfigured device must not flood the log. The memory of
      // what was logged is bounded, so a flood of new topics costs at most one line each.
      this.#loggedDeadLetters.set(logKey, true);
      this.#deps.log.warn(
        { topic: msg.topic.slice(0, 256), reason, detail: detail.slice(0, 300) },
        'payload rejected (dead letter)',
      );
    }
    const head = Buffer.from(msg.payload.subarray(0, PAYLOAD_HEAD_BYTES)).toString('base64');
    await this.#deps.store.addDeadLetter({
      at: this.#deps.scheduler.now(),
      ...(site ? { site } : {}),
      topic: msg.topic.slice(0, 1024),
      reason,
      detail: detail.slice(0, 1000),
      payloadBytes: msg.payload.byteLength,
      payloadHead: head,
    });
    this.#deps.bus.emit('deadLetter', { topic: msg.topic.slice(0, 1024), reason, ...(site ? { site } : {}) });
  }
}
