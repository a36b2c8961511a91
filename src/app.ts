import { hostname } from 'node:os';
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
import { ClusterCoordinator, partitionOf, type Role } from './cluster/coordinator.ts';
import { ALL_CHANGES, LogFollower } from './cluster/log-follower.ts';
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
import { openStore } from './store/open-store.ts';
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
  /** OPC UA polling: one source for every endpoint, or in a cluster one per partition held. */
  #opcua: OpcUaSource[] = [];
  #telemetry: TelemetryWriter | undefined;
  #ticketSeries: TicketSeries | undefined;
  #gateways: GatewayWatch | undefined;
  #pipeline: AlarmPipeline | undefined;
  #broker: EmbeddedBroker | undefined;
  #cluster: ClusterCoordinator | undefined;
  /** The external broker's ingest connections (one per partition held, in a cluster). */
  #sources: MqttSource[] = [];
  #publisher: MqttSource | undefined;
  #follower: LogFollower | undefined;
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
    const { database } = opts.config;
    this.store = openStore(opts.config, { groupCommit: true, log: this.log.child({ component: 'store' }) });
    // On PostgreSQL other instances write the log too: entries are announced as read from it.
    this.eventLog = new EventLog({
      store: this.store,
      bus: this.bus,
      shared: database.url !== undefined,
      onListenerError: (err) => this.log.error({ err }, 'ticket log listener failed'),
    });
  }

  /** Several instances share the store (PostgreSQL): one leader, partitions of sites, a shared log. */
  get clustered(): boolean {
    return this.config.database.url !== undefined;
  }

  /** This instance's name among the others. */
  get instanceId(): string {
    return this.config.cluster.instanceId ?? `${hostname()}-${process.pid}`;
  }

  async start(): Promise<void> {
    try {
      this.#startedAt = this.clock.now();
      await this.store.migrate();
      this.#track('store', () => this.store.close());
      const core = await this.#buildCore();
      if (this.clustered) await this.#startLogFollower(core);
      await this.#startService(core.shifts);
      await this.#startTelemetry(core.assets);
      await this.#startService(core.maintenance);
      await this.#startService(core.ingest);
      if (this.clustered) await this.#startCluster(core);
      else {
        await this.#startMqtt(core);
        await this.#startLeaderRole(core, (topic, payload) => this.#publish(topic, payload));
      }
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
      ...(this.clustered ? { cluster: this.#cluster?.stats() ?? null } : {}),
      mqtt: this.config.mqtt.url
        ? { mode: 'external', sessions: this.#sources.map((s) => s.stats()) }
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
      opcua: this.#opcua.flatMap((o) => o.stats()),
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
    // In a cluster each site's alarms are seeded when its partition is taken (#partitionRole).
    if (!this.#partitioned)
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

  /**
   * What exactly one instance does: the notifications (webhooks, robots, MQTT-out, the Influx
   * ticket series), OPC UA polling and the SLA scheduler. Alone, this instance; in a cluster, the
   * leader, for as long as it holds the lock. Stopped services are built anew at the next term.
   */
  async #startLeaderRole(core: Core, publish: MqttPublish): Promise<Service[]> {
    const started: Service[] = [];
    const run = async (service: Service) => {
      await this.#startService(service);
      started.push(service);
    };
    try {
      await this.#startNotifier(core, run);
      const out = this.#notifier?.mqttOut(publish);
      if (out) await run(out);
      if (this.#telemetry && this.config.influx && this.config.metrics.influxTickets) {
        this.#ticketSeries = new TicketSeries({
          ...this.#deps('ticket-series'),
          influx: this.config.influx,
          openTicketsEverySeconds: this.config.metrics.openTicketsEverySeconds,
          eventLog: this.eventLog,
          directory: this.directory,
        });
        await run(this.#ticketSeries);
      }
      // In a partitioned cluster an endpoint is polled by whoever consumes its site (#partitionRole).
      if (!this.#partitioned) await this.#startOpcUa(this.#opcUaSource(core.ingest), run);
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
      await run(this.#sla);
      return started;
    } catch (err) {
      // Half a leader must not go on beside the next one: what started stops again.
      for (const service of started.reverse()) await this.#stopService(service).catch(() => {});
      this.#opcua = this.#opcua.filter((o) => !started.includes(o));
      throw err;
    }
  }

  /** Whether sites are split between instances (PostgreSQL and an external broker). */
  get #partitioned(): boolean {
    return (
      this.clustered && this.config.mqtt.url !== undefined && this.config.cluster.ingest === 'partitions'
    );
  }

  /**
   * The shared log, and what other instances change that this one keeps in memory: the rules in
   * force, the open shifts, the planned-work windows and the confirmed assets are read again when
   * told (CHANGES_CHANNEL).
   */
  async #startLogFollower(core: Core): Promise<void> {
    const log = this.log.child({ component: 'log-follower' });
    const refresh: Readonly<Record<ChangeTopic, () => Promise<void>>> = {
      rules: () => core.ruleVersions.refresh(),
      shifts: () => core.shifts.refresh(),
      maintenance: () => core.maintenance.refresh(),
      assets: () => core.assets.refresh(),
    };
    this.#follower = new LogFollower({
      url: this.config.database.url as string,
      instanceId: this.instanceId,
      eventLog: this.eventLog,
      pollMs: 1000,
      onChange: (topic) => {
        const topics = topic === ALL_CHANGES ? Object.keys(refresh) : [topic];
        for (const t of topics) {
          if (!Object.hasOwn(refresh, t)) continue;
          refresh[t as ChangeTopic]().catch((err: unknown) =>
            log.error({ err, topic: t }, 'could not read again what another instance changed'),
          );
        }
      },
      log,
    });
    await this.#startService(this.#follower);
  }

  /**
   * Cluster roles: the leader's services, and per site partition an MQTT session of its own. With
   * the embedded broker (one instance per set of gateways) or shared subscriptions, the ingest
   * runs here as without a cluster, and only the leader role is taken.
   */
  async #startCluster(core: Core): Promise<void> {
    const { mqtt, cluster } = this.config;
    const log = this.log.child({ component: 'cluster' });
    if (!mqtt.url)
      log.warn(
        'PostgreSQL with the embedded broker: run one instance only (each would watch only the gateways connected to it); several instances need an external broker (mqtt.url)',
      );
    if (!this.#partitioned) await this.#startMqtt(core);
    else {
      await this.#startGatewayWatch(core, 'owned');
      await this.#startPublisher();
    }
    let leaderServices: Service[] = [];
    const leader: Role = {
      acquire: async () => {
        leaderServices = await this.#startLeaderRole(core, (topic, payload) => this.#publish(topic, payload));
      },
      release: async () => {
        for (const service of leaderServices.reverse()) await this.#stopService(service);
        this.#opcua = this.#opcua.filter((o) => !leaderServices.includes(o));
        leaderServices = [];
        this.#sla = undefined;
        this.#ticketSeries = undefined;
        this.#notifier = undefined;
      },
    };
    const bySite = new Map<number, string[]>();
    if (this.#partitioned)
      for (const site of this.directory.sites) {
        const n = partitionOf(site.id, cluster.partitions);
        bySite.set(n, [...(bySite.get(n) ?? []), site.id]);
      }
    this.#cluster = new ClusterCoordinator({
      url: this.config.database.url as string,
      instanceId: this.instanceId,
      partitions: [...bySite.keys()].sort((a, b) => a - b),
      checkMs: cluster.checkSeconds * 1000,
      leaseMs: cluster.leaseSeconds * 1000,
      leader,
      partition: (n) => this.#partitionRole(n, bySite.get(n) ?? [], core, mqtt.clientId),
      log,
    });
    await this.#startService(this.#cluster);
  }

  /** One partition's sites: their alarms seeded from the store, then their MQTT session resumed. */
  #partitionRole(n: number, sites: readonly string[], core: Core, clientId: string): Role {
    let source: MqttSource | undefined;
    let opcua: OpcUaSource | undefined;
    return {
      acquire: async () => {
        for (const site of sites) {
          // Seeded right after its own read: a close announced meanwhile must not be undone.
          this.#pipeline?.ownSite(site, await this.store.listTickets({ open: true, site }));
          await this.#gateways?.ownSite(site);
        }
        source = this.#mqttSource(`${clientId}-p${n}`, `mqtt-ingest-p${n}`, core.ingest, () =>
          sites.flatMap((site) => core.ingest.subscriptionFilters(site)),
        );
        await source.start();
        this.#sources.push(source);
        opcua = this.#opcUaSource(core.ingest, sites);
        await this.#startOpcUa(opcua, (service) => this.#startService(service));
      },
      release: async (lost) => {
        await this.#stopOpcUa(opcua);
        opcua = undefined;
        if (source) {
          this.#sources = this.#sources.filter((s) => s !== source);
          await (lost ? source.abort() : source.stop());
        }
        for (const site of sites) {
          this.#gateways?.releaseSite(site);
          this.#pipeline?.releaseSite(site);
        }
      },
    };
  }

  /** An external broker's connection of this instance's own, for MQTT-out (partitions have theirs). */
  async #startPublisher(): Promise<void> {
    const source = this.#mqttSource(
      `${this.config.mqtt.clientId}-${this.instanceId}`,
      'mqtt-publisher',
      { accept: async () => {} },
      () => [],
    );
    await this.#startService(source);
    this.#publisher = source;
  }

  #mqttSource(
    clientId: string,
    name: string,
    sink: { accept: Ingest['accept'] },
    filters: () => readonly string[],
    shareGroup?: string,
  ): MqttSource {
    const { mqtt } = this.config;
    return new MqttSource(
      {
        url: mqtt.url as string,
        clientId,
        name,
        filters,
        sessionExpirySeconds: mqtt.sessionExpirySeconds,
        inFlight: mqtt.inFlight,
        ...(shareGroup ? { shareGroup } : {}),
        ...(mqtt.username ? { username: mqtt.username } : {}),
        ...(mqtt.password ? { password: mqtt.password } : {}),
      },
      sink,
      this.log.child({ component: name }),
    );
  }

  /** MQTT-out's way out: the embedded broker, or this instance's connection to the external one. */
  async #publish(topic: string, payload: string): Promise<void> {
    if (this.#broker) return this.#broker.publish(topic, payload, 1);
    if (!this.#publisher) throw new Error('MQTT is not connected yet');
    return this.#publisher.publish(topic, payload);
  }

  async #stopService(service: Service): Promise<void> {
    const i = this.#started.lastIndexOf(service);
    if (i >= 0) this.#started.splice(i, 1);
    await service.stop();
  }

  async #startNotifier(core: Core, run: (service: Service) => Promise<void>): Promise<void> {
    this.#notifier = new Notifier({
      ...this.#deps('notify'),
      eventLog: this.eventLog,
      config: this.config.notify,
      presenter: core.presenter,
      ...(this.config.http.publicUrl ? { publicUrl: this.config.http.publicUrl } : {}),
      hints: async (category, fault) => (await core.knowledge.hintsFor(category, fault))[0]?.hint,
    });
    await run(this.#notifier);
  }

  async #startMqtt(core: Core): Promise<void> {
    const { mqtt, cluster } = this.config;
    const { ingest } = core;
    // Started before any message source, so that retained announcements count.
    await this.#startGatewayWatch(core, 'all');
    if (mqtt.url) {
      // Shared subscriptions: each instance its own session in the share group (its id is
      // required then, so that the session outlives a restart: src/config/cross-checks.ts).
      const shared = this.clustered && cluster.ingest === 'shared';
      const source = this.#mqttSource(
        shared ? `${mqtt.clientId}-${this.instanceId}` : mqtt.clientId,
        'mqtt-ingest',
        ingest,
        () => ingest.subscriptionFilters(),
        shared ? cluster.shareGroup : undefined,
      );
      await this.#startService(source);
      this.#sources.push(source);
      this.#publisher = source;
      // Not every gateway announces itself: every site's silence clocks start now. With shared
      // subscriptions another instance may hear an asset: only the assets heard here count.
      if (!shared) for (const site of this.directory.sites) this.#pipeline?.watchSite(site.id);
      return;
    }
    const gateways = this.#gateways as GatewayWatch;
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
  }

  /**
   * Gateway outages: from the embedded broker's connections, or from what gateways announce
   * (bridge state, last will) on an external one; `owned`: only the sites of partitions held.
   */
  async #startGatewayWatch(core: Core, sites: 'all' | 'owned'): Promise<void> {
    const gateways = new GatewayWatch({
      ...this.#deps('gateways'),
      directory: this.directory,
      tickets: core.tickets,
      graceSeconds: this.config.tickets.correlation.gatewayGraceSeconds,
      brokerConnections: !this.config.mqtt.url,
      sites,
    });
    await this.#startService(gateways);
    this.#gateways = gateways;
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
  /** Polls the OPC UA endpoints of `sites` (all by default); their readings go through the ingest. */
  #opcUaSource(ingest: Ingest, sites?: readonly string[]): OpcUaSource | undefined {
    const { opcua } = this.config;
    const endpoints = opcua.endpoints.filter((e) => sites === undefined || sites.includes(e.site));
    if (endpoints.length === 0) return undefined;
    return new OpcUaSource({
      endpoints,
      reconnect: opcua.reconnect,
      keepAliveIntervalMs: opcua.keepAliveIntervalMs,
      connectTimeoutMs: opcua.connectTimeoutMs,
      record: (normalised, source) => ingest.record(normalised, source),
      scheduler: this.scheduler,
      log: this.log.child({ component: 'opcua' }),
      pkiDir: path.join(this.config.dataDir, 'pki', 'opcua-client'),
    });
  }

  /** Started in the background: an unreachable server never blocks (it is retried). */
  async #startOpcUa(
    source: OpcUaSource | undefined,
    run: (service: Service) => Promise<void>,
  ): Promise<void> {
    if (!source) return;
    this.#opcua.push(source);
    await run(source);
  }

  async #stopOpcUa(source: OpcUaSource | undefined): Promise<void> {
    if (!source) return;
    this.#opcua = this.#opcua.filter((o) => o !== source);
    await this.#stopService(source);
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
    const follower = this.#follower;
    if (follower) {
      // A change made through this instance's API is told to the others (and to this one).
      api.addHook('onResponse', async (req, reply) => {
        const topic = changeTopicOf(req.method, req.routeOptions.url, reply.statusCode);
        if (topic)
          await follower
            .announceChange(topic)
            .catch((err: unknown) =>
              this.log.error({ err, topic }, 'could not tell the other instances of a change'),
            );
      });
    }
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

type ChangeTopic = 'rules' | 'shifts' | 'maintenance' | 'assets';

/** What a successful API request changed that every instance keeps in memory, if anything. */
export function changeTopicOf(
  method: string,
  route: string | undefined,
  status: number,
): ChangeTopic | undefined {
  if (method === 'GET' || method === 'HEAD' || status >= 400 || !route) return undefined;
  if (route.startsWith('/api/rules')) return 'rules';
  if (route.startsWith('/api/maintenance')) return 'maintenance';
  if (route.startsWith('/api/shifts') || route.startsWith('/api/scan')) return 'shifts';
  if (route.startsWith('/api/assets')) return 'assets';
  return undefined;
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
