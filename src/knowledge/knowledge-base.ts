import { randomUUID } from 'node:crypto';
import type { Directory } from '../config/directory.ts';
import type { Clock } from '../core/clock.ts';
import { badRequest, notFound } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { KB_HINT_MAX_CHARS, type KbEntry } from '../domain/types.ts';
import type { KbFilter, Store } from '../store/store.ts';
import { DEFAULT_ENTRIES } from './defaults.ts';

/** Set once the default entries were added, so an admin's deletions stay deleted. */
const DEFAULTS_SETTING = 'kb.defaultsAdded';
const SYSTEM_DEFAULTS = 'system:defaults';

export interface KbInput {
  category: string;
  fault?: string | null;
  title: string;
  hint: string;
  body?: string;
}

export type KbChanges = Partial<KbInput>;

/**
 * What to check first for a fault, per category and fault code (or for the whole category):
 * kept by admins, shown on the maintainer's phone page and in the robot messages. A repair note
 * becomes an entry in one step (`fromTicket`). Every change is in the audit log.
 */
export class KnowledgeBase {
  readonly #store: Store;
  readonly #directory: Directory;
  readonly #clock: Clock;
  readonly #log: Logger;

  constructor(deps: { store: Store; directory: Directory; clock: Clock; log: Logger }) {
    this.#store = deps.store;
    this.#directory = deps.directory;
    this.#clock = deps.clock;
    this.#log = deps.log;
  }

  /** On the very first start, a few entries for the configured categories (the desk's common faults). */
  async addDefaultsOnce(): Promise<void> {
    const marker = randomUUID();
    if ((await this.#store.settingOrInit(DEFAULTS_SETTING, marker)) !== marker) return;
    const now = this.#clock.now();
    const entries = DEFAULT_ENTRIES.filter((e) => this.#directory.categoryExists(e.category));
    for (const e of entries)
      await this.#store.addKb({ ...e, createdBy: SYSTEM_DEFAULTS, createdAt: now, updatedAt: now });
    this.#log.info({ entries: entries.length }, 'knowledge base: default entries added');
  }

  list(filter: KbFilter = {}): Promise<KbEntry[]> {
    return this.#store.listKb(filter);
  }

  async get(id: number): Promise<KbEntry> {
    const entry = await this.#store.getKb(id);
    if (!entry) throw notFound('knowledge-base entry', id);
    return entry;
  }

  async create(input: KbInput, actor: string, sourceTicketId?: number): Promise<KbEntry> {
    this.#check(input);
    const now = this.#clock.now();
    const entry = await this.#store.addKb({
      category: input.category,
      ...(input.fault ? { fault: input.fault } : {}),
      title: input.title,
      hint: input.hint,
      body: input.body ?? '',
      createdBy: actor,
      createdAt: now,
      updatedAt: now,
      ...(sourceTicketId === undefined ? {} : { sourceTicketId }),
    });
    await this.#audit(actor, 'kb.created', entry, { ...view(entry), sourceTicketId: sourceTicketId ?? null });
    return entry;
  }

  async update(id: number, changes: KbChanges, actor: string): Promise<KbEntry> {
    const before = await this.get(id);
    this.#check({ ...view(before), ...changes });
    const entry = await this.#store.updateKb(id, {
      ...changes,
      ...(changes.fault === '' ? { fault: null } : {}),
      updatedAt: this.#clock.now(),
    });
    await this.#audit(actor, 'kb.updated', entry, { ...changes, before: view(before) });
    return entry;
  }

  async remove(id: number, actor: string): Promise<void> {
    const before = await this.get(id);
    await this.#store.deleteKb(id);
    await this.#audit(actor, 'kb.deleted', before, { before: view(before) });
  }

  /**
   * A new entry from a ticket's repair: its category and fault, and the note the maintainer left
   * when reporting the repair (the hint unless one is given).
   */
  async fromTicket(
    ticketId: number,
    actor: string,
    opts: { title?: string; hint?: string } = {},
  ): Promise<KbEntry> {
    const ticket = await this.#store.getTicket(ticketId);
    if (!ticket) throw notFound('ticket', ticketId);
    const note = (await this.#store.listTicketEvents(ticketId))
      .filter((e) => e.type === 'repaired' && typeof e.detail.note === 'string' && e.detail.note.trim())
      .map((e) => (e.detail.note as string).trim())
      .pop();
    const hint = opts.hint ?? note?.slice(0, KB_HINT_MAX_CHARS);
    if (!hint) {
      throw badRequest('no_repair_note', `ticket ${ticketId} has no repair note; give the hint yourself`);
    }
    const categoryName = this.#directory.category(ticket.category)?.name ?? ticket.category;
    return this.create(
      {
        category: ticket.category,
        fault: ticket.fault,
        title: opts.title ?? `${categoryName}: ${ticket.fault}`.slice(0, 200),
        hint,
        body: note ?? '',
      },
      actor,
      ticketId,
    );
  }

  /** Hints for a fault, best first: entries for that exact fault, then those for the whole category. */
  async hintsFor(category: string, fault: string): Promise<KbEntry[]> {
    const entries = await this.#store.listKb({ category });
    const newest = (a: KbEntry, b: KbEntry) => b.updatedAt - a.updatedAt || b.id - a.id;
    return [
      ...entries.filter((e) => e.fault === fault).sort(newest),
      ...entries.filter((e) => e.fault === undefined).sort(newest),
    ];
  }

  #check(input: KbInput): void {
    if (!this.#directory.categoryExists(input.category)) {
      throw badRequest('unknown_category', `category ${input.category} is not configured`, {
        known: this.#directory.categoryIds(),
      });
    }
    if (input.hint.length > KB_HINT_MAX_CHARS)
      throw badRequest('hint_too_long', `a hint has at most ${KB_HINT_MAX_CHARS} characters`);
  }

  async #audit(
    actor: string,
    action: string,
    entry: KbEntry,
    detail: Record<string, unknown>,
  ): Promise<void> {
    await this.#store.addAudit({ at: this.#clock.now(), actor, action, target: `kb:${entry.id}`, detail });
  }
}

function view(e: KbEntry): KbInput {
  return { category: e.category, fault: e.fault ?? null, title: e.title, hint: e.hint, body: e.body };
}
