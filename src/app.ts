import path from 'node:path';
import { adapters } from '../adapters/index.ts';
import { EmbeddedBroker } from '../broker/embedded-broker.ts';
import { buildApi } from './api/build-api.ts';
import { LiveClients } from './api/routes/live.ts';
import { gatewayWarning } from './api/routes/sites.ts';
import { AssetRegistry } from './assets/asset-registry.ts';
import { AuthService } from './auth/auth-service.ts';
import { QrSigner } from './auth/qr-signer.ts';
import { CallbackService } from './callbacks/callback-service.ts';
import { Directory } from './config/directory.ts';
import type { Config } from './config/schema.ts';
import type { Clock } from './core/clock.ts';
import { EventBus } from './core/event-bus.ts';
import { listen } from './core/listen.ts';
import type { Logger } from './core/logger.ts';
import { type Scheduler, systemScheduler } from './core/scheduler.ts';
import type { Service } from './core/service.ts';
import { EventLog } from './events/event-log.ts';
import { AlarmPipeline } from './ingest/alarm-pipeline.ts';
import { Ingest } from './ingest/ingest.ts';
import { MqttSource } from './ingest/mqtt-source.ts';
import { KnowledgeBase } from './knowledge/knowledge-base.ts';
import { MaintenanceService } from './maintenance/maintenance-service.ts';
import { MetricsServer } from './metrics/metrics-server.ts';
import { PrometheusMetrics } from './metrics/prometheus.ts';
import { TicketSeries } from './metrics/ticket-series.ts';
import { type MqttPublish, Notifier } from './notify/notifier.ts';
import { OpcUaSource } from './opcua/opcua-source.ts';
import { ReportSource, satisfactionFromCallbacks } from './reports/report-source.ts';
import { RuleEngine } from './rules/engine.ts';
import { ShiftService } from './shifts/shift-service.ts';
import { SqliteStore } from './store/sqlite/sqlite-store.ts';
import type { Store } from './store/store.ts';
import { TelemetryWriter } from './telemetry/influx-writer.ts';
import { GatewayWatch } from './tickets/gateway-watch.ts';
import { SlaScheduler } from './tickets/sla-scheduler.ts';
import { TicketPresenter } from './tickets/ticket-dto.ts';
import { TicketService } from './tickets/ticket-service.ts';
import { RulePreview } from './tuning/preview.ts';
import { RuleVersions } from './tuning/rule-versions.ts';

export interface AppOptions {
  config: Config;
  log: Logger;
  /** Time and timers; the system's by default, a manual one in tests. */
  scheduler?: Scheduler;
}

export interface RunningPorts {
  http: number;
  /** The embedded broker's port; undefined when an external broker is configured. */
  mqtt?: number;
  /** The Prometheus listener's port; undefined without `metrics.port`. */
  metrics?: number;
}

/** The parts built once at start, before any socket opens. */
interface Core {
  auth: AuthService;
  tickets: TicketService;
  assets: AssetRegistry;
  maintenance: MaintenanceService;
  ingest: Ingest;
  presenter: TicketPresenter;
  ruleVersions: RuleVersions;
  shifts: ShiftService;
  knowledge: KnowledgeBase;
  qr: QrSigner;
}

/**
 * The composition root: builds every component and owns the start-up and shutdown order.
 * Start: store → tickets, rules, assets (re-armed from the store) → shifts → notifications → telemetry →
 * maintenance windows → ingest → MQTT → OPC UA → SLA clocks → HTTP, and only then (on the very
 * first start) the admin user, so that its generated password is never printed by a start that
 * failed afterwards. Stop is the reverse: HTTP,
 * SLA clocks, then the message sources (no new messages), then the ingest drains what is in
 * flight while telemetry, notifications and the store are still there.
 */
export class App {
  readonly config: Config;
  readonly log: Logger;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly bus: EventBus;
  readonly directory: Directory;
  readonly store: Store;
  readonly eventLog: EventLog;
  readonly #started: Service[] = [];
  #ingest: Ingest | undefined;
  #sla: SlaScheduler | undefined;
  #notifier: Notifier | undefined;
  #opcua: OpcUaSource | undefined;
  #telemetry: TelemetryWriter | undefined;
  #ticketSeries: TicketSeries | undefined;
  #gateways: GatewayWatch | undefined;
  #pipeline: AlarmPipeline | undefined;
  #broker: EmbeddedBroker | undefined;
  #startedAt = 0;
  ports: RunningPorts = { http: 0 };
  /** Set on the first start when no admin password was configured; print it once. */
  generatedAdminPassword: string | undefined;

  constructor(opts: AppOptions) {
    this.config = opts.config;
    this.log = opts.log;
    this.scheduler = opts.scheduler ?? systemScheduler;
    this.clock = this.scheduler;
    this.bus = new EventBus((event, err) => this.log.error({ err, event }, 'event listener failed'));
    this.directory = new Directory(opts.config);
    this.store = new SqliteStore(path.join(opts.config.dataDir, 'xiaoer.db'), {
      synchronous: opts.config.store.synchronous,
      groupCommit: true,
    });
    this.eventLog = new EventLog({ store: this.store, bus: this.bus });
  }

  async start(): Promise<void> {
    try {
      this.#startedAt = this.clock.now();
      await this.store.migrate();
      this.#track('store', () => this.store.close());
      const core = await this.#buildCore();
      await this.#startService(core.shifts);
      await this.#startNotifier(core);
      await this.#startTelemetry(core.assets);
      await this.#startService(core.maintenance);
      await this.#startService(core.ingest);
      await this.#startMqtt(core);
      await this.#startOpcUa(core.ingest);
      // Deadlines missed while down fire as soon as this starts: by now notifications can go out.
      this.#sla = new SlaScheduler({
        ...this.#deps('sla'),
        eventLog: this.eventLog,
        tickets: core.tickets,
        directory: this.directory,
        ...(this.config.shifts.escalateWhenUnstaffed
          ? { staffed: (site: string) => core.shifts.staffed(site) }
          : {}),
      });
      await this.#startService(this.#sla);
      await this.#startApi(core);
      await this.#startMetrics();
      this.generatedAdminPassword = (
        await core.auth.ensureAdmin(this.config.auth.adminPassword, this.log)
      ).generatedPassword;
      this.log.info(
        {
          http: `http://${this.config.http.host}:${this.ports.http}`,
          mqtt: this.config.mqtt.url ? `external ${redactUrl(this.config.mqtt.url)}` : this.ports.mqtt,
          dataDir: this.config.dataDir,
        },
        'xiaoer started',
      );
    } catch (err) {
      await this.stop();
      throw err;
    }
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
    const gateways = this.#gateways?.statuses() ?? [];
    return {
      uptimeSeconds: Math.round((this.clock.now() - this.#startedAt) / 1000),
      warnings: gateways.filter((g) => g.state === 'not_commissioned').map((g) => gatewayWarning(g.username)),
      mqtt: this.config.mqtt.url
        ? { mode: 'external' }
        : {
            mode: 'embedded',
            port: this.ports.mqtt,
            refused: this.#broker?.refusals,
            flow: this.#broker?.flow,
          },
      gateways: gateways.map((g) => ({
        site: g.site,
        username: g.username,
        state: g.state,
        lastConnectedAt: g.lastConnectedAt === undefined ? null : new Date(g.lastConnectedAt).toISOString(),
      })),
      store: { driver: this.store.driver, deadLetters: await this.store.countDeadLetters() },
      ingest: this.#ingest?.stats,
      sla: { pendingDeadlines: this.#sla?.pending ?? 0 },
      notify: {
        ...(this.#notifier?.stats() ?? { webhooks: [], mqttOut: null }),
      },
      opcua: this.#opcua?.stats() ?? [],
      telemetry: this.#telemetry?.stats() ?? {
        configured: false,
        message: 'InfluxDB is not configured (set influx.url): no telemetry history is kept',
      },
      ticketSeries: this.#ticketSeries?.stats() ?? null,
    };
  }

  async #buildCore(): Promise<Core> {
    const { config, store, directory } = this;
    const auth = new AuthService({ store, clock: this.clock, tokenTtlHours: config.auth.tokenTtlHours });
    const tickets = new TicketService({ ...this.#deps('tickets'), directory, config: config.tickets });
    const assets = new AssetRegistry({ ...this.#deps('assets'), directory });
    await assets.load();
    // The rules in force: the YAML reconciled with the versions admins made at runtime.
    const ruleVersions = new RuleVersions({
      ...this.#deps('rules'),
      config,
      assets: () => assets.activeAssets(),
    });
    const rules = new RuleEngine(await ruleVersions.load(), { flapping: config.flapping });
    for (const ticket of await store.listTickets({ open: true })) rules.seedFromTicket(ticket);
    const maintenance = new MaintenanceService({
      ...this.#deps('maintenance'),
      tickets,
      directory,
      limits: config.maintenance,
    });
    const pipeline = new AlarmPipeline({
      ...this.#deps('rules'),
      directory,
      assets,
      rules,
      tickets,
      eventLog: this.eventLog,
      maxBackdateSeconds: config.ingest.maxBackdateSeconds,
      isSilenced: (site, assetId, at) => maintenance.isSilenced(site, assetId, at),
    });
    const ingest = new Ingest(adapters, {
      ...this.#deps('ingest'),
      pipeline,
      limits: { maxPayloadBytes: config.mqtt.maxPayloadBytes, ...config.ingest },
      isSite: (site) => directory.site(site) !== undefined,
    });
    this.#ingest = ingest;
    this.#pipeline = pipeline;
    const presenter = new TicketPresenter({ directory, clock: this.clock, assets });
    const shifts = new ShiftService({ ...this.#deps('shifts'), directory, maxHours: config.shifts.maxHours });
    const knowledge = new KnowledgeBase({ ...this.#deps('knowledge'), directory });
    await knowledge.addDefaultsOnce();
    const qr = await QrSigner.fromStore(store);
    return { auth, tickets, assets, maintenance, ingest, presenter, ruleVersions, shifts, knowledge, qr };
  }

  async #startNotifier(core: Core): Promise<void> {
    this.#notifier = new Notifier({
      ...this.#deps('notify'),
      eventLog: this.eventLog,
      config: this.config.notify,
      presenter: core.presenter,
      ...(this.config.http.publicUrl ? { publicUrl: this.config.http.publicUrl } : {}),
      hints: async (category, fault) => (await core.knowledge.hintsFor(category, fault))[0]?.hint,
    });
    await this.#startService(this.#notifier);
  }

  /**
   * The outbound MQTT topic reads the event log once MQTT is up, and stops before it. Changes
   * made while MQTT is down (the ingest draining at shutdown) go out at the next start.
   */
  async #startMqttOut(publish: MqttPublish): Promise<void> {
    const out = this.#notifier?.mqttOut(publish);
    if (out) await this.#startService(out);
  }

  async #startMqtt(core: Core): Promise<void> {
    const { mqtt } = this.config;
    const { ingest } = core;
    if (mqtt.url) {
      const source = new MqttSource(
        {
          url: mqtt.url,
          clientId: mqtt.clientId,
          ...(mqtt.username ? { username: mqtt.username } : {}),
          ...(mqtt.password ? { password: mqtt.password } : {}),
        },
        ingest,
        this.log.child({ component: 'mqtt-ingest' }),
      );
      await this.#startService(source);
      await this.#startMqttOut((topic, payload) => source.publish(topic, payload));
      // An external broker's gateways are not watched: every site's silence clocks start now.
      for (const site of this.directory.sites) this.#pipeline?.watchSite(site.id);
      return;
    }
    // Only the embedded broker sees gateways come and go.
    const gateways = new GatewayWatch({
      ...this.#deps('gateways'),
      directory: this.directory,
      tickets: core.tickets,
      graceSeconds: this.config.tickets.correlation.gatewayGraceSeconds,
    });
    await this.#startService(gateways);
    this.#gateways = gateways;
    // Sites whose gateway connected before; the others start when it does (gatewayCommissioned).
    for (const site of this.directory.sites)
      if (gateways.isCommissioned(site.id)) this.#pipeline?.watchSite(site.id);
    const broker = new EmbeddedBroker({
      directory: this.directory,
      subscribers: mqtt.subscribers,
      host: mqtt.host,
      port: mqtt.port,
      maxPacketBytes: mqtt.maxPacketBytes,
      limits: mqtt,
      clock: this.clock,
      log: this.log.child({ component: 'broker' }),
      onPublish: (msg) => ingest.accept(msg),
      onGateway: (site, username, change) =>
        change === 'connected' ? gateways.connected(site, username) : gateways.disconnected(site, username),
      telemetryBehind: () => this.#telemetry?.behind() ?? false,
    });
    await this.#startService(broker);
    this.#broker = broker;
    this.ports.mqtt = broker.port;
    await this.#startMqttOut((topic, payload) => broker.publish(topic, payload, 1));
  }

  /** Started before any message source and stopped after the ingest drained, so no reading is missed. */
  async #startTelemetry(assets: AssetRegistry): Promise<void> {
    if (!this.config.influx) return;
    this.#telemetry = new TelemetryWriter({
      ...this.#deps('telemetry'),
      config: this.config.influx,
      dataDir: this.config.dataDir,
      assetKind: (site, assetId) => assets.kindOf(site, assetId),
    });
    await this.#startService(this.#telemetry);
    if (!this.config.metrics.influxTickets) return;
    this.#ticketSeries = new TicketSeries({
      ...this.#deps('ticket-series'),
      influx: this.config.influx,
      openTicketsEverySeconds: this.config.metrics.openTicketsEverySeconds,
      eventLog: this.eventLog,
      directory: this.directory,
    });
    await this.#startService(this.#ticketSeries);
  }

  /** Last to start, first to stop: a scrape never sees a half-built service. */
  async #startMetrics(): Promise<void> {
    const { port, host } = this.config.metrics;
    if (port === undefined) return;
    const metrics = new PrometheusMetrics({
      eventLog: this.eventLog,
      sources: {
        ingest: () => this.#ingest && { stats: this.#ingest.stats, routes: this.#ingest.routeCounts() },
        telemetry: () => this.#telemetry?.stats(),
        flow: () => this.#broker?.flow,
        consumers: () => {
          const notify = this.#notifier?.stats();
          return [
            ...(notify?.webhooks ?? []),
            ...(notify?.mqttOut ? [notify.mqttOut] : []),
            ...(this.#ticketSeries ? [this.#ticketSeries.stats()] : []),
          ];
        },
        openTickets: () => this.store.listTickets({ open: true }),
        sites: () => this.directory.sites.map((s) => s.id),
        categories: () => this.directory.categoryIds(),
      },
    });
    const server = new MetricsServer({ metrics, host, port, log: this.log.child({ component: 'metrics' }) });
    await this.#startService(server);
    this.ports.metrics = server.port;
  }

  /** OPC UA endpoints never block start-up: an unreachable server is retried in the background. */
  async #startOpcUa(ingest: Ingest): Promise<void> {
    const { opcua } = this.config;
    if (opcua.endpoints.length === 0) return;
    this.#opcua = new OpcUaSource({
      endpoints: opcua.endpoints,
      reconnect: opcua.reconnect,
      keepAliveIntervalMs: opcua.keepAliveIntervalMs,
      connectTimeoutMs: opcua.connectTimeoutMs,
      record: (normalised, source) => ingest.record(normalised, source),
      scheduler: this.scheduler,
      log: this.log.child({ component: 'opcua' }),
      pkiDir: path.join(this.config.dataDir, 'pki', 'opcua-client'),
    });
    await this.#startService(this.#opcua);
  }

  async #startApi(core: Core): Promise<void> {
    const api = await buildApi({
      tickets: core.tickets,
      assets: core.assets,
      maintenance: core.maintenance,
      auth: core.auth,
      store: this.store,
      directory: this.directory,
      presenter: core.presenter,
      ruleVersions: core.ruleVersions,
      rulePreview: new RulePreview({
        config: this.config,
        clock: this.clock,
        versions: core.ruleVersions,
        assets: () => core.assets.activeAssets(),
      }),
      eventLog: this.eventLog,
      shifts: core.shifts,
      knowledge: core.knowledge,
      callbacks: new CallbackService({ ...this.#deps('callbacks'), config: this.config.callbacks }),
      reports: new ReportSource({
        store: this.store,
        directory: this.directory,
        clock: this.clock,
        config: this.config.reports,
        satisfaction: satisfactionFromCallbacks((ids) => this.store.satisfaction(ids)),
      }),
      sla: this.config.sla,
      qr: core.qr,
      influx: this.config.influx,
      clock: this.clock,
      bus: this.bus,
      http: this.config.http,
      liveClients: new LiveClients(this.config.http.maxLiveClients, this.config.http.maxLiveClientsPerUser),
      gateways: () => this.#gateways?.statuses() ?? [],
      log: this.log.child({ component: 'api' }),
      health: () => this.health(),
    });
    this.#track('api', () => api.close());
    await api.ready();
    const { host, port } = this.config.http;
    this.ports.http = await listen(api.server, host, port, 'HTTP', 'PORT (or http.port)');
  }

  /** The dependencies every component takes, with its own child logger. */
  #deps(component: string) {
    return {
      store: this.store,
      bus: this.bus,
      clock: this.clock,
      scheduler: this.scheduler,
      log: this.log.child({ component }),
    };
  }

  #track(name: string, stop: () => Promise<unknown>): void {
    this.#started.push({ name, start: async () => {}, stop: async () => void (await stop()) });
  }

  async #startService(service: Service): Promise<void> {
    await service.start();
    this.#started.push(service);
  }
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
