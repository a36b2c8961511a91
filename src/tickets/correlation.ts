import type { Directory } from '../config/directory.ts';
import { KeyedQueue } from '../core/keyed-queue.ts';
import type { Instant, Ticket } from '../domain/types.ts';
import type { TicketsConfig } from './config.ts';
import { OFFLINE_FAULTS, OUTAGE_FAULTS } from './config.ts';
import { SYSTEM_CORRELATION, type TicketWriter } from './ticket-writer.ts';

/**
 * One outage, one ticket: when a site's gateway is away, or more devices of a site go offline
 * within a short window than a device fault explains, a parent ticket is raised for the site's
 * gateway and the devices' offline tickets are linked to it instead of being handled one by one.
 */
export class Correlator {
  readonly #config: TicketsConfig['correlation'];
  readonly #directory: Directory;
  readonly #writer: TicketWriter;
  /** Offline tickets raised recently, per site, oldest first. */
  readonly #recent = new Map<string, { ticketId: number; at: Instant }[]>();

  readonly #category: string;
  readonly #perSite = new KeyedQueue();

  constructor(deps: { config: TicketsConfig['correlation']; directory: Directory; writer: TicketWriter }) {
    this.#config = deps.config;
    this.#directory = deps.directory;
    this.#writer = deps.writer;
    const categories = deps.directory.categoryIds();
    this.#category =
      deps.config.category ?? (categories.includes('other') ? 'other' : (categories[0] ?? 'other'));
  }

  get category(): string {
    return this.#category;
  }

  /**
   * Runs the raising of a site's offline tickets one at a time: devices going offline together
   * arrive in parallel, and each must see the ones before it to recognise the outage.
   */
  serialise<T>(site: string, fault: string, task: () => Promise<T>): Promise<T> {
    const outage = OFFLINE_FAULTS.has(fault) || (OUTAGE_FAULTS as readonly string[]).includes(fault);
    return outage ? this.#perSite.run(site, task) : task();
  }

  /** The gateway login standing for a site's network (the parent tickets' asset). */
  gatewayOf(site: string): string {
    return this.#directory.site(site)?.gateway.username ?? `${site}-gw`;
  }

  /** The open outage ticket of a site, if any. */
  async openOutage(site: string): Promise<Ticket | undefined> {
    const assetId = this.gatewayOf(site);
    for (const fault of OUTAGE_FAULTS) {
      const t = await this.#writer.store.findOpenTicket({ site, assetId, fault });
      if (t) return t;
    }
    return undefined;
  }

  /**
   * Decides the parent of a new offline ticket about to be raised at `at`: an open outage, or a
   * new one when this ticket would exceed the threshold (then the recent ones are linked too).
   */
  async parentFor(site: string, fault: string, at: Instant): Promise<number | undefined> {
    if (!OFFLINE_FAULTS.has(fault)) return undefined;
    const existing = await this.openOutage(site);
    if (existing) return existing.id;
    const recent = this.#prune(site, at);
    if (recent.length + 1 <= this.#config.offlineThreshold) return undefined;
    const detectedAt = recent[0]?.at ?? at;
    const sla = this.#directory.slaFor(this.#category);
    const parent = await this.#writer.create(
      {
        site,
        assetId: this.gatewayOf(site),
        category: this.#category,
        fault: 'mass_offline',
        severity: 'critical',
        ruleId: 'correlation',
        alarmActive: true,
        alarmChangedAt: at,
        detectedAt,
        arrival: { dueAt: detectedAt + sla.arrivalMs },
        repair: { dueAt: detectedAt + sla.repairMs },
      },
      SYSTEM_CORRELATION,
      { reason: `${recent.length + 1} devices offline within ${this.#config.windowSeconds} s` },
    );
    await this.#linkAll(
      recent.map((r) => r.ticketId),
      parent.id,
    );
    this.#recent.delete(site);
    return parent.id;
  }

  /** Remembers an offline ticket raised without a parent, for the threshold. */
  noteRaised(ticket: Ticket): void {
    if (!OFFLINE_FAULTS.has(ticket.fault) || ticket.parentId !== undefined) return;
    this.#recent.set(ticket.site, [
      ...this.#prune(ticket.site, ticket.detectedAt),
      { ticketId: ticket.id, at: ticket.detectedAt },
    ]);
  }

  /** Links a site's open offline tickets without a parent to a (new) gateway outage ticket. */
  async adoptOpenOffline(parent: Ticket): Promise<void> {
    const open = await this.#writer.store.listTickets({ site: parent.site, open: true });
    const orphans = open.filter(
      (t) => OFFLINE_FAULTS.has(t.fault) && t.parentId === undefined && t.id !== parent.id,
    );
    await this.#linkAll(
      orphans.map((t) => t.id),
      parent.id,
    );
  }

  async #linkAll(ids: readonly number[], parentId: number): Promise<void> {
    for (const id of ids) {
      const child = await this.#writer.store.getTicket(id);
      if (!child || child.status === 'closed' || child.parentId !== undefined) continue;
      await this.#writer.update(child, { parentId }, 'linked', SYSTEM_CORRELATION, { parentId });
    }
  }

  #prune(site: string, at: Instant): { ticketId: number; at: Instant }[] {
    const windowMs = this.#config.windowSeconds * 1000;
    return (this.#recent.get(site) ?? []).filter((r) => at - r.at <= windowMs);
  }
}
