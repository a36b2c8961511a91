import {
  AttributeIds,
  type ClientSubscription,
  DataChangeFilter,
  DataChangeTrigger,
  type DataValue,
  DeadbandType,
  MessageSecurityMode,
  type MonitoringParametersOptions,
  type OPCUACertificateManager,
  OPCUAClient,
  SecurityPolicy,
  TimestampsToReturn,
  type UserIdentityInfo,
  UserTokenType,
} from 'node-opcua';
import type { Logger } from '../core/logger.ts';
import { after, type Cancel, type Scheduler } from '../core/scheduler.ts';
import { type BackoffRange, reconnectDelay } from './backoff.ts';
import type { OpcUaEndpoint, OpcUaNode } from './config.ts';

/** What the link reports to its owner. Called synchronously from node-opcua's event handlers. */
export interface LinkListener {
  /** A data change of one mapped node, whatever its status. */
  onValue(node: OpcUaNode, value: DataValue): void;
  /** Session, subscription and monitored items are in place. */
  onUp(): void;
  /** An attempt failed or a working connection was lost; the next attempt is already scheduled. */
  onDown(reason: string): void;
}

export interface LinkOptions {
  endpoint: OpcUaEndpoint;
  /** Shared by every link: one client certificate for xiaoer, kept in the data directory. */
  certificateManager: OPCUACertificateManager;
  reconnect: BackoffRange;
  keepAliveIntervalMs: number;
  connectTimeoutMs: number;
  /** For the waits between reconnection attempts. */
  scheduler: Scheduler;
  log: Logger;
  listener: LinkListener;
}

export interface LinkStatus {
  connected: boolean;
  lastError?: string;
  /** Monitored items the server accepted. */
  itemCount: number;
  /** Nodes the server refused (e.g. BadNodeIdUnknown: a typo in the config, or a changed BMS program). */
  badItems: { nodeId: string; statusCode: string }[];
  /** Losses and failed attempts since the last successful connection (drives the backoff). */
  failures: number;
}

/** Longest wait for a client to close; past it the client is abandoned (its server is gone anyway). */
const CLOSE_TIMEOUT_MS = 3000;
/** Sessions outlive a short outage on the server side; ours are recreated, so keep them short. */
const SESSION_TIMEOUT_MS = 60_000;
/** Slack on top of two keep-alive periods before a silent subscription counts as lost. */
const WATCHDOG_GRACE_MS = 2000;

class Superseded extends Error {}

/**
 * One OPC UA endpoint: connects, creates a session, a subscription and the monitored items, and on
 * any sign of trouble (socket closed, session keep-alive failed, subscription terminated, attempt
 * timed out) throws the whole client away and starts over after a capped backoff.
 *
 * node-opcua's own reconnection (`connectionStrategy.maxRetry` > 0, `after_reconnection`,
 * `connection_reestablished`) is switched off on purpose: after a server restart the session and
 * subscriptions are gone and its repair path has left subscriptions silently dead
 * (node-opcua/node-opcua#1059, #640). A fresh session per connection is simple to reason about, and
 * the monitored items' first notification re-reads every value (OPC UA Part 4, CreateMonitoredItems).
 */
export class EndpointLink {
  readonly status: LinkStatus = { connected: false, itemCount: 0, badItems: [], failures: 0 };
  readonly #opts: LinkOptions;
  /** Bumped whenever a client is abandoned: callbacks of older clients see a stale number and do nothing. */
  #generation = 0;
  #running = false;
  #client: OPCUAClient | undefined;
  #cancelRetry: Cancel | undefined;
  #attemptTimer: NodeJS.Timeout | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  readonly #closing = new Set<Promise<void>>();

  constructor(opts: LinkOptions) {
    this.#opts = opts;
  }

  /** Starts connecting in the background; never throws, never waits for the server. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#attempt();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#generation++;
    this.#clearTimers();
    this.status.connected = false;
    this.#release();
    await Promise.allSettled([...this.#closing]);
  }

  #attempt(): void {
    const gen = ++this.#generation;
    const { connectTimeoutMs } = this.#opts;
    this.#attemptTimer = setTimeout(
      () => this.#lost(gen, `no subscription within ${connectTimeoutMs} ms`),
      connectTimeoutMs,
    );
    this.#connect(gen)
      .then(
        () => {
          if (gen !== this.#generation) return;
          clearTimeout(this.#attemptTimer);
          this.status.connected = true;
          this.status.failures = 0;
          this.#opts.log.info(
            {
              endpoint: this.#opts.endpoint.id,
              items: this.status.itemCount,
              refused: this.status.badItems.length,
            },
            'OPC UA subscription active',
          );
          this.#opts.listener.onUp();
        },
        (err: unknown) => this.#lost(gen, describe(err)),
      )
      // A throwing listener must not become an unhandled rejection (which ends the process).
      .catch((err: unknown) =>
        this.#opts.log.error({ err, endpoint: this.#opts.endpoint.id }, 'OPC UA listener failed'),
      );
  }

  async #connect(gen: number): Promise<void> {
    const { endpoint, keepAliveIntervalMs } = this.#opts;
    const client = createClient(endpoint, this.#opts.certificateManager, keepAliveIntervalMs);
    this.#client = client;
    const lost = (reason: string) => () => this.#lost(gen, reason);
    client.on('connection_lost', lost('connection lost'));
    client.on('close', (err?: Error | null) => {
      if (err) this.#lost(gen, `connection closed: ${err.message}`);
    });

    await client.connect(endpoint.url);
    this.#check(gen);
    const session = await client.createSession(identity(endpoint));
    this.#check(gen);
    session.on('keepalive_failure', lost('session keep-alive failed'));
    session.on('session_closed', lost('session closed'));

    const keepAliveCount = Math.max(3, Math.ceil(keepAliveIntervalMs / endpoint.publishingIntervalMs));
    const subscription = await session.createSubscription2({
      requestedPublishingInterval: endpoint.publishingIntervalMs,
      requestedMaxKeepAliveCount: keepAliveCount,
      // The lifetime must be at least three keep-alive periods (OPC UA Part 4, CreateSubscription).
      requestedLifetimeCount: keepAliveCount * 6,
      maxNotificationsPerPublish: 1000,
      publishingEnabled: true,
      priority: 1,
    });
    this.#check(gen);
    subscription.on('terminated', lost('subscription terminated'));
    subscription.on('internal_error', (err: Error) => this.#lost(gen, `subscription error: ${err.message}`));
    this.#watch(gen, subscription);
    await this.#monitor(gen, subscription);
  }

  /**
   * A server that hangs with its socket open (or a path that drops packets) closes nothing, and
   * node-opcua's session keep-alive read waits for its request timeout. The subscription is
   * stricter: the server must answer a publish request at least every keep-alive period
   * (maxKeepAliveCount × publishingInterval, OPC UA Part 4, "Subscription"), data or not.
   */
  #watch(gen: number, subscription: ClientSubscription): void {
    const silenceMs =
      2 * subscription.maxKeepAliveCount * subscription.publishingInterval + WATCHDOG_GRACE_MS;
    const arm = () => {
      clearTimeout(this.#watchdog);
      this.#watchdog = setTimeout(
        () => this.#lost(gen, `no publish response for ${silenceMs} ms`),
        silenceMs,
      );
    };
    subscription.on('raw_notification', () => {
      if (gen === this.#generation) arm();
    });
    arm();
  }

  #clearTimers(): void {
    this.#cancelRetry?.();
    clearTimeout(this.#attemptTimer);
    clearTimeout(this.#watchdog);
    this.#cancelRetry = undefined;
    this.#attemptTimer = undefined;
    this.#watchdog = undefined;
  }

  /** One CreateMonitoredItems call per distinct (sampling interval, deadband) among the nodes. */
  async #monitor(gen: number, subscription: ClientSubscription): Promise<void> {
    const { endpoint } = this.#opts;
    const groups = new Map<string, OpcUaNode[]>();
    for (const node of endpoint.nodes) {
      const key = `${node.samplingIntervalMs ?? endpoint.publishingIntervalMs}/${node.deadband ?? 0}`;
      groups.set(key, [...(groups.get(key) ?? []), node]);
    }
    this.status.itemCount = 0;
    this.status.badItems = [];
    for (const nodes of groups.values()) {
      const first = nodes[0] as OpcUaNode;
      const group = await subscription.monitorItems(
        nodes.map((n) => ({ nodeId: n.nodeId, attributeId: AttributeIds.Value })),
        monitoringParameters(first, endpoint.publishingIntervalMs),
        TimestampsToReturn.Both,
      );
      this.#check(gen);
      group.on('changed', (_item, dataValue, index) => {
        const node = nodes[index];
        if (gen === this.#generation && node) this.#opts.listener.onValue(node, dataValue);
      });
      group.monitoredItems.forEach((item, i) => {
        const node = nodes[i] as OpcUaNode;
        if (item.statusCode.isGood()) this.status.itemCount++;
        else this.#refused(node, item.statusCode.name);
      });
    }
  }

  #refused(node: OpcUaNode, statusCode: string): void {
    this.status.badItems.push({ nodeId: node.nodeId, statusCode });
    this.#opts.log.error(
      { endpoint: this.#opts.endpoint.id, nodeId: node.nodeId, assetId: node.assetId, statusCode },
      'OPC UA server refused to monitor a configured node',
    );
  }

  #check(gen: number): void {
    if (gen !== this.#generation) throw new Superseded('superseded');
  }

  /** The one place a client is given up: reports once per client, then schedules the next attempt. */
  #lost(gen: number, reason: string): void {
    if (gen !== this.#generation || !this.#running) return;
    this.#generation++;
    this.#clearTimers();
    const wasConnected = this.status.connected;
    this.status.connected = false;
    this.status.lastError = reason;
    this.#release();
    const delayMs = reconnectDelay(this.status.failures, this.#opts.reconnect);
    this.status.failures++;
    const fields = { endpoint: this.#opts.endpoint.id, reason, retryInMs: delayMs };
    // Warn on the change (lost, or first failure); a server that stays down is only worth debug.
    if (wasConnected) this.#opts.log.warn(fields, 'OPC UA connection lost');
    else if (this.status.failures === 1) this.#opts.log.warn(fields, 'cannot reach OPC UA server');
    else
      this.#opts.log.debug({ ...fields, failures: this.status.failures }, 'OPC UA server still unreachable');
    this.#opts.listener.onDown(reason);
    this.#cancelRetry = after(this.#opts.scheduler, delayMs, () => {
      this.#cancelRetry = undefined;
      if (this.#running) this.#attempt();
    });
  }

  /** Closes the current client in the background, bounded by CLOSE_TIMEOUT_MS; stop() awaits it. */
  #release(): void {
    const client = this.#client;
    this.#client = undefined;
    if (!client) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
    });
    // Deferred: #lost() runs inside node-opcua's own 'close' handlers, which must finish first.
    const closing = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => Promise.race([client.disconnect(), timeout]))
      .catch((err: unknown) =>
        this.#opts.log.debug(
          { endpoint: this.#opts.endpoint.id, err: describe(err) },
          'OPC UA client close failed',
        ),
      )
      .finally(() => {
        clearTimeout(timer);
        this.#closing.delete(closing);
      });
    this.#closing.add(closing);
  }
}

function createClient(
  endpoint: OpcUaEndpoint,
  certificateManager: OPCUACertificateManager,
  keepAliveIntervalMs: number,
): OPCUAClient {
  return OPCUAClient.create({
    applicationName: 'xiaoer',
    clientName: `xiaoer-${endpoint.id}`,
    // A BMS often advertises its own host name, not the address we dial; dial what is configured.
    endpointMustExist: false,
    securityMode: MessageSecurityMode.None,
    securityPolicy: SecurityPolicy.None,
    // One try per attempt: the backoff and the fresh session are ours (see EndpointLink).
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
    keepSessionAlive: true,
    keepAliveInterval: keepAliveIntervalMs,
    // Longer than a keep-alive period, or node-opcua warns (W09) and the server may drop the session.
    requestedSessionTimeout: Math.max(
      SESSION_TIMEOUT_MS,
      4 * keepAliveIntervalMs,
      4 * endpoint.publishingIntervalMs,
    ),
    clientCertificateManager: certificateManager,
  });
}

function identity(endpoint: OpcUaEndpoint): UserIdentityInfo {
  if (endpoint.username === undefined) return { type: UserTokenType.Anonymous };
  return { type: UserTokenType.UserName, userName: endpoint.username, password: endpoint.password ?? '' };
}

function monitoringParameters(node: OpcUaNode, publishingIntervalMs: number): MonitoringParametersOptions {
  const params: MonitoringParametersOptions = {
    samplingInterval: node.samplingIntervalMs ?? publishingIntervalMs,
    discardOldest: true,
    queueSize: 10,
  };
  if (node.deadband !== undefined) {
    params.filter = new DataChangeFilter({
      trigger: DataChangeTrigger.StatusValue,
      deadbandType: DeadbandType.Absolute,
      deadbandValue: node.deadband,
    });
  }
  return params;
}

/** node-opcua error messages run over several lines (the cause, e.g. ECONNREFUSED, comes last). */
function describe(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/\s+/g, ' ').trim().slice(0, 300) || 'unknown error';
}
