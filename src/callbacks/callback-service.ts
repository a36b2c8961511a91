import type { Clock } from '../core/clock.ts';
import { badRequest } from '../core/errors.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { Logger } from '../core/logger.ts';
import {
  type Callback,
  type Instant,
  SATISFACTION_MAX,
  SATISFACTION_MIN,
  type Ticket,
} from '../domain/types.ts';
import type { CallbackFilter, Store } from '../store/store.ts';
import type { Actor } from '../tickets/ticket-writer.ts';
import type { CallbacksConfig } from './config.ts';

/** What the desk heard on the call: a score when somebody answered, and a remark either way. */
export interface CallbackInput {
  reached: boolean;
  score?: number;
  remark?: string;
}

/** A closed ticket on the call-back list, its call-back recorded or still due. */
export interface CallbackItem {
  ticket: Ticket;
  /** `callbacks.dueHours` after the ticket closed. */
  dueAt: Instant;
  /** Still due after `dueAt`, or recorded after it. */
  overdue: boolean;
  callback?: Callback;
}

/**
 * Satisfaction call-backs (issue 13): after a ticket closes, the desk calls whoever reported it
 * and records the satisfaction (1–5 and a remark, or that nobody answered) within
 * `callbacks.dueHours`. Each one is a ticket event (`callback_recorded`, so it is in the ticket's
 * trail and the live feed) and an audit entry.
 */
export class CallbackService {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #bus: EventBus;
  readonly #log: Logger;
  readonly #dueMs: number;

  constructor(deps: { store: Store; clock: Clock; bus: EventBus; log: Logger; config: CallbacksConfig }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#bus = deps.bus;
    this.#log = deps.log;
    this.#dueMs = deps.config.dueHours * 3_600_000;
  }

  dueAt(ticket: Ticket): Instant {
    return (ticket.closedAt ?? ticket.updatedAt) + this.#dueMs;
  }

  /** `due: true`: closed tickets not called back yet, oldest first; else the recorded call-backs, newest first. */
  async list(filter: CallbackFilter): Promise<CallbackItem[]> {
    const now = this.#clock.now();
    return (await this.#store.listCallbacks(filter)).map(({ ticket, callback }) => {
      const dueAt = this.dueAt(ticket);
      return {
        ticket,
        dueAt,
        overdue: (callback?.recordedAt ?? now) > dueAt,
        ...(callback ? { callback } : {}),
      };
    });
  }

  /** Fails 400 on a score missing or out of place, 404/409 as the store does (not closed, recorded already). */
  async record(ticketId: number, input: CallbackInput, actor: Actor): Promise<CallbackItem> {
    const score = checkScore(input);
    const now = this.#clock.now();
    const callback: Callback = {
      ticketId,
      reached: input.reached,
      ...(score === undefined ? {} : { score }),
      ...(input.remark ? { remark: input.remark } : {}),
      recordedBy: actor.name,
      recordedAt: now,
    };
    const closed = await this.#store.getTicket(ticketId);
    const late = closed?.closedAt !== undefined && now > this.dueAt(closed);
    const { ticket, event } = await this.#store.recordCallback(callback, {
      at: now,
      actor: actor.name,
      type: 'callback_recorded',
      detail: {
        reached: input.reached,
        ...(score === undefined ? {} : { score }),
        ...(input.remark ? { remark: input.remark } : {}),
        late,
      },
    });
    this.#bus.emit('ticketChanged', ticket, event);
    await this.#store.addAudit({
      at: now,
      actor: actor.name,
      action: 'callback.recorded',
      target: `ticket:${ticketId}`,
      detail: { workOrder: ticket.workOrder, reached: input.reached, score: score ?? null, late },
    });
    this.#log.info(
      { ticketId, workOrder: ticket.workOrder, reached: input.reached, late },
      'call-back recorded',
    );
    return { ticket, dueAt: this.dueAt(ticket), overdue: late, callback };
  }
}

function checkScore(input: CallbackInput): number | undefined {
  if (!input.reached) {
    if (input.score !== undefined)
      throw badRequest(
        'score_without_answer',
        'nobody was reached: a call-back without an answer has no score',
      );
    return undefined;
  }
  const { score } = input;
  if (score === undefined)
    throw badRequest(
      'score_required',
      `somebody was reached: give their satisfaction (${SATISFACTION_MIN}–${SATISFACTION_MAX})`,
    );
  if (!Number.isInteger(score) || score < SATISFACTION_MIN || score > SATISFACTION_MAX)
    throw badRequest(
      'invalid_score',
      `a satisfaction score is a whole number ${SATISFACTION_MIN}–${SATISFACTION_MAX}`,
    );
  return score;
}
