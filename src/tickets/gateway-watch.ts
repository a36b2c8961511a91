import type { Directory } from '../config/directory.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { Service } from '../core/service.ts';
import type { AlarmTransition, Instant } from '../domain/types.ts';
import type { Store } from '../store/store.ts';
import type { TicketService } from './ticket-service.ts';

/**
 * Watches the sites' gateways on the embedded broker. A gateway with no connection left for
 * longer than the grace period (a reboot or a quick reconnect is not an outage) raises one
 * `gateway_offline` ticket for its site; the devices' offline tickets are linked to it. Its
 * return clears the alarm.
 */
export class GatewayWatch implements Service {
  readonly name = 'gateway-watch';
  readonly #tickets: TicketService;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #graceMs: number;
  readonly #connections = new Map<string, number>();
  readonly #pending = new Map<string, NodeJS.Timeout>();
  readonly #down = new Set<string>();
  #running = false;

  readonly #store: Store;
  readonly #directory: Directory;

  constructor(deps: {
    tickets: TicketService;
    store: Store;
    directory: Directory;
    clock: Clock;
    log: Logger;
    graceSeconds: number;
  }) {
    this.#tickets = deps.tickets;
    this.#store = deps.store;
    this.#directory = deps.directory;
    this.#clock = deps.clock;
    this.#log = deps.log;
    this.#graceMs = deps.graceSeconds * 1000;
  }

  /**
   * Outages open before a restart are still down until their gateway connects; and a configured
   * gateway that does not connect within the grace period after start-up is an outage too.
   */
  async start(): Promise<void> {
    this.#running = true;
    for (const t of await this.#store.listTickets({ open: true })) {
      if (t.fault === 'gateway_offline' && t.alarmActive) this.#down.add(`${t.site}\u001f${t.assetId}`);
    }
    for (const site of this.#directory.sites) {
      const key = `${site.id}\u001f${site.gateway.username}`;
      if (!this.#down.has(key) && !this.#connections.get(key))
        this.#armGrace(site.id, site.gateway.username, key);
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    for (const timer of this.#pending.values()) clearTimeout(timer);
    this.#pending.clear();
  }

  connected(site: string, gateway: string): void {
    const key = `${site}\u001f${gateway}`;
    const count = (this.#connections.get(key) ?? 0) + 1;
    this.#connections.set(key, count);
    if (count !== 1) return;
    const timer = this.#pending.get(key);
    if (timer) {
      clearTimeout(timer);
      this.#pending.delete(key);
    }
    if (this.#down.delete(key)) this.#record(site, gateway, 'cleared', this.#clock.now());
  }

  disconnected(site: string, gateway: string): void {
    const key = `${site}\u001f${gateway}`;
    const count = Math.max(0, (this.#connections.get(key) ?? 1) - 1);
    this.#connections.set(key, count);
    if (count > 0 || !this.#running || this.#pending.has(key) || this.#down.has(key)) return;
    this.#armGrace(site, gateway, key);
  }

  #armGrace(site: string, gateway: string, key: string): void {
    const lostAt = this.#clock.now();
    this.#pending.set(
      key,
      setTimeout(() => {
        this.#pending.delete(key);
        this.#down.add(key);
        this.#log.warn({ site, gateway }, 'site gateway offline beyond the grace period');
        this.#record(site, gateway, 'raised', lostAt);
      }, this.#graceMs),
    );
  }

  #record(site: string, gateway: string, type: 'raised' | 'cleared', at: Instant): void {
    const alarm = {
      site,
      assetId: gateway,
      ruleId: 'gateway',
      fault: 'gateway_offline',
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
    };
    const transition: AlarmTransition =
      type === 'raised' ? { type, alarm } : { type, alarm: { ...alarm, clearedAt: this.#clock.now() } };
    this.#tickets.applyAlarm(transition).catch((err: unknown) => {
      this.#log.error({ err, site, gateway }, 'could not record the gateway outage');
    });
  }
}
