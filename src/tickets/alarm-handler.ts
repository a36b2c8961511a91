import type { Directory } from '../config/directory.ts';
import { XiaoerError } from '../core/errors.ts';
import type { Alarm, AlarmTransition, Instant, Ticket } from '../domain/types.ts';
import { isOutage, isUnavailable, newClocks, OPEN_STATUSES, triggerOf } from './clocks.ts';
import type { TicketsConfig } from './config.ts';
import type { Correlator } from './correlation.ts';
import { SYSTEM_CORRELATION, SYSTEM_RULES, type TicketChange, type TicketWriter } from './ticket-writer.ts';

/**
 * What an alarm does to tickets: raise one (or reopen the same one when the fault comes back),
 * note repeats and clearings on the open one, start the sensor's verification of a reported
 * repair, mark flapping, and hand offline faults to the correlator.
 *
 * Outage tickets (a site's gateway gone, or many devices offline at once) take the offline
 * tickets of their devices as children while their alarm is active. When their cause is gone
 * their alarm clears and a recovery is due `correlation.recoverySeconds` later (see
 * OutageResolver); should the cause come back before that, the alarm is simply active again.
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
    if (await this.#onExisting(alarm)) return;
    await this.#correlator.serialise(alarm, async () => {
      // Another alarm of the site may have raised it while this one waited its turn.
      if (await this.#onExisting(alarm)) return;
      await this.#raiseNew(alarm);
    });
  }

  /** The alarm on an open ticket, or one repaired recently; false when a new ticket is needed. */
  async #onExisting(alarm: Alarm): Promise<boolean> {
    const open = await this.#writer.store.findOpenTicket(alarm);
    if (open && (await this.#continue(open, alarm))) return true;
    const recent = await this.#writer.store.findRecentlyClosedTicket(alarm, this.#reopenSince());
    // Only a repaired ticket comes back; one closed unrepaired (a false alarm) stays closed.
    if (recent?.repair.verifiedAt === undefined) return false;
    await this.#reopen(recent, alarm);
    return true;
  }

  /** The alarm continues an open ticket: repeat, or reopen a repair. False if that ticket is done. */
  async #continue(open: Ticket, alarm: Alarm): Promise<boolean> {
    if (open.status === 'verified' && (open.repair.verifiedAt ?? 0) < this.#reopenSince()) {
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
      return false;
    }
    if (open.status === 'repaired' || open.status === 'verified') await this.#reopen(open, alarm);
    else await this.#repeat(open, alarm);
    return true;
  }

  /** A new ticket, in the site's queue for offline and outage faults. */
  async #raiseNew(alarm: Alarm): Promise<void> {
    if (!isOutage(alarm)) {
      await this.#create(alarm, await this.#outageFor(alarm));
      return;
    }
    // A second cause of the same site outage (gateway gone while many devices are offline) joins it.
    const outage = await this.#correlator.openOutage(alarm.site);
    if (!outage || !(await this.#continue(outage, alarm))) await this.#create(alarm, undefined);
  }

  /** The outage a new offline fault belongs to: one under way, or one it starts (mass offline). */
  async #outageFor(alarm: Alarm): Promise<number | undefined> {
    if (!isUnavailable(alarm)) return undefined;
    const outage = await this.#correlator.openOutage(alarm.site);
    if (outage?.alarmActive) return outage.id;
    const parentAlarm = this.#correlator.massOutage(alarm.site, alarm.raisedAt);
    if (!parentAlarm) return undefined;
    if (!outage || !(await this.#continue(outage, parentAlarm))) await this.#create(parentAlarm, undefined);
    return (await this.#correlator.openOutage(alarm.site))?.id;
  }

  async #create(alarm: Alarm, parentId: number | undefined): Promise<void> {
    const trigger = triggerOf(alarm);
    const ticket = await this.#writer.create(
      {
        site: alarm.site,
        assetId: alarm.assetId,
        category: alarm.category,
        fault: alarm.fault,
        meaning: alarm.meaning,
        severity: alarm.severity,
        ruleId: alarm.ruleId,
        alarmActive: true,
        alarmChangedAt: alarm.raisedAt,
        detectedAt: alarm.raisedAt,
        ...newClocks(alarm.raisedAt, this.#directory.slaFor(alarm.category)),
        flapping: alarm.flapping === true,
        ...(parentId !== undefined ? { parentId } : {}),
        ...(trigger ? { trigger } : {}),
      },
      alarm.ruleId === 'correlation' ? SYSTEM_CORRELATION : SYSTEM_RULES,
      this.#detail(alarm),
    );
    this.#correlator.noteRaised(ticket);
    if (isOutage(ticket)) await this.#correlator.adoptOpenOffline(ticket, alarm.raisedAt);
  }

  /** The fault is reported again on its open ticket. */
  async #repeat(open: Ticket, alarm: Alarm): Promise<void> {
    const change: TicketChange = { alarmActive: true, alarmChangedAt: alarm.raisedAt };
    // The ticket follows the rule now reporting its fault (e.g. a hotline ticket the sensor
    // confirms), so that after a restart the right rule is re-armed from it. An outage keeps its
    // own: a second cause joining it is not what it is about.
    if (!isOutage(open)) change.ruleId = alarm.ruleId;
    // An outage whose cause is back is no longer recovering.
    else change.verifyDueAt = null;
    const newlyFlapping = alarm.flapping === true && !open.flapping;
    if (newlyFlapping) change.flapping = true;
    const updated = await this.#writer.update(
      open,
      change,
      newlyFlapping ? 'flapping' : 'alarm_repeated',
      SYSTEM_RULES,
      { ...this.#detail(alarm), fault: alarm.fault },
      { at: alarm.raisedAt, expect: OPEN_STATUSES },
    );
    await this.#afterAlarmChange(updated, alarm.raisedAt);
  }

  /**
   * The fault came back. Before the sensor verified the repair, the repair never happened: its
   * clock goes on from detection. After verification it is a recurrence: the repair clock restarts.
   */
  async #reopen(ticket: Ticket, alarm: Alarm): Promise<void> {
    const unverified = ticket.status === 'repaired';
    const trigger = triggerOf(alarm);
    const change: TicketChange = {
      status: ticket.assignee ? 'dispatched' : 'raised',
      alarmActive: true,
      alarmChangedAt: alarm.raisedAt,
      reopenCount: ticket.reopenCount + 1,
      repairAt: null,
      repairMet: null,
      repairVerifiedAt: null,
      verifyDueAt: null,
      closedAt: null,
      resolution: null,
      slaPausedAt: null,
      ...(trigger ? { trigger } : {}),
    };
    if (!isOutage(ticket)) change.ruleId = alarm.ruleId;
    if (!unverified) {
      change.repairDueAt = alarm.raisedAt + this.#directory.slaFor(ticket.category).repairMs;
      change.repairBreachedAt = null;
      change.repairEscalation = 0;
    }
    const updated = await this.#writer.update(
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
        ...this.#detail(alarm),
      },
      { at: alarm.raisedAt, expect: [ticket.status] },
    );
    await this.#afterAlarmChange(updated, alarm.raisedAt);
  }

  async #cleared(alarm: Alarm): Promise<void> {
    // The gateway coming back ends the site's outage, whichever cause raised its ticket.
    const open =
      (await this.#writer.store.findOpenTicket(alarm)) ??
      (isOutage(alarm) ? await this.#correlator.openOutage(alarm.site) : undefined);
    if (!open || (isOutage(open) && !open.alarmActive)) return;
    const at = alarm.clearedAt ?? this.#writer.now();
    const change: TicketChange = { alarmActive: false, alarmChangedAt: at };
    if (isOutage(open)) change.verifyDueAt = at + this.#correlator.recoveryMs;
    // A repair reported while the fault was still on is verified once it has stayed clear.
    else if (open.status === 'repaired' && open.verifyDueAt === undefined) {
      change.verifyDueAt = at + this.#config.verifyMinutes * 60_000;
    }
    const updated = await this.#writer.update(
      open,
      change,
      'alarm_cleared',
      SYSTEM_RULES,
      this.#detail(alarm),
      {
        at,
        expect: OPEN_STATUSES,
      },
    );
    await this.#afterAlarmChange(updated, at);
  }

  /** An outage takes the devices offline with it; a device's change may end or revive its outage. */
  async #afterAlarmChange(ticket: Ticket, at: Instant): Promise<void> {
    if (isOutage(ticket) && ticket.alarmActive) await this.#correlator.adoptOpenOffline(ticket, at);
    if (ticket.parentId !== undefined) await this.#reassessMassOutage(ticket.parentId, at);
  }

  /**
   * A mass outage lasts while more than the threshold of its devices are offline: at or below it,
   * what is left are devices' own faults (after the recovery time); above it again, it is back.
   */
  async #reassessMassOutage(parentId: number, at: Instant): Promise<void> {
    const parent = await this.#writer.store.getTicket(parentId);
    if (!parent || parent.status === 'closed' || parent.fault !== 'mass_offline') return;
    const active = (await this.#correlator.children(parent)).filter((t) => t.alarmActive).length;
    const over = active > this.#correlator.threshold;
    if (over === parent.alarmActive) return;
    const change: TicketChange = over
      ? { alarmActive: true, alarmChangedAt: at, verifyDueAt: null }
      : { alarmActive: false, alarmChangedAt: at, verifyDueAt: at + this.#correlator.recoveryMs };
    await this.#writer.update(
      parent,
      change,
      over ? 'alarm_repeated' : 'alarm_cleared',
      SYSTEM_CORRELATION,
      { devicesOffline: active, threshold: this.#correlator.threshold },
      { at, expect: OPEN_STATUSES },
    );
  }

  #reopenSince(): Instant {
    return this.#writer.now() - this.#config.reopenHours * 3_600_000;
  }

  #detail(alarm: Alarm): Record<string, unknown> {
    return { ruleId: alarm.ruleId, cause: alarm.cause ?? null };
  }
}
