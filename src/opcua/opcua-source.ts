import type { DataValue, OPCUACertificateManager } from 'node-opcua';
import type { Normalised } from '../../adapters/index.ts';
import type { Logger } from '../core/logger.ts';
import type { Scheduler } from '../core/scheduler.ts';
import type { Service } from '../core/service.ts';
import type { DeviceEvent, Instant, Reading } from '../domain/types.ts';
import type { BackoffRange } from './backoff.ts';
import type { OpcUaEndpoint, OpcUaNode } from './config.ts';
import type { EndpointLink } from './endpoint-link.ts';
import { isFaultStatus, readingTime, toReadingValue } from './status.ts';

export interface OpcUaSourceDeps {
  endpoints: readonly OpcUaEndpoint[];
  /** `Ingest.record`: readings and events with site, asset and time already stamped. */
  record(normalised: Normalised, source: string): Promise<void>;
  scheduler: Scheduler;
  log: Logger;
  /** Where node-opcua keeps xiaoer's client certificate (created on first connect). Never $HOME. */
  pkiDir: string;
  reconnect?: BackoffRange;
  keepAliveIntervalMs?: number;
  connectTimeoutMs?: number;
}

/** Health figures for one endpoint (`GET /api/health`). */
export interface OpcUaEndpointStats {
  id: string;
  site: string;
  url: string;
  connected: boolean;
  lastError?: string;
  itemCount: number;
  badItems: { nodeId: string; statusCode: string }[];
  /** When the last data change arrived (receipt time). */
  lastValueAt?: Instant;
  /** Losses and failed attempts since the last successful connection. */
  failures: number;
  recordErrors: number;
}

interface EndpointState {
  endpoint: OpcUaEndpoint;
  assetIds: string[];
  link?: EndpointLink;
  /** The availability last reported for this endpoint's assets: each change is reported once. */
  announced?: 'online' | 'offline';
  lastValueAt?: Instant;
  recordErrors: number;
  pending: Normalised;
  flushScheduled: boolean;
  unusableLogged: Set<string>;
}

const DEFAULTS = {
  reconnect: { minDelayMs: 1000, maxDelayMs: 30_000 },
  keepAliveIntervalMs: 5000,
  connectTimeoutMs: 15_000,
};

/**
 * Readings from OPC UA servers (BMS / HVAC controllers), as monitored-item subscriptions.
 * Good values become readings; Bad or Uncertain ones a `sensor_fault` event; a lost server an
 * `offline` event for every asset it serves, and its return `online`. `start()` resolves at once:
 * a server that is down at start-up is retried in the background for ever.
 */
export class OpcUaSource implements Service {
  readonly name = 'opcua';
  readonly #deps: OpcUaSourceDeps;
  readonly #states: EndpointState[];
  readonly #inFlight = new Set<Promise<void>>();
  #certificateManager: OPCUACertificateManager | undefined;
  #prepared: Promise<void> | undefined;
  #stopped = false;

  constructor(deps: OpcUaSourceDeps) {
    this.#deps = deps;
    this.#states = deps.endpoints.map((endpoint) => ({
      endpoint,
      assetIds: [...new Set(endpoint.nodes.map((n) => n.assetId))],
      recordErrors: 0,
      pending: { readings: [], events: [] },
      flushScheduled: false,
      unusableLogged: new Set(),
    }));
  }

  async start(): Promise<void> {
    if (this.#states.length === 0) return;
    // Loaded here so that a deployment without OPC UA never pays for node-opcua (about 1.5 s).
    const [{ OPCUACertificateManager }, { EndpointLink }, { routeNodeOpcuaLogs }] = await Promise.all([
      import('node-opcua'),
      import('./endpoint-link.ts'),
      import('./library-log.ts'),
    ]);
    const { pkiDir, log } = this.#deps;
    routeNodeOpcuaLogs(log);
    const certificateManager = new OPCUACertificateManager({
      rootFolder: pkiDir,
      // Security mode None: the server's certificate is not used to protect anything yet.
      automaticallyAcceptUnknownCertificate: true,
      // chokidar watchers would keep handles open (and vitest from exiting) for no benefit here.
      disableFileWatchers: true,
    });
    this.#certificateManager = certificateManager;
    // The client key and certificate are created once, before any endpoint connects: clients
    // creating them at the same time on a fresh data dir fail to find the half-written key.
    this.#prepared = prepareCertificate(certificateManager)
      .catch((err: unknown) => log.warn({ err }, 'could not prepare the OPC UA client certificate'))
      .then(() => {
        if (!this.#stopped) this.#startLinks(EndpointLink, certificateManager);
      });
    log.info({ endpoints: this.#states.map((s) => s.endpoint.id) }, 'OPC UA source started');
  }

  #startLinks(
    EndpointLink: typeof import('./endpoint-link.ts').EndpointLink,
    certificateManager: OPCUACertificateManager,
  ): void {
    const log = this.#deps.log;
    for (const state of this.#states) {
      state.link = new EndpointLink({
        endpoint: state.endpoint,
        certificateManager,
        reconnect: this.#deps.reconnect ?? DEFAULTS.reconnect,
        keepAliveIntervalMs: this.#deps.keepAliveIntervalMs ?? DEFAULTS.keepAliveIntervalMs,
        connectTimeoutMs: this.#deps.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
        scheduler: this.#deps.scheduler,
        log,
        listener: {
          onValue: (node, value) => this.#onValue(state, node, value),
          onUp: () => this.#announce(state, 'online', 'subscription active'),
          onDown: (reason) => this.#announce(state, 'offline', reason),
        },
      });
      state.link.start();
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#prepared;
    await Promise.all(this.#states.map((s) => s.link?.stop()));
    for (const state of this.#states) {
      state.link = undefined;
      state.announced = undefined; // a later start() reports availability afresh
      this.#flush(state);
    }
    await Promise.allSettled([...this.#inFlight]);
    const cm = this.#certificateManager;
    this.#certificateManager = undefined;
    if (cm) {
      // Each client takes a reference and gives it back on a clean disconnect only; release them all.
      while (cm.referenceCounter > 0) await cm.dispose();
      await cm.dispose();
    }
  }

  stats(): OpcUaEndpointStats[] {
    return this.#states.map((s) => {
      const status = s.link?.status;
      const stats: OpcUaEndpointStats = {
        id: s.endpoint.id,
        site: s.endpoint.site,
        url: s.endpoint.url.replace(/\/\/[^@/]*@/, '//***@'),
        connected: status?.connected ?? false,
        itemCount: status?.itemCount ?? 0,
        badItems: status?.badItems ?? [],
        failures: status?.failures ?? 0,
        recordErrors: s.recordErrors,
      };
      if (status?.lastError !== undefined) stats.lastError = status.lastError;
      if (s.lastValueAt !== undefined) stats.lastValueAt = s.lastValueAt;
      return stats;
    });
  }

  #onValue(state: EndpointState, node: OpcUaNode, dataValue: DataValue): void {
    const now = this.#deps.scheduler.now();
    state.lastValueAt = now;
    const { site } = state.endpoint;
    const ts = readingTime(dataValue.sourceTimestamp, now);
    const status = dataValue.statusCode;
    if (isFaultStatus(status.value)) {
      state.pending.events.push({
        site,
        assetId: node.assetId,
        kind: 'fault',
        code: 'sensor_fault',
        detail: { nodeId: node.nodeId, statusCode: status.name, metric: node.metric },
        ts,
      });
    } else {
      const value = toReadingValue(dataValue.value);
      if (value === undefined) {
        this.#unusable(state, node, dataValue);
        return;
      }
      const reading: Reading = { site, assetId: node.assetId, metric: node.metric, value, ts };
      if (node.unit) reading.unit = node.unit;
      state.pending.readings.push(reading);
    }
    // One publish response delivers its notifications synchronously: record them as one batch.
    if (!state.flushScheduled) {
      state.flushScheduled = true;
      queueMicrotask(() => this.#flush(state));
    }
  }

  #unusable(state: EndpointState, node: OpcUaNode, dataValue: DataValue): void {
    if (state.unusableLogged.has(node.nodeId)) return;
    state.unusableLogged.add(node.nodeId);
    this.#deps.log.warn(
      { endpoint: state.endpoint.id, nodeId: node.nodeId, dataType: dataValue.value.dataType },
      'OPC UA value is not a number, boolean or text; ignored (logged once per node)',
    );
  }

  #announce(state: EndpointState, code: 'online' | 'offline', reason: string): void {
    if (state.announced === code) return;
    state.announced = code;
    const ts = this.#deps.scheduler.now();
    const events: DeviceEvent[] = state.assetIds.map((assetId) => ({
      site: state.endpoint.site,
      assetId,
      kind: 'availability',
      code,
      detail: { source: 'opcua', endpointId: state.endpoint.id, reason },
      ts,
    }));
    // Values already queued belong before the change of availability.
    this.#flush(state);
    this.#record(state, { readings: [], events });
  }

  #flush(state: EndpointState): void {
    state.flushScheduled = false;
    const batch = state.pending;
    if (batch.readings.length === 0 && batch.events.length === 0) return;
    state.pending = { readings: [], events: [] };
    this.#record(state, batch);
  }

  #record(state: EndpointState, normalised: Normalised): void {
    // The executor turns a synchronous throw into a rejection, handled like any other.
    const done = new Promise<void>((resolve) =>
      resolve(this.#deps.record(normalised, `opcua:${state.endpoint.id}`)),
    )
      .catch((err: unknown) => {
        // Nothing to redeliver from: OPC UA has no acknowledgement. The next change is recorded.
        state.recordErrors++;
        this.#deps.log.error(
          {
            err,
            endpoint: state.endpoint.id,
            readings: normalised.readings.length,
            events: normalised.events.length,
          },
          'OPC UA values not recorded',
        );
      })
      .finally(() => this.#inFlight.delete(done));
    this.#inFlight.add(done);
  }
}

/** Creates the PKI folders, the private key and the self-signed client certificate if missing. */
async function prepareCertificate(certificateManager: OPCUACertificateManager): Promise<void> {
  const { OPCUAClient } = await import('node-opcua');
  await certificateManager.initialize();
  const bootstrap = OPCUAClient.create({
    applicationName: 'xiaoer',
    clientCertificateManager: certificateManager,
  });
  await bootstrap.createDefaultCertificate();
}
