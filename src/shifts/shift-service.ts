import { assertSite } from '../auth/site-scope.ts';
import type { Directory } from '../config/directory.ts';
import type { Clock } from '../core/clock.ts';
import { badRequest, XiaoerError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Service } from '../core/service.ts';
import type { Instant, Shift, ShiftVia, User } from '../domain/types.ts';
import type { Store } from '../store/store.ts';

export interface ShiftServiceDeps {
  store: Store;
  directory: Directory;
  clock: Clock;
  log: Logger;
  /** A shift open longer than this counts as ended. */
  maxHours: number;
}

type Worker = Pick<User, 'username' | 'sites'>;

/**
 * Who is on shift where. Maintainers check in at a site (a button, or the QR label at the
 * entrance) and out at the end; checking in elsewhere ends the shift before. The open shifts are
 * held in memory (one per user, so bounded by the users admins created), loaded from the store at
 * start; a shift older than `maxHours` counts as ended. Every check-in and check-out is in the
 * audit log.
 */
export class ShiftService implements Service {
  readonly name = 'shifts';
  readonly #deps: ShiftServiceDeps;
  readonly #maxMs: number;
  /** Open shifts by user name. */
  readonly #open = new Map<string, Shift>();

  constructor(deps: ShiftServiceDeps) {
    this.#deps = deps;
    this.#maxMs = deps.maxHours * 3_600_000;
  }

  async start(): Promise<void> {
    this.#open.clear();
    const now = this.#deps.clock.now();
    for (const shift of await this.#deps.store.listOpenShifts()) {
      if (this.#current(shift, now)) this.#open.set(shift.username, shift);
      // Ended for good at the time it stopped counting, so the store agrees with what is shown.
      else await this.#expire(shift);
    }
  }

  async stop(): Promise<void> {
    this.#open.clear();
  }

  /** Another instance checked someone in or out (src/cluster): the open shifts read again. */
  async refresh(): Promise<void> {
    await this.start();
  }

  /**
   * Starts the user's shift at `site`. Already on shift there: the same shift (scanning the
   * entrance label twice is harmless). On shift elsewhere: that one ends now.
   */
  async checkIn(user: Worker, site: string, via: ShiftVia): Promise<Shift> {
    if (!this.#deps.directory.site(site)) throw badRequest('unknown_site', `site ${site} is not configured`);
    assertSite(user, site);
    const now = this.#deps.clock.now();
    const before = this.#open.get(user.username);
    if (before && this.#current(before, now) && before.site === site) return before;
    const endOpenAt = before && !this.#current(before, now) ? this.#expiry(before) : now;
    const { shift, ended } = await this.#deps.store.startShift(
      { username: user.username, site, startedAt: now, via },
      endOpenAt,
    );
    this.#open.set(user.username, shift);
    if (ended)
      await this.#audit(user.username, 'shift.checked_out', ended, { reason: 'checked_in_elsewhere' });
    await this.#audit(user.username, 'shift.checked_in', shift, {});
    this.#deps.log.info({ username: user.username, site, via }, 'checked in');
    return shift;
  }

  /** Ends the user's shift; 404 `no_shift` when none is open (or it is too old to count). */
  async checkOut(username: string): Promise<Shift> {
    const now = this.#deps.clock.now();
    const open = this.#open.get(username);
    if (open && !this.#current(open, now)) await this.#expire(open);
    if (!open || !this.#current(open, now)) {
      throw new XiaoerError('no_shift', `${username} is not checked in anywhere`, { httpStatus: 404 });
    }
    const ended = (await this.#deps.store.endShift(username, now)) ?? { ...open, endedAt: now };
    this.#open.delete(username);
    await this.#audit(username, 'shift.checked_out', ended, {});
    this.#deps.log.info({ username, site: ended.site }, 'checked out');
    return ended;
  }

  /** The user's open shift, if it still counts. */
  current(username: string): Shift | undefined {
    const shift = this.#open.get(username);
    return shift && this.#current(shift, this.#deps.clock.now()) ? shift : undefined;
  }

  /** Open shifts (of one site, or all), oldest first. */
  list(site?: string): Shift[] {
    const now = this.#deps.clock.now();
    return [...this.#open.values()]
      .filter((s) => this.#current(s, now) && (site === undefined || s.site === site))
      .sort((a, b) => a.startedAt - b.startedAt);
  }

  /** Whether anybody is checked in at the site now. */
  staffed(site: string): boolean {
    const now = this.#deps.clock.now();
    for (const s of this.#open.values()) if (s.site === site && this.#current(s, now)) return true;
    return false;
  }

  #current(shift: Shift, now: Instant): boolean {
    return shift.endedAt === undefined && now < this.#expiry(shift);
  }

  #expiry(shift: Shift): Instant {
    return shift.startedAt + this.#maxMs;
  }

  async #expire(shift: Shift): Promise<void> {
    this.#open.delete(shift.username);
    const ended = await this.#deps.store.endShift(shift.username, this.#expiry(shift));
    if (ended) await this.#audit('system:shifts', 'shift.checked_out', ended, { reason: 'expired' });
  }

  async #audit(actor: string, action: string, shift: Shift, extra: Record<string, unknown>): Promise<void> {
    await this.#deps.store.addAudit({
      at: this.#deps.clock.now(),
      actor,
      action,
      target: `shift:${shift.id}`,
      detail: {
        username: shift.username,
        site: shift.site,
        via: shift.via,
        startedAt: new Date(shift.startedAt).toISOString(),
        ...(shift.endedAt === undefined ? {} : { endedAt: new Date(shift.endedAt).toISOString() }),
        ...extra,
      },
    });
  }
}
