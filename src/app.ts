import path from 'node:path';
import { adapters } from '../adapters/index.ts';
import { EmbeddedBroker } from '../broker/embedded-broker.ts';
import { buildApi } from './api/build-api.ts';
import { AssetRegistry } from './assets/asset-registry.ts';
import { AuthService } from './auth/auth-service.ts';
import { Directory } from './config/directory.ts';
import type { Config } from './config/schema.ts';
import { type Clock, systemClock } from './core/clock.ts';
import { EventBus } from './core/event-bus.ts';
import { listen } from './core/listen.ts';
import type { Logger } from './core/logger.ts';
import type { Service } from './core/service.ts';
import { Ingest } from './ingest/ingest.ts';
import { MqttSource } from './ingest/mqtt-source.ts';
import { type MqttPublish, Notifier } from './notify/notifier.ts';
import { RuleEngine } from './rules/engine.ts';
import { SqliteStore } from './store/sqlite/sqlite-store.ts';
import type { Store } from './store/store.ts';
import { SlaScheduler } from './tickets/sla-scheduler.ts';
import { TicketService } from './tickets/ticket-service.ts';

export interface AppOptions {
  config: Config;
  log: Logger;
  clock?: Clock;
}

export interface RunningPorts {
  http: number;
  /** The embedded broker's port; undefined when an external broker is configured. */
  mqtt?: number;
}

/**
 * The composition root: builds every component and owns the start-up and shutdown order.
 * Start: store → tickets/rules (re-armed from the store) → SLA clocks → MQTT → HTTP.
 * Stop is the reverse, draining in-flight messages before the store closes.
 */
export class App {
  readonly config: Config;
  readonly log: Logger;
  readonly clock: Clock;
  readonly bus = new EventBus();
  readonly directory: Directory;
  readonly store: Store;
  readonly #started: Service[] = [];
  #ingest: Ingest | undefined;
  #sla: SlaScheduler | undefined;
  #broker: EmbeddedBroker | undefined;
  #notifier: Notifier | undefined;
  #startedAt = 0;
  ports: RunningPorts = { http: 0 };
  /** Set on the first start when no admin password was configured; print it once. */
  generatedAdminPassword: string | undefined;

  constructor(opts: AppOptions) {
    this.config = opts.config;
    this.log = opts.log;
    this.clock = opts.clock ?? systemClock;
    this.directory = new Directory(opts.config);
    this.store = new SqliteStore(path.join(opts.config.dataDir, 'xiaoer.db'));
  }

  async start(): Promise<void> {
    try {
      await this.#start();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async #start(): Promise<void> {
    const { config, log, clock, bus, store, directory } = this;
    this.#startedAt = clock.now();
    await store.migrate();
    this.#started.push({ name: 'store', start: async () => {}, stop: () => store.close() });

    const auth = new AuthService({ store, clock, tokenTtlHours: config.auth.tokenTtlHours });
    this.generatedAdminPassword = (await auth.ensureAdmin(config.auth.adminPassword, log)).generatedPassword;

    const tickets = new TicketService({
      store,
      directory,
      clock,
      bus,
      log: log.child({ component: 'tickets' }),
    });
    const rules = new RuleEngine(config.rules);
    for (const ticket of await store.listTickets({ open: true })) rules.seedFromTicket(ticket);

    const assets = new AssetRegistry({ directory, store, clock, log: log.child({ component: 'assets' }) });
    await assets.load();

    const ingest = new Ingest(adapters, {
      directory,
      assets,
      rules,
      tickets,
      store,
      bus,
      clock,
      log: log.child({ component: 'ingest' }),
      maxPayloadBytes: config.mqtt.maxPayloadBytes,
    });
    this.#ingest = ingest;
    this.#started.push({ name: 'ingest', start: async () => {}, stop: () => ingest.drain() });

    this.#sla = new SlaScheduler({ store, tickets, clock, bus, log: log.child({ component: 'sla' }) });
    await this.#startService(this.#sla);

    let publish: MqttPublish;
    if (config.mqtt.url) {
      const source = new MqttSource(
        {
          url: config.mqtt.url,
          clientId: config.mqtt.clientId,
          ...(config.mqtt.username ? { username: config.mqtt.username } : {}),
          ...(config.mqtt.password ? { password: config.mqtt.password } : {}),
        },
        ingest,
        log.child({ component: 'mqtt-ingest' }),
      );
      await this.#startService(source);
      publish = (topic, payload) => source.publish(topic, payload);
    } else {
      this.#broker = new EmbeddedBroker({
        directory,
        subscribers: config.mqtt.subscribers,
        host: config.mqtt.host,
        port: config.mqtt.port,
        log: log.child({ component: 'broker' }),
        onPublish: (msg) => ingest.accept(msg),
      });
      const broker = this.#broker;
      await this.#startService(broker);
      this.ports.mqtt = broker.port;
      publish = (topic, payload) => broker.publish(topic, payload, 1);
    }

    this.#notifier = new Notifier({
      config: config.notify,
      bus,
      clock,
      log: log.child({ component: 'notify' }),
      publish,
    });
    await this.#startService(this.#notifier);

    const api = await buildApi({
      tickets,
      assets,
      auth,
      store,
      directory,
      bus,
      liveClients: new Set(),
      log: log.child({ component: 'api' }),
      health: () => this.health(),
    });
    this.#started.push({ name: 'api', start: async () => {}, stop: () => api.close() });
    await api.ready();
    this.ports.http = await listen(
      api.server,
      config.http.host,
      config.http.port,
      'HTTP',
      'PORT (or http.port)',
    );
    log.info(
      {
        http: `http://${config.http.host}:${this.ports.http}`,
        mqtt: config.mqtt.url
          ? `external ${config.mqtt.url.replace(/\/\/[^@/]*@/, '//***@')}`
          : this.ports.mqtt,
        dataDir: config.dataDir,
      },
      'xiaoer started',
    );
  }

  /** Stops in reverse start order; safe to call twice and after a failed start. */
  async stop(): Promise<void> {
    while (this.#started.length > 0) {
      const service = this.#started.pop() as Service;
      try {
        await service.stop();
      } catch (err) {
        this.log.error({ err, service: service.name }, 'error while stopping');
      }
    }
  }

  async health(): Promise<Record<string, unknown>> {
    return {
      uptimeSeconds: Math.round((this.clock.now() - this.#startedAt) / 1000),
      mqtt: this.config.mqtt.url ? { mode: 'external' } : { mode: 'embedded', port: this.ports.mqtt },
      store: { driver: this.store.driver, deadLetters: await this.store.countDeadLetters() },
      ingest: this.#ingest?.stats,
      sla: { pendingDeadlines: this.#sla?.pending ?? 0 },
      notify: {
        webhooks: this.#notifier?.webhookStats() ?? [],
        mqttFailures: this.#notifier?.mqttFailures ?? 0,
      },
      telemetry: { configured: false, message: 'InfluxDB is not configured' },
    };
  }

  async #startService(service: Service): Promise<void> {
    await service.start();
    this.#started.push(service);
  }
}
