import type { Directory } from '../config/directory.ts';
import { KeyedQueue } from '../core/keyed-queue.ts';
import type { Alarm, Instant, Ticket } from '../domain/types.ts';
import { isOutage, isUnavailable } from './clocks.ts';
import type { TicketsConfig } from './config.ts';
import { OUTAGE_FAULTS } from './config.ts';
import { SYSTEM_CORRELATION, type TicketWriter } from './ticket-writer.ts';

/**
 * One outage, one ticket: when a site's gateway is away, or more devices of a site go offline
 * within a short window than a device fault explains, a parent ticket is raised for the site's
 * gateway and the devices' offline tickets are linked to it instead of being handled one by one.
 * This class decides and links; the AlarmHandler raises, repeats and clears the parent's alarm.
 *
 * Only an outage whose alarm is active takes children: once its cause is gone (the gateway is back,
 * or few enough devices are still offline) a fault that starts is a fault of its own.
 */
export class Correlator {
  readonly #config: TicketsConfig['correlation'];
  readonly #directory: Directory;
  readonly #writer: TicketWriter;
  /** Offline tickets raised recently without a parent, per site, oldest first. */
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

  get threshold(): number {
    return this.#config.offlineThreshold;
  }

  get recoveryMs(): number {
    return this.#config.recoverySeconds * 1000;
  }

  /**
   * Runs a site's offline and outage alarms one at a time: devices going offline together arrive
   * in parallel, and each must see the ones before it to recognise the outage.
   */
  serialise<T>(alarm: Pick<Alarm, 'site' | 'meaning'>, task: () => Promise<T>): Promise<T> {
    const outage = isUnavailable(alarm) || isOutage(alarm);
    return outage ? this.#perSite.run(alarm.site, task) : task();
  }

  /** The gateway login standing for a site's network (the parent tickets' asset). */
  gatewayOf(site: string): string {
    return this.#directory.site(site)?.gateway.username ?? `${site}-gw`;
  }

  /** The open outage ticket of a site, if any (its alarm may be active or recovering). */
  async openOutage(site: string): Promise<Ticket | undefined> {
    const assetId = this.gatewayOf(site);
    for (const fault of OUTAGE_FAULTS) {
      const t = await this.#writer.store.findOpenTicket({ site, assetId, fault });
      if (t) return t;
    }
    return undefined;
  }

  /**
   * An offline fault about to be raised at `at` would make a mass outage: more than the threshold
   * of the site's devices offline within the window. Returns the parent alarm to raise, or none.
   */
  massOutage(site: string, at: Instant): Alarm | undefined {
    const recent = this.#prune(site, at);
    if (recent.length + 1 <= this.#config.offlineThreshold) return undefined;
    const raisedAt = recent[0]?.at ?? at;
    return {
      site,
      assetId: this.gatewayOf(site),
      ruleId: 'correlation',
      fault: 'mass_offline',
      meaning: 'outage',
      category: this.#category,
      severity: 'critical',
      raisedAt,
      cause: {
        site,
        assetId: this.gatewayOf(site),
        kind: 'availability',
        code: 'mass_offline',
        detail: { devices: recent.length + 1, windowSeconds: this.#config.windowSeconds },
        ts: raisedAt,
      },
    };
  }

  /** Remembers an offline ticket raised without a parent, for the threshold. */
  noteRaised(ticket: Ticket): void {
    if (!isUnavailable(ticket) || ticket.parentId !== undefined) return;
    this.#recent.set(ticket.site, [
      ...this.#prune(ticket.site, ticket.detectedAt),
      { ticketId: ticket.id, at: ticket.detectedAt },
    ]);
  }

  /**
   * Links the site's open offline tickets without a parent that belong to this outage: those
   * detected since shortly before it began. A lock offline for hours before the gateway went away
   * is a loose cable of its own, not part of the outage.
   */
  async adoptOpenOffline(parent: Ticket, since: Instant): Promise<void> {
    const from = since - this.#config.windowSeconds * 1000;
    const open = await this.#writer.store.listTickets({ site: parent.site, open: true });
    const orphans = open.filter(
      (t) =>
        isUnavailable(t) &&
        t.parentId === undefined &&
        t.id !== parent.id &&
        t.alarmActive &&
        t.detectedAt >= from,
    );
    for (const orphan of orphans) {
      if (orphan.status === 'closed') continue;
      await this.#writer.update(orphan, { parentId: parent.id }, 'linked', SYSTEM_CORRELATION, {
        parentId: parent.id,
      });
    }
    this.#recent.delete(parent.site);
  }

  /** The open tickets linked to an outage. */
  async children(parent: Ticket): Promise<Ticket[]> {
    return this.#writer.store.listTickets({ site: parent.site, parentId: parent.id, open: true });
  }

  #prune(site: string, at: Instant): { ticketId: number; at: Instant }[] {
    const windowMs = this.#config.windowSeconds * 1000;
    return (this.#recent.get(site) ?? []).filter((r) => at - r.at <= windowMs);
  }
}
