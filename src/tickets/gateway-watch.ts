import type { Directory } from '../config/directory.ts';
import { DEFAULT_GATEWAY_PRESENCE, type SiteConfig } from '../config/schema.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { Logger } from '../core/logger.ts';
import type { Cancel, Scheduler } from '../core/scheduler.ts';
import type { Service } from '../core/service.ts';
import type { AlarmTransition, Instant } from '../domain/types.ts';
import type { GatewayRecord, Store } from '../store/store.ts';
import type { TicketService } from './ticket-service.ts';

export type GatewayState = 'connected' | 'offline' | 'not_commissioned';

export interface GatewayStatus {
  site: string;
  username: string;
  state: GatewayState;
  firstConnectedAt?: Instant;
  lastConnectedAt?: Instant;
  lastDisconnectedAt?: Instant;
}

const key = (site: string, gateway: string) => `${site}\u001f${gateway}`;

/** Who announces the site's gateway (`sites[].gateway.presence`); `none` matches no announcement. */
const announcerOf = (site: SiteConfig): string => site.gateway.presence ?? DEFAULT_GATEWAY_PRESENCE;

/** The store's last word on a gateway: up unless a disconnection was recorded at or after its connection. */
const lastKnownUp = (g: GatewayRecord): boolean =>
  g.lastDisconnectedAt === undefined || g.lastDisconnectedAt < g.lastConnectedAt;

/**
 * Watches the sites' gateways. A gateway down for longer than the grace period (a reboot or a
 * quick reconnect is not an outage) raises one `gateway_offline` ticket for its site; the devices'
 * offline tickets are linked to it. Its return clears the alarm, and the outage ticket recovers.
 *
 * Two sources say whether a gateway is up:
 * - its connections to the embedded broker (`connected`/`disconnected`, by its login);
 * - its announcements (`gatewayPresence` on the bus, from the adapters: the Zigbee2MQTT bridge
 *   state, a Tasmota last will, a Sparkplug edge node's birth, death and messages), from the one
 *   announcer `sites[].gateway.presence` names. An external broker (`mqtt.url`) shows xiaoer no
 *   connections, so there they are the only source.
 * The gateway is up while it has a broker connection or its last announcement said online, and a
 * broker connection is the stronger evidence: while one is open, an announcement changes nothing,
 * and when the last one closes, what was announced over it is forgotten (the gateway is down until
 * it connects again or announces itself online). So on the embedded broker the connections decide
 * as before, the will `offline` that follows a lost connection is no second loss, and an `online`
 * is never counted as a second connection.
 *
 * A configured gateway never seen up is "not commissioned yet": a warning on /api/health and the
 * sites list, not a critical ticket that breaches within five minutes of the very first start
 * (an `offline` announcement of such a gateway changes nothing). Once it has been up (recorded in
 * the store), its absence is an outage, also across restarts: at start, a gateway with no
 * connection has the grace period to come back; with an external broker (no connections to see), a
 * gateway recorded up is taken to be up still until it announces otherwise (a retained `offline`
 * arriving at subscription starts the grace period; a retained `online` is no news), and one
 * recorded down has the grace period. Announcements are changes of state only: a repeated `online`
 * writes nothing and logs nothing.
 */
export class GatewayWatch implements Service {
  readonly name = 'gateway-watch';
  readonly #tickets: TicketService;
  readonly #scheduler: Scheduler;
  readonly #log: Logger;
  readonly #graceMs: number;
  readonly #store: Store;
  readonly #directory: Directory;
  readonly #bus: EventBus;
  readonly #brokerConnections: boolean;
  /** The sites watched when they are given one by one (a cluster), else undefined: all. */
  readonly #owned: Set<string> | undefined;
  readonly #connections = new Map<string, number>();
  /** What the gateway's announcer said last (true: online); forgotten when its last connection closes. */
  readonly #announced = new Map<string, boolean>();
  readonly #pending = new Map<string, Cancel>();
  readonly #down = new Set<string>();
  readonly #seen = new Map<string, GatewayRecord>();
  /** Store writes in order, so that a quick disconnect never lands before its connect. */
  #recording: Promise<void> = Promise.resolve();
  #unsubscribe: (() => void) | undefined;
  #running = false;

  constructor(deps: {
    tickets: TicketService;
    store: Store;
    directory: Directory;
    scheduler: Scheduler;
    bus: EventBus;
    log: Logger;
    graceSeconds: number;
    /**
     * Whether the embedded broker reports the gateways' connections (the default). False with an
     * external broker: only announcements tell, and gateways announced by nothing
     * (`presence: none`) are not watched.
     */
    brokerConnections?: boolean;
    /**
     * `owned`: only the sites given to `ownSite()` are watched (a cluster's partitions, each
     * consumed by one instance, src/cluster); by default every site.
     */
    sites?: 'all' | 'owned';
  }) {
    this.#bus = deps.bus;
    this.#tickets = deps.tickets;
    this.#store = deps.store;
    this.#directory = deps.directory;
    this.#scheduler = deps.scheduler;
    this.#log = deps.log;
    this.#graceMs = deps.graceSeconds * 1000;
    this.#brokerConnections = deps.brokerConnections ?? true;
    this.#owned = deps.sites === 'owned' ? new Set() : undefined;
  }

  /** Hears announcements; watches every site at once, or (`sites: 'owned'`) those given later. */
  async start(): Promise<void> {
    this.#running = true;
    this.#unsubscribe = this.#bus.on('gatewayPresence', (p) => {
      if (!this.#owned || this.#owned.has(p.site)) this.announced(p.site, p.gateway, p.online, p.at);
    });
    if (this.#owned) return;
    await this.#load(this.#watchedSites());
  }

  /**
   * This instance watches the site from now on (src/cluster): what the store says of its gateway
   * and its open outage, then as at a start. The gateway's retained announcement, which the
   * partition's subscription brings next, corrects what is assumed here.
   */
  async ownSite(site: string): Promise<void> {
    if (!this.#owned) return;
    this.#owned.add(site);
    await this.#load(this.#watchedSites().filter((s) => s.id === site));
  }

  /** Another instance watches the site now: its timers and what was known of it are dropped. */
  releaseSite(site: string): void {
    if (!this.#owned?.delete(site)) return;
    const ofSite = (k: string) => k.startsWith(key(site, ''));
    for (const [k, cancel] of this.#pending) if (ofSite(k)) cancel();
    for (const keys of [this.#pending, this.#announced, this.#connections, this.#seen, this.#down])
      for (const k of [...keys.keys()]) if (ofSite(k)) keys.delete(k);
  }

  /** Outages open before a restart are still down until their gateway is back. */
  async #load(sites: readonly SiteConfig[]): Promise<void> {
    if (sites.length === 0) return;
    const ids = new Set(sites.map((s) => s.id));
    for (const g of await this.#store.listGateways())
      if (ids.has(g.site)) this.#seen.set(key(g.site, g.username), g);
    for (const t of await this.#store.listTickets({ open: true, sites: [...ids] })) {
      if (t.fault === 'gateway_offline' && t.alarmActive) this.#down.add(key(t.site, t.assetId));
    }
    const now = this.#scheduler.now();
    const uncommissioned: string[] = [];
    for (const site of sites) {
      const k = key(site.id, site.gateway.username);
      const seen = this.#seen.get(k);
      if (!seen) uncommissioned.push(site.gateway.username);
      else if (this.#down.has(k) || this.#isUp(k)) continue;
      else if (!this.#brokerConnections && lastKnownUp(seen)) this.#announced.set(k, true);
      else this.#armGrace(site.id, site.gateway.username, now);
    }
    if (uncommissioned.length > 0)
      this.#log.warn({ gateways: uncommissioned }, 'gateways not commissioned yet (never connected)');
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    for (const cancel of this.#pending.values()) cancel();
    this.#pending.clear();
    await this.#recording;
  }

  /** Whether the site's gateway has ever been up. */
  isCommissioned(site: string): boolean {
    const gateway = this.#directory.site(site)?.gateway.username;
    return gateway !== undefined && this.#seen.has(key(site, gateway));
  }

  statuses(): GatewayStatus[] {
    return this.#watchedSites().map((site) => {
      const k = key(site.id, site.gateway.username);
      const seen = this.#seen.get(k);
      const state: GatewayState = this.#isUp(k) ? 'connected' : seen ? 'offline' : 'not_commissioned';
      return {
        site: site.id,
        username: site.gateway.username,
        state,
        ...(seen
          ? {
              firstConnectedAt: seen.firstConnectedAt,
              lastConnectedAt: seen.lastConnectedAt,
              ...(seen.lastDisconnectedAt !== undefined
                ? { lastDisconnectedAt: seen.lastDisconnectedAt }
                : {}),
            }
          : {}),
      };
    });
  }

  connected(site: string, gateway: string): void {
    const k = key(site, gateway);
    const now = this.#scheduler.now();
    const wasUp = this.#isUp(k);
    this.#connections.set(k, (this.#connections.get(k) ?? 0) + 1);
    this.#markUp(site, gateway, now);
    if (!wasUp) this.#back(site, gateway, now);
  }

  disconnected(site: string, gateway: string): void {
    const k = key(site, gateway);
    const now = this.#scheduler.now();
    const count = Math.max(0, (this.#connections.get(k) ?? 1) - 1);
    this.#connections.set(k, count);
    // What the gateway announced over its connections went with the last of them.
    if (count === 0) this.#announced.delete(k);
    this.#markDown(site, gateway, now);
    if (!this.#isUp(k)) this.#lost(site, gateway, now);
  }

  /**
   * An announcement (bus `gatewayPresence`) by `announcer` on the site's topics, received at `at`.
   * Only the site's gateway's announcer counts, and only as a change of state (see the class).
   */
  announced(siteId: string, announcer: string, online: boolean, at: Instant): void {
    const site = this.#directory.site(siteId);
    if (!site || announcerOf(site) !== announcer) return;
    const gateway = site.gateway.username;
    const k = key(siteId, gateway);
    const wasUp = this.#isUp(k);
    this.#announced.set(k, online);
    const up = this.#isUp(k);
    if (up) {
      if (wasUp) return;
      this.#markUp(siteId, gateway, at);
      this.#back(siteId, gateway, at);
      return;
    }
    if (!wasUp) {
      // Already down (or never seen): a retained `offline` again, or a will after the connection
      // closed; nothing new, unless nothing was timing the absence yet.
      this.#lost(siteId, gateway, at);
      return;
    }
    this.#log.info({ site: siteId, gateway, announcer }, 'site gateway announced offline');
    this.#markDown(siteId, gateway, at);
    this.#lost(siteId, gateway, at);
  }

  #watchedSites(): readonly SiteConfig[] {
    const sites = this.#owned
      ? this.#directory.sites.filter((s) => this.#owned?.has(s.id))
      : this.#directory.sites;
    if (this.#brokerConnections) return sites;
    return sites.filter((s) => announcerOf(s) !== 'none');
  }

  #isUp(k: string): boolean {
    return (this.#connections.get(k) ?? 0) > 0 || this.#announced.get(k) === true;
  }

  /** Recorded up at `at` (every connection, or an announcement that brought it back); commissions it the first time. */
  #markUp(site: string, gateway: string, at: Instant): void {
    const k = key(site, gateway);
    const seen = this.#seen.get(k);
    this.#seen.set(k, {
      site,
      username: gateway,
      firstConnectedAt: seen?.firstConnectedAt ?? at,
      lastConnectedAt: at,
      ...(seen?.lastDisconnectedAt !== undefined ? { lastDisconnectedAt: seen.lastDisconnectedAt } : {}),
    });
    if (!seen) {
      this.#log.info({ site, gateway }, 'gateway commissioned: connected for the first time');
      this.#bus.emit('gatewayCommissioned', site);
    }
    this.#persist(() => this.#store.recordGatewayConnected(site, gateway, at));
  }

  #markDown(site: string, gateway: string, at: Instant): void {
    const seen = this.#seen.get(key(site, gateway));
    if (seen) seen.lastDisconnectedAt = at;
    this.#persist(() => this.#store.recordGatewayDisconnected(site, gateway, at));
  }

  /** Up again: the grace period stops, and an outage's alarm clears. */
  #back(site: string, gateway: string, at: Instant): void {
    const k = key(site, gateway);
    this.#pending.get(k)?.();
    this.#pending.delete(k);
    if (this.#down.delete(k)) this.#record(site, gateway, 'cleared', at);
  }

  /** Down: the grace period starts, unless it runs already, the outage is open, or it was never up. */
  #lost(site: string, gateway: string, at: Instant): void {
    const k = key(site, gateway);
    if (!this.#running || !this.#seen.has(k) || this.#pending.has(k) || this.#down.has(k)) return;
    this.#armGrace(site, gateway, at);
  }

  #persist(write: () => Promise<void>): void {
    this.#recording = this.#recording.then(write).catch((err: unknown) => {
      this.#log.error({ err }, 'could not record the gateway connection');
    });
  }

  #armGrace(site: string, gateway: string, lostAt: Instant): void {
    const k = key(site, gateway);
    this.#pending.set(
      k,
      this.#scheduler.at(lostAt + this.#graceMs, () => {
        this.#pending.delete(k);
        this.#down.add(k);
        this.#log.warn({ site, gateway }, 'site gateway offline beyond the grace period');
        this.#record(site, gateway, 'raised', lostAt);
      }),
    );
  }

  #record(site: string, gateway: string, type: 'raised' | 'cleared', at: Instant): void {
    const alarm = {
      site,
      assetId: gateway,
      ruleId: 'gateway',
      fault: 'gateway_offline',
      meaning: 'outage' as const,
      category: this.#tickets.correlator.category,
      severity: 'critical' as const,
      raisedAt: at,
      cause: {
        site,
        assetId: gateway,
        kind: 'availability' as const,
        code: type === 'raised' ? 'offline' : 'online',
        ts: at,
      },
      limit: { forSeconds: this.#graceMs / 1000 },
    };
    const transition: AlarmTransition =
      type === 'raised' ? { type, alarm } : { type, alarm: { ...alarm, clearedAt: at } };
    this.#tickets.applyAlarm(transition).catch((err: unknown) => {
      this.#log.error({ err, site, gateway }, 'could not record the gateway outage');
    });
  }
}
