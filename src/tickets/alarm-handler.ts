import type { Directory } from '../config/directory.ts';
import { XiaoerError } from '../core/errors.ts';
import type { Alarm, AlarmTransition, Ticket } from '../domain/types.ts';
import type { TicketsConfig } from './config.ts';
import { OUTAGE_FAULTS } from './config.ts';
import type { Correlator } from './correlation.ts';
import { OPEN_STATUSES, SYSTEM_RULES, type TicketChange, type TicketWriter } from './ticket-writer.ts';

/**
 * What an alarm does to tickets: raise one (or reopen the same one when the fault comes back),
 * note repeats and clearings on the open one, start the sensor's verification of a reported
 * repair, mark flapping, and hand offline faults to the correlator.
 */
export class AlarmHandler {
  readonly #writer: TicketWriter;
  readonly #directory: Directory;
  readonly #config: TicketsConfig;
  readonly #correlator: Correlator;

  constructor(deps: {
    writer: TicketWriter;
    directory: Directory;
    config: TicketsConfig;
    correlator: Correlator;
  }) {
    this.#writer = deps.writer;
    this.#directory = deps.directory;
    this.#config = deps.config;
    this.#correlator = deps.correlator;
  }

  /** Idempotent for a repeated raise: one open ticket per asset and fault. Retries a lost race. */
  async apply(t: AlarmTransition, attempt = 0): Promise<void> {
    try {
      if (t.type === 'cleared') await this.#cleared(t.alarm);
      else await this.#raised(t.alarm);
    } catch (err) {
      // Another writer got there between our read and our write: read again and redo the decision.
      const raced =
        err instanceof XiaoerError && (err.code === 'ticket_exists' || err.code === 'ticket_conflict');
      if (raced && attempt < 3) return this.apply(t, attempt + 1);
      throw err;
    }
  }

  async #raised(alarm: Alarm): Promise<void> {
    const store = this.#writer.store;
    const detail = { ruleId: alarm.ruleId, cause: alarm.cause ?? null };
    const open = await store.findOpenTicket(alarm);
    const reopenSince = this.#writer.now() - this.#config.reopenHours * 3_600_000;
    if (open?.status === 'verified' && (open.repair.verifiedAt ?? 0) < reopenSince) {
      // Verified long ago and never closed: that repair held. This is a new fault.
      await this.#writer.update(
        open,
        { status: 'closed', closedAt: this.#writer.now() },
        'closed',
        SYSTEM_RULES,
        {
          reason: `verified more than ${this.#config.reopenHours} h ago; the fault is back as a new ticket`,
        },
      );
      return this.#raised(alarm);
    }
    if (open && (open.status === 'repaired' || open.status === 'verified')) return this.#reopen(open, alarm);
    if (open) {
      // The ticket follows the rule now reporting its fault (e.g. a hotline ticket the sensor
      // confirms), so that after a restart the right rule is re-armed from it.
      const change: TicketChange = {
        alarmActive: true,
        alarmChangedAt: alarm.raisedAt,
        ruleId: alarm.ruleId,
      };
      const newlyFlapping = alarm.flapping === true && !open.flapping;
      if (newlyFlapping) change.flapping = true;
      const type = newlyFlapping ? 'flapping' : 'alarm_repeated';
      await this.#writer.update(open, change, type, SYSTEM_RULES, detail, {
        at: alarm.raisedAt,
        expect: OPEN_STATUSES,
      });
      return;
    }
    const recent = await store.findRecentlyClosedTicket(alarm, reopenSince);
    // Only a repaired ticket comes back; one closed unrepaired (a false alarm) stays closed.
    if (recent && recent.repair.verifiedAt !== undefined) return this.#reopen(recent, alarm);
    await this.#correlator.serialise(alarm.site, alarm.fault, () => this.#raiseOrJoinOutage(alarm, detail));
  }

  /** A second cause of the same site outage (gateway gone while many devices are offline) joins it. */
  async #raiseOrJoinOutage(alarm: Alarm, detail: Record<string, unknown>): Promise<void> {
    if ((OUTAGE_FAULTS as readonly string[]).includes(alarm.fault)) {
      const outage = await this.#correlator.openOutage(alarm.site);
      if (outage) {
        await this.#writer.update(
          outage,
          { alarmActive: true, alarmChangedAt: alarm.raisedAt },
          'alarm_repeated',
          SYSTEM_RULES,
          {
            ...detail,
            fault: alarm.fault,
          },
        );
        return;
      }
    }
    await this.#raise(alarm, detail);
  }

  async #raise(alarm: Alarm, detail: Record<string, unknown>): Promise<void> {
    const sla = this.#directory.slaFor(alarm.category);
    const parentId = await this.#correlator.parentFor(alarm.site, alarm.fault, alarm.raisedAt);
    const ticket = await this.#writer.create(
      {
        site: alarm.site,
        assetId: alarm.assetId,
        category: alarm.category,
        fault: alarm.fault,
        severity: alarm.severity,
        ruleId: alarm.ruleId,
        alarmActive: true,
        alarmChangedAt: alarm.raisedAt,
        detectedAt: alarm.raisedAt,
        arrival: { dueAt: alarm.raisedAt + sla.arrivalMs },
        repair: { dueAt: alarm.raisedAt + sla.repairMs },
        flapping: alarm.flapping === true,
        ...(parentId !== undefined ? { parentId } : {}),
      },
      SYSTEM_RULES,
      detail,
    );
    this.#correlator.noteRaised(ticket);
    if ((OUTAGE_FAULTS as readonly string[]).includes(ticket.fault))
      await this.#correlator.adoptOpenOffline(ticket);
  }

  /**
   * The fault came back. Before the sensor verified the repair, the repair never happened: its
   * clock goes on from detection. After verification it is a recurrence: the repair clock restarts.
   */
  async #reopen(ticket: Ticket, alarm: Alarm): Promise<void> {
    const unverified = ticket.status === 'repaired';
    const change: TicketChange = {
      status: ticket.assignee ? 'dispatched' : 'raised',
      alarmActive: true,
      alarmChangedAt: alarm.raisedAt,
      ruleId: alarm.ruleId,
      reopenCount: ticket.reopenCount + 1,
      repairAt: null,
      repairMet: null,
      repairVerifiedAt: null,
      verifyDueAt: null,
      closedAt: null,
      slaPausedAt: null,
    };
    if (!unverified) {
      change.repairDueAt = alarm.raisedAt + this.#directory.slaFor(ticket.category).repairMs;
      change.repairBreachedAt = null;
      change.repairEscalation = 0;
    }
    await this.#writer.update(
      ticket,
      change,
      'reopened',
      SYSTEM_RULES,
      {
        reason: unverified
          ? 'fault returned before the repair was verified'
          : 'fault returned after the repair',
        previousStatus: ticket.status,
        repairClock: unverified ? 'continues from detection' : 'restarted',
        ruleId: alarm.ruleId,
        cause: alarm.cause ?? null,
      },
      { at: alarm.raisedAt, expect: [ticket.status] },
    );
  }

  async #cleared(alarm: Alarm): Promise<void> {
    const open = await this.#writer.store.findOpenTicket(alarm);
    if (!open) return;
    const at = alarm.clearedAt ?? this.#writer.now();
    const change: TicketChange = { alarmActive: false, alarmChangedAt: at };
    // A repair reported while the fault was still on is verified once it has stayed clear.
    if (open.status === 'repaired' && open.verifyDueAt === undefined) {
      change.verifyDueAt = at + this.#config.verifyMinutes * 60_000;
    }
    const detail = { ruleId: alarm.ruleId, cause: alarm.cause ?? null };
    const updated = await this.#writer.update(open, change, 'alarm_cleared', SYSTEM_RULES, detail, {
      at,
      expect: OPEN_STATUSES,
    });
    if (updated.parentId !== undefined) await this.#clearOutageIfOver(updated.parentId, at);
  }

  /** The last device of an outage is back: the outage's own alarm clears (and its repair can verify). */
  async #clearOutageIfOver(parentId: number, at: number): Promise<void> {
    const parent = await this.#writer.store.getTicket(parentId);
    if (!parent?.alarmActive || parent.status === 'closed' || parent.fault !== 'mass_offline') return;
    const open = await this.#writer.store.listTickets({ site: parent.site, open: true });
    if (open.some((t) => t.parentId === parentId && t.alarmActive)) return;
    await this.#cleared({
      site: parent.site,
      assetId: parent.assetId,
      ruleId: parent.ruleId,
      fault: parent.fault,
      category: parent.category,
      severity: parent.severity,
      raisedAt: parent.detectedAt,
      clearedAt: at,
    });
  }
}
