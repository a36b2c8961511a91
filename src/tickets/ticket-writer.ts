import type { Directory } from '../config/directory.ts';
import type { Clock } from '../core/clock.ts';
import { notFound } from '../core/errors.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { Logger } from '../core/logger.ts';
import type { Instant, Ticket, TicketEventType, TicketStatus } from '../domain/types.ts';
import { workOrderPrefix } from '../domain/work-order.ts';
import type { NewTicket, NewTicketEvent, Store, TicketGuard, TicketPatch } from '../store/store.ts';

export interface Actor {
  /** A user name, or `system:<component>` for automatic changes. */
  name: string;
  role?: string;
}

/** What a lifecycle step changes; `updatedAt` is stamped by the writer. */
export type TicketChange = Omit<TicketPatch, 'updatedAt'>;

export const SYSTEM_RULES: Actor = { name: 'system:rules' };
export const SYSTEM_SLA: Actor = { name: 'system:sla' };
export const SYSTEM_CORRELATION: Actor = { name: 'system:correlation' };
export const SYSTEM_MAINTENANCE: Actor = { name: 'system:maintenance' };

export { BEFORE_ARRIVAL, BEFORE_REPAIR, OPEN_STATUSES } from './clocks.ts';

export type NewTicketFields = Omit<
  NewTicket,
  'status' | 'raisedAt' | 'updatedAt' | 'flapping' | 'reopenCount' | 'escalation'
> &
  Partial<Pick<NewTicket, 'flapping'>>;

/**
 * The one place tickets are written: every change is a store transaction together with its
 * event (the audit trail: who, when, what), then announced on the bus.
 */
export class TicketWriter {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #bus: EventBus;
  readonly #log: Logger;
  readonly #directory: Directory;

  constructor(deps: { store: Store; clock: Clock; bus: EventBus; log: Logger; directory: Directory }) {
    this.#directory = deps.directory;
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#bus = deps.bus;
    this.#log = deps.log;
  }

  get store(): Store {
    return this.#store;
  }

  now(): Instant {
    return this.#clock.now();
  }

  async get(id: number): Promise<Ticket> {
    const ticket = await this.#store.getTicket(id);
    if (!ticket) throw notFound('ticket', id);
    return ticket;
  }

  async create(fields: NewTicketFields, actor: Actor, detail: Record<string, unknown>): Promise<Ticket> {
    const now = this.#clock.now();
    const { ticket, event } = await this.#store.createTicket(
      {
        flapping: false,
        ...fields,
        status: 'raised',
        raisedAt: now,
        updatedAt: now,
        reopenCount: 0,
        escalation: { arrival: 0, repair: 0 },
      },
      { at: now, actor: actor.name, type: 'raised', detail },
      // The day the fault was detected, where the site is: the number the desk says on the phone.
      workOrderPrefix(this.#directory.siteCode(fields.site), fields.detectedAt, this.#directory.timeZone),
    );
    this.#log.info(
      {
        ticketId: ticket.id,
        workOrder: ticket.workOrder,
        site: ticket.site,
        assetId: ticket.assetId,
        fault: ticket.fault,
      },
      'ticket raised',
    );
    this.#bus.emit('ticketChanged', ticket, event);
    return ticket;
  }

  async update(
    ticket: Ticket,
    change: TicketChange,
    type: TicketEventType,
    actor: Actor,
    detail: Record<string, unknown>,
    opts: { at?: Instant; expect?: readonly TicketStatus[]; guard?: TicketGuard } = {},
  ): Promise<Ticket> {
    const now = this.#clock.now();
    const event: NewTicketEvent = { at: opts.at ?? now, actor: actor.name, type, detail };
    const result = await this.#store.updateTicket(
      ticket.id,
      { ...change, updatedAt: now },
      event,
      opts.expect,
      opts.guard,
    );
    this.#bus.emit('ticketChanged', result.ticket, result.event);
    return result.ticket;
  }
}
