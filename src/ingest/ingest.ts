import type { Adapter } from '../../adapters/index.ts';
import { approxBytes, BoundedMap } from '../core/bounded-map.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { Logger } from '../core/logger.ts';
import type { Scheduler } from '../core/scheduler.ts';
import type { Service } from '../core/service.ts';
import type { Normalised } from '../domain/types.ts';
import type { Store } from '../store/store.ts';
import type { AlarmPipeline } from './alarm-pipeline.ts';
import { Decoder, type DecoderLimits, type IncomingMessage } from './decoder.ts';

export type { IncomingMessage } from './decoder.ts';

export interface IngestStats {
  received: number;
  unrouted: number;
  empty: number;
  accepted: number;
  deadLettered: Record<string, number>;
  unconfirmedReadings: number;
  silenced: number;
  alarms: number;
  /** Rule evaluations: readings and events judged by the rule engine. */
  evaluations: number;
}

/** Messages an adapter decoded for a site, and the readings they carried. */
export interface RouteCount {
  adapter: string;
  site: string;
  messages: number;
  readings: number;
}

export interface IngestDeps {
  pipeline: AlarmPipeline;
  store: Store;
  bus: EventBus;
  scheduler: Scheduler;
  log: Logger;
  limits: DecoderLimits;
  isSite(site: string): boolean;
}

const PAYLOAD_HEAD_BYTES = 512;
/** Per-device memory of the adapters (Sparkplug sessions and alias maps), bounded both ways. */
const ADAPTER_STATE_LIMITS = { maxEntries: 100_000, maxBytes: 64 * 1024 * 1024 };
/** Topics and reasons already logged once (the log line per new topic and reason). */
const LOGGED_LIMITS = { maxEntries: 10_000, maxBytes: 4 * 1024 * 1024 };

/**
 * The path from a device message to recorded ticket changes: the decoder, then (for what it
 * could use) telemetry and the alarm pipeline; dead letters for the rest. `accept()` resolves
 * only once every effect of the message is in the store (or the message is dead-lettered), which
 * is what lets the broker hooks withhold the QoS 1 acknowledgement until then. A message the
 * adapters cannot use is dead-lettered and acknowledged, so a poison message never blocks the
 * ones behind it; only a failure to record rejects, and then the sender must try again.
 */
export class Ingest implements Service {
  readonly name = 'ingest';
  readonly #decoder: Decoder;
  readonly #deps: IngestDeps;
  readonly #loggedDeadLetters = new BoundedMap<string, true>({
    ...LOGGED_LIMITS,
    sizeOf: (k) => 64 + k.length * 2,
  });
  readonly #adapterStates = new BoundedMap<string, unknown>({
    ...ADAPTER_STATE_LIMITS,
    sizeOf: (k, v) => 64 + k.length * 2 + approxBytes(v),
  });
  readonly #counts = {
    received: 0,
    unrouted: 0,
    empty: 0,
    accepted: 0,
    deadLettered: {} as Record<string, number>,
  };
  /**
   * Per adapter and site. Bounded by the config: a decoded message names a configured site (the
   * decoder refuses the others) and one of the registered adapters.
   */
  readonly #routes = new Map<string, RouteCount>();

  constructor(adapters: readonly Adapter[], deps: IngestDeps) {
    this.#decoder = new Decoder(adapters, deps.limits, deps.isSite);
    this.#deps = deps;
  }

  get stats(): IngestStats {
    return { ...this.#counts, ...this.#deps.pipeline.stats };
  }

  routeCounts(): RouteCount[] {
    return [...this.#routes.values()].map((r) => ({ ...r }));
  }

  async start(): Promise<void> {
    this.#deps.pipeline.start();
  }

  /** Stops the rule timers and waits for messages already being processed (graceful shutdown). */
  async stop(): Promise<void> {
    await this.#deps.pipeline.stop();
  }

  /** What to subscribe to on an external broker: every site's topics, or one site's. */
  subscriptionFilters(site?: string): string[] {
    return this.#decoder.filters(site);
  }

  async accept(msg: IncomingMessage): Promise<void> {
    this.#counts.received++;
    const receivedAt = this.#deps.scheduler.now();
    const outcome = this.#decoder.decode(msg, receivedAt, this.#adapterStates);
    if (outcome.kind === 'unrouted') this.#counts.unrouted++;
    else if (outcome.kind === 'empty') this.#counts.empty++;
    else if (outcome.kind === 'rejected')
      await this.#deadLetter(msg, outcome.site, outcome.reason, outcome.detail);
    else {
      this.#counts.accepted++;
      this.#countRoute(outcome.adapterId, outcome.site, outcome.normalised.readings.length);
      await this.record(outcome.normalised, outcome.adapterId, receivedAt);
    }
  }

  /**
   * Records normalised readings and events from any source (MQTT adapters, the OPC UA client):
   * telemetry first, then, per asset and in arrival order, rules and ticket changes. A gateway's
   * announcement goes to the bus (`gatewayPresence`, for the GatewayWatch) with the receipt time.
   */
  async record(
    normalised: Normalised,
    source: string,
    receivedAt = this.#deps.scheduler.now(),
  ): Promise<void> {
    if (normalised.readings.length > 0) this.#deps.bus.emit('readings', normalised.readings);
    this.#announce(normalised, receivedAt);
    await this.#deps.pipeline.record(normalised, source, receivedAt);
  }

  /** The message's gateway announcement, if any, for the GatewayWatch. */
  #announce({ presence }: Normalised, at: number): void {
    if (presence) this.#deps.bus.emit('gatewayPresence', { ...presence, at });
  }

  #countRoute(adapter: string, site: string, readings: number): void {
    const key = `${adapter}\u0000${site}`;
    let route = this.#routes.get(key);
    if (!route) {
      route = { adapter, site, messages: 0, readings: 0 };
      this.#routes.set(key, route);
    }
    route.messages++;
    route.readings += readings;
  }

  async #deadLetter(msg: IncomingMessage, site: string, reason: string, detail: string): Promise<void> {
    this.#counts.deadLettered[reason] = (this.#counts.deadLettered[reason] ?? 0) + 1;
    const topic = msg.topic.slice(0, 1024);
    const logKey = `${topic}\u0000${reason}`;
    if (!this.#loggedDeadLetters.has(logKey)) {
      // Once per topic and reason: a misconfigured device must not flood the log. The memory of
      // what was logged is bounded, so a flood of new topics costs at most one line each.
      this.#loggedDeadLetters.set(logKey, true);
      this.#deps.log.warn(
        { topic: topic.slice(0, 256), reason, detail: detail.slice(0, 300) },
        'payload rejected (dead letter)',
      );
    }
    await this.#deps.store.addDeadLetter({
      at: this.#deps.scheduler.now(),
      site,
      topic,
      reason,
      detail: detail.slice(0, 1000),
      payloadBytes: msg.payload.byteLength,
      payloadHead: Buffer.from(msg.payload.subarray(0, PAYLOAD_HEAD_BYTES)).toString('base64'),
    });
    this.#deps.bus.emit('deadLetter', { topic, reason, site });
  }
}
