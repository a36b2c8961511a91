import type { Directory } from '../config/directory.ts';
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

/**
 * Watches the sites' gateways on the embedded broker. A gateway with no connection left for
 * longer than the grace period (a reboot or a quick reconnect is not an outage) raises one
 * `gateway_offline` ticket for its site; the devices' offline tickets are linked to it. Its
 * return clears the alarm, and the outage ticket recovers.
 *
 * A configured gateway that has never connected is "not commissioned yet": a warning on
 * /api/health and the sites list, not a critical ticket that breaches within five minutes of the
 * very first start. Once it has connected (recorded in the store), its absence is an outage,
 * also across restarts.
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
  readonly #connections = new Map<string, number>();
  readonly #pending = new Map<string, Cancel>();
  readonly #down = new Set<string>();
  readonly #seen = new Map<string, GatewayRecord>();
  /** Store writes in order, so that a quick disconnect never lands before its connect. */
  #recording: Promise<void> = Promise.resolve();
  #running = false;

  constructor(deps: {
    tickets: TicketService;
    store: Store;
    directory: Directory;
    scheduler: Scheduler;
    bus: EventBus;
    log: Logger;
    graceSeconds: number;
  }) {
    this.#bus = deps.bus;
    this.#tickets = deps.tickets;
    this.#store = deps.store;
    this.#directory = deps.directory;
    this.#scheduler = deps.scheduler;
    this.#log = deps.log;
    this.#graceMs = deps.graceSeconds * 1000;
  }

  /** Outages open before a restart are still down until their gateway connects. */
  async start(): Promise<void> {
    this.#running = true;
    for (const g of await this.#store.listGateways()) this.#seen.set(key(g.site, g.username), g);
    for (const t of await this.#store.listTickets({ open: true })) {
      if (t.fault === 'gateway_offline' && t.alarmActive) this.#down.add(key(t.site, t.assetId));
    }
    const uncommissioned: string[] = [];
    for (const site of this.#directory.sites) {
      const k = key(site.id, site.gateway.username);
      if (!this.#seen.has(k)) uncommissioned.push(site.gateway.username);
      else if (!this.#down.has(k) && !this.#connections.get(k))
        this.#armGrace(site.id, site.gateway.username);
    }
    if (uncommissioned.length > 0)
      this.#log.warn({ gateways: uncommissioned }, 'gateways not commissioned yet (never connected)');
  }

  async stop(): Promise<void> {
    this.#running = false;
    for (const cancel of this.#pending.values()) cancel();
    this.#pending.clear();
    await this.#recording;
  }

  /** Whether the site's gateway has ever connected. */
  isCommissioned(site: string): boolean {
    const gateway = this.#directory.site(site)?.gateway.username;
    return gateway !== undefined && this.#seen.has(key(site, gateway));
  }

  statuses(): GatewayStatus[] {
    return this.#directory.sites.map((site) => {
      const k = key(site.id, site.gateway.username);
      const seen = this.#seen.get(k);
      const state: GatewayState = this.#connections.get(k)
        ? 'connected'
        : seen
          ? 'offline'
          : 'not_commissioned';
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
    const count = (this.#connections.get(k) ?? 0) + 1;
    this.#connections.set(k, count);
    const seen = this.#seen.get(k);
    this.#seen.set(k, {
      site,
      username: gateway,
      firstConnectedAt: seen?.firstConnectedAt ?? now,
      lastConnectedAt: now,
      ...(seen?.lastDisconnectedAt !== undefined ? { lastDisconnectedAt: seen.lastDisconnectedAt } : {}),
    });
    if (!seen) {
      this.#log.info({ site, gateway }, 'gateway commissioned: connected for the first time');
      this.#bus.emit('gatewayCommissioned', site);
    }
    this.#persist(() => this.#store.recordGatewayConnected(site, gateway, now));
    if (count !== 1) return;
    this.#pending.get(k)?.();
    this.#pending.delete(k);
    if (this.#down.delete(k)) this.#record(site, gateway, 'cleared', now);
  }

  disconnected(site: string, gateway: string): void {
    const k = key(site, gateway);
    const now = this.#scheduler.now();
    const count = Math.max(0, (this.#connections.get(k) ?? 1) - 1);
    this.#connections.set(k, count);
    const seen = this.#seen.get(k);
    if (seen) seen.lastDisconnectedAt = now;
    this.#persist(() => this.#store.recordGatewayDisconnected(site, gateway, now));
    if (count > 0 || !this.#running || this.#pending.has(k) || this.#down.has(k)) return;
    this.#armGrace(site, gateway);
  }

  #persist(write: () => Promise<void>): void {
    this.#recording = this.#recording.then(write).catch((err: unknown) => {
      this.#log.error({ err }, 'could not record the gateway connection');
    });
  }

  #armGrace(site: string, gateway: string): void {
    const k = key(site, gateway);
    const lostAt = this.#scheduler.now();
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
