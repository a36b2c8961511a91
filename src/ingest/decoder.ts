import { NonFiniteReadingError } from '../../adapters/define.ts';
import type { Adapter } from '../../adapters/index.ts';
import type { Normalised } from '../domain/types.ts';
import { decodePayload, describeSchemaError } from './decode.ts';
import { TopicRouter } from './router.ts';

export interface IncomingMessage {
  topic: string;
  payload: Uint8Array;
  qos: 0 | 1 | 2;
}

export interface DecoderLimits {
  maxPayloadBytes: number;
  maxDeviceIdLength: number;
  maxJsonDepth: number;
}

/** Where adapters keep what they remember per device between messages (Sparkplug sessions). */
export interface AdapterStates {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
}

export type DecodeOutcome =
  /** No adapter claims the topic: not xiaoer's business. */
  | { kind: 'unrouted' }
  /** An empty message clears a retained one (e.g. Zigbee2MQTT after a rename): not device input. */
  | { kind: 'empty' }
  | { kind: 'rejected'; site: string; reason: string; detail: string }
  | { kind: 'decoded'; site: string; adapterId: string; normalised: Normalised };

/** Longest text value a reading may carry (a lock state, an HVAC mode): a word, not a document. */
const MAX_TEXT_VALUE = 256;

/** Why a message cannot be used, for its dead letter. */
class Rejected {
  constructor(
    readonly reason: string,
    readonly detail: string,
  ) {}
}

/**
 * Topic and payload to readings and events, and nothing else: the router, the payload decoding,
 * the route's schema, the adapter's pure mapping, and checks on what comes out. No I/O and no
 * clock (the receipt time is given), so the ingest, the fixture tests, the simulator's pipeline
 * test and the benchmark all decode exactly alike. It never throws: whatever goes wrong inside
 * (even a stack overflow on pathological input) is a rejection with a reason.
 */
export class Decoder {
  readonly #router: TopicRouter;
  readonly #limits: DecoderLimits;
  readonly #isSite: (site: string) => boolean;

  constructor(adapters: readonly Adapter[], limits: DecoderLimits, isSite: (site: string) => boolean) {
    this.#router = new TopicRouter(adapters);
    this.#limits = limits;
    this.#isSite = isSite;
  }

  /** Subscription filters covering every route (or one site's topics), for an external broker. */
  filters(site?: string): string[] {
    return this.#router.filters(site);
  }

  decode(msg: IncomingMessage, receivedAt: number, states: AdapterStates): DecodeOutcome {
    const match = this.#router.match(msg.topic);
    if (!match) return { kind: 'unrouted' };
    if (msg.payload.byteLength === 0) return { kind: 'empty' };
    const { route, site, deviceId, params } = match;
    if (!this.#isSite(site)) {
      return {
        kind: 'rejected',
        site,
        reason: 'unknown_site',
        detail: `site "${site.slice(0, 64)}" is not configured`,
      };
    }
    try {
      if (msg.payload.byteLength > this.#limits.maxPayloadBytes) {
        throw new Rejected(
          'too_large',
          `payload is ${msg.payload.byteLength} bytes; the limit (mqtt.maxPayloadBytes) is ${this.#limits.maxPayloadBytes}`,
        );
      }
      this.#checkId(deviceId);
      const decoded = decodePayload(msg.payload, route.payload, this.#limits.maxJsonDepth);
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
          receivedAt,
          state: states.get(stateKey),
        });
      } catch (err) {
        const reason = err instanceof NonFiniteReadingError ? 'invalid_value' : 'adapter_error';
        throw new Rejected(reason, String((err as Error).message ?? err).slice(0, 300));
      }
      this.#checkOutput(normalised);
      if (normalised.state !== undefined) states.set(stateKey, normalised.state);
      return { kind: 'decoded', site, adapterId: route.adapterId, normalised };
    } catch (err) {
      if (err instanceof Rejected) return { kind: 'rejected', site, reason: err.reason, detail: err.detail };
      return {
        kind: 'rejected',
        site,
        reason: 'invalid_payload',
        detail: `could not decode: ${String(err).slice(0, 300)}`,
      };
    }
  }

  #checkId(id: string): void {
    const max = this.#limits.maxDeviceIdLength;
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
}
