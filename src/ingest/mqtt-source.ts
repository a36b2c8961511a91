import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../core/logger.ts';
import type { Service } from '../core/service.ts';
import type { IncomingMessage } from './ingest.ts';

/** Where messages go: `Ingest` in production. */
export interface MessageSink {
  accept(msg: IncomingMessage): Promise<void>;
  subscriptionFilters(): string[];
}

export interface MqttSourceOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
}

/**
 * Ingest from an external broker (Mosquitto, EMQX). A persistent session (clean: false) and QoS 1
 * subscriptions make the broker keep messages while xiaoer is away; MQTT.js sends the PUBACK only
 * after `handleMessage` calls back, so a message is acknowledged once recorded [MQTT-4.3.2-2].
 */
export class MqttSource implements Service {
  readonly name = 'mqtt-ingest';
  readonly #opts: MqttSourceOptions;
  readonly #ingest: MessageSink;
  readonly #log: Logger;
  #client: MqttClient | undefined;

  constructor(opts: MqttSourceOptions, ingest: MessageSink, log: Logger) {
    this.#opts = opts;
    this.#ingest = ingest;
    this.#log = log;
  }

  async start(): Promise<void> {
    const client = mqtt.connect(this.#opts.url, {
      clientId: this.#opts.clientId,
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      ...(this.#opts.username ? { username: this.#opts.username } : {}),
      ...(this.#opts.password ? { password: this.#opts.password } : {}),
    });
    this.#client = client;
    client.handleMessage = (packet, done) => {
      const qos = packet.qos;
      this.#ingest.accept({ topic: packet.topic, payload: toBytes(packet.payload), qos }).then(
        () => done(),
        (err: unknown) => {
          this.#log.error({ err, topic: packet.topic }, 'message not recorded; reconnecting for redelivery');
          done(err instanceof Error ? err : new Error(String(err)));
          // Without a PUBACK the broker resends the message when the session resumes [MQTT-4.4.0-1].
          client.stream.destroy();
        },
      );
    };
    client.on('error', (err) => this.#log.error({ err: err.message }, 'MQTT client error'));
    client.on('offline', () => this.#log.warn({ url: redact(this.#opts.url) }, 'MQTT broker unreachable'));
    // Subscribing on every connect is harmless with a resumed session, and needed after a
    // broker that lost its state; start() resolves only once the first SUBACK is in, so nothing
    // published after start() can miss the subscription.
    const subscribed = new Promise<void>((resolve, reject) => {
      client.on('connect', (connack) => {
        this.#log.info(
          { url: redact(this.#opts.url), sessionPresent: connack.sessionPresent },
          'connected to MQTT broker',
        );
        const filters = Object.fromEntries(
          this.#ingest.subscriptionFilters().map((f) => [f, { qos: 1 as const }]),
        );
        client.subscribe(filters, (err) => {
          if (err) {
            this.#log.error({ err: err.message }, 'MQTT subscribe failed');
            reject(err);
          } else resolve();
        });
      });
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`cannot reach the MQTT broker at ${redact(this.#opts.url)} (mqtt.url)`)),
        15_000,
      );
    });
    try {
      await Promise.race([subscribed, timeout]);
    } catch (err) {
      await client.endAsync(true);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Outbound messages (ticket notifications) over the same connection, at QoS 1. */
  async publish(topic: string, payload: string): Promise<void> {
    if (!this.#client) throw new Error('the MQTT client is not running');
    await this.#client.publishAsync(topic, payload, { qos: 1 });
  }

  async stop(): Promise<void> {
    await this.#client?.endAsync();
    this.#client = undefined;
  }
}

function toBytes(payload: Buffer | string): Uint8Array {
  return typeof payload === 'string' ? Buffer.from(payload) : payload;
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
