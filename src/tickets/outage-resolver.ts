import { XiaoerError } from '../core/errors.ts';
import type { Instant, Ticket } from '../domain/types.ts';
import { isOutage, OPEN_STATUSES } from './clocks.ts';
import type { Correlator } from './correlation.ts';
import { type Actor, SYSTEM_CORRELATION, type TicketWriter } from './ticket-writer.ts';

/**
 * The end of an outage ticket, for its children: a device whose own alarm is still active leaves
 * the outage and stands alone (dispatchable, with SLA clocks from its own first detection, which
 * were never stopped, only not counted while linked); one whose alarm has cleared is resolved
 * with the outage. An outage whose cause has stayed gone for the recovery time is verified by
 * that recovery, with nobody having to close it first.
 */
export class OutageResolver {
  readonly #writer: TicketWriter;
  readonly #correlator: Correlator;

  constructor(deps: { writer: TicketWriter; correlator: Correlator }) {
    this.#writer = deps.writer;
    this.#correlator = deps.correlator;
  }

  /** Called by the SLA scheduler at `verifyDueAt` of an outage whose alarm has cleared. */
  async recover(id: number, dueAt: Instant): Promise<Ticket | undefined> {
    const parent = await this.#writer.store.getTicket(id);
    if (!parent || !isOutage(parent) || parent.status === 'closed') return undefined;
    if (parent.alarmActive || parent.verifyDueAt !== dueAt) return undefined;
    const recoveredAt = parent.alarmChangedAt ?? dueAt;
    const outcome = await this.releaseChildren(parent, SYSTEM_CORRELATION, recoveredAt);
    const repairMet = parent.repair.met ?? recoveredAt <= parent.repair.dueAt;
    return guarded(() =>
      this.#writer.update(
        parent,
        {
          status: 'verified',
          repairAt: parent.repair.at ?? recoveredAt,
          repairMet,
          repairVerifiedAt: dueAt,
          verifyDueAt: null,
        },
        'verified',
        SYSTEM_CORRELATION,
        { by: 'recovery', recoveredAt: new Date(recoveredAt).toISOString(), ...outcome },
        { at: dueAt, expect: OPEN_STATUSES, guard: { verifyDueAt: dueAt } },
      ),
    );
  }

  /** Each open child: alone again if its alarm is active, else resolved with the outage. */
  async releaseChildren(
    parent: Ticket,
    actor: Actor,
    at: Instant,
  ): Promise<{ detached: number[]; resolved: number[] }> {
    const outcome = { detached: [] as number[], resolved: [] as number[] };
    for (const child of await this.#correlator.children(parent)) {
      const done = await guarded(() =>
        child.alarmActive
          ? this.#writer.update(
              child,
              { parentId: null },
              'detached',
              actor,
              { parentId: parent.id, reason: `still offline after outage ticket ${parent.id} ended` },
              { expect: [child.status] },
            )
          : this.#writer.update(
              child,
              { status: 'closed', closedAt: at, slaPausedAt: null },
              'closed',
              actor,
              { reason: `resolved with outage ticket ${parent.id}` },
              { at, expect: [child.status] },
            ),
      );
      if (done) (child.alarmActive ? outcome.detached : outcome.resolved).push(child.id);
    }
    return outcome;
  }
}

/** A system step that lost a race to a person's action is simply not needed any more. */
export async function guarded(step: () => Promise<Ticket>): Promise<Ticket | undefined> {
  try {
    return await step();
  } catch (err) {
    if (err instanceof XiaoerError && err.code === 'ticket_conflict') return undefined;
    throw err;
  }
}
