import type { Adapter } from '../../adapters/index.ts';
import type { Directory } from '../config/directory.ts';
import type { Clock } from '../core/clock.ts';
import type { EventBus } from '../core/event-bus.ts';
import { KeyedQueue } from '../core/keyed-queue.ts';
import type { Logger } from '../core/logger.ts';
import type { RuleEngine } from '../rules/engine.ts';
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
  alarms: number;
}

export interface IngestDeps {
  directory: Directory;
  rules: RuleEngine;
  tickets: TicketService;
  store: Store;
  bus: EventBus;
  clock: Clock;
  log: Logger;
  maxPayloadBytes: number;
}

const PAYLOAD_HEAD_BYTES = 512;

/**
 * The path from an MQTT message to recorded ticket changes. `accept()` resolves only once every
 * effect of the message is in the store (or the message is dead-lettered), which is what lets the
 * broker hooks withhold the QoS 1 acknowledgement until then. It rejects when the store failed:
 * the caller must then not acknowledge, so the sender retries.
 */
export class Ingest {
  readonly #router: TopicRouter;
  readonly #queue = new KeyedQueue();
  readonly #loggedDeadLetters = new Set<string>();
  readonly #deps: IngestDeps;
  readonly stats: IngestStats = {
    received: 0,
    unrouted: 0,
    empty: 0,
    accepted: 0,
    deadLettered: {},
    alarms: 0,
  };

  constructor(adapters: readonly Adapter[], deps: IngestDeps) {
    this.#router = new TopicRouter(adapters);
    this.#deps = deps;
  }

  subscriptionFilters(): string[] {
    return this.#router.filters();
  }

  /** Whether a topic belongs to a device adapter (the broker ACL uses this to avoid extra work). */
  claims(topic: string): boolean {
    return this.#router.match(topic) !== undefined;
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
    const { route, site, deviceId } = match;
    const { directory } = this.#deps;
    if (!directory.site(site))
      return this.#deadLetter(msg, site, 'unknown_site', `site "${site}" is not configured`);
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
    const asset = directory.asset(site, deviceId);
    if (!asset) {
      return this.#deadLetter(
        msg,
        site,
        'unknown_asset',
        `device "${deviceId}" is not configured for site ${site}`,
      );
    }

    const receivedAt = this.#deps.clock.now();
    let normalised: ReturnType<typeof route.toReadings>;
    try {
      normalised = route.toReadings(parsed.data, { site, deviceId, topic: msg.topic, receivedAt });
    } catch (err) {
      return this.#deadLetter(msg, site, 'adapter_error', (err as Error).message);
    }
    this.stats.accepted++;
    if (normalised.readings.length > 0) this.#deps.bus.emit('readings', normalised.readings);

    // Per asset, strictly in arrival order: rule state and "is a ticket open?" must not interleave.
    await this.#queue.run(`${site}/${deviceId}`, async () => {
      const transitions = this.#deps.rules.evaluate(asset, normalised.readings, normalised.events);
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
    });
  }

  /** Waits for messages already being processed (graceful shutdown). */
  drain(): Promise<void> {
    return this.#queue.drain();
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
      // Once per topic and reason: a misconfigured device must not flood the log.
      if (this.#loggedDeadLetters.size < 10_000) this.#loggedDeadLetters.add(logKey);
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
