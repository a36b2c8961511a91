import type { Directory } from '../config/directory.ts';
import { badRequest } from '../core/errors.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { Logger } from '../core/logger.ts';
import type { Cancel, Scheduler } from '../core/scheduler.ts';
import type { Service } from '../core/service.ts';
import type { Instant, MaintenanceWindow } from '../domain/types.ts';
import type { Store } from '../store/store.ts';
import type { TicketService } from '../tickets/ticket-service.ts';

/** Windows ended longer ago than this are not looked at on start-up (the config's ceiling). */
const MAX_WINDOW_MS = 30 * 86_400_000;

export interface MaintenanceLimits {
  maxDurationHours: number;
  maxLeadDays: number;
}

export interface NewWindow {
  site: string;
  assetId?: string;
  startsAt: Instant;
  endsAt: Instant;
  reason: string;
}

/**
 * Planned work: while a window is on, the rules of its asset (or whole site) are silent and the
 * SLA clocks of its open tickets are paused; when it ends, the deadlines move out by the pause.
 * Windows and every pause are recorded (who planned it, which tickets paused and for how long).
 */
export interface MaintenanceDeps {
  store: Store;
  tickets: TicketService;
  directory: Directory;
  scheduler: Scheduler;
  bus: EventBus;
  log: Logger;
  limits: MaintenanceLimits;
}

export class MaintenanceService implements Service {
  readonly name = 'maintenance';
  readonly #deps: MaintenanceDeps;
  readonly #windows = new Map<number, MaintenanceWindow>();
  readonly #timers = new Map<number, Cancel>();
  #running = false;

  constructor(deps: MaintenanceDeps) {
    this.#deps = deps;
  }

  async start(): Promise<void> {
    this.#running = true;
    // Windows that ended while xiaoer was down still have tickets to resume, at their true end.
    const now = this.#deps.scheduler.now();
    const windows = await this.#deps.store.listMaintenanceWindows(now - MAX_WINDOW_MS);
    // All known first, so that resuming after one window sees another that still covers a ticket.
    for (const w of windows) this.#windows.set(w.id, w);
    for (const w of windows) await this.#sync(w);
  }

  /**
   * Another instance planned or cancelled a window (src/cluster): the windows read again. A new
   * one is armed here too; one cancelled there is dropped here, and alarms it held back may be
   * raised (the instance that cancelled it resumed the tickets' clocks).
   */
  async refresh(): Promise<void> {
    if (!this.#running) return;
    const now = this.#deps.scheduler.now();
    const windows = await this.#deps.store.listMaintenanceWindows(now - MAX_WINDOW_MS);
    const current = new Set(windows.map((w) => w.id));
    for (const [id, w] of [...this.#windows]) {
      if (current.has(id)) continue;
      this.#windows.delete(id);
      this.#timers.get(id)?.();
      this.#timers.delete(id);
      this.#deps.bus.emit('maintenanceOver', w);
    }
    for (const w of windows) {
      if (this.#windows.has(w.id)) continue;
      this.#windows.set(w.id, w);
      await this.#sync(w);
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    for (const cancel of this.#timers.values()) cancel();
    this.#timers.clear();
  }

  /** Whether the asset's rules are silenced by a window at `at`. */
  isSilenced(site: string, assetId: string, at: Instant): boolean {
    for (const w of this.#windows.values()) if (covers(w, site, assetId) && isOn(w, at)) return true;
    return false;
  }

  list(): MaintenanceWindow[] {
    return [...this.#windows.values()].sort((a, b) => a.startsAt - b.startsAt);
  }

  async create(input: NewWindow, by: string): Promise<MaintenanceWindow> {
    const now = this.#deps.scheduler.now();
    if (!this.#deps.directory.site(input.site))
      throw badRequest('unknown_site', `site ${input.site} is not configured`);
    if (!(input.endsAt > input.startsAt)) throw badRequest('invalid_window', 'endsAt must be after startsAt');
    if (input.endsAt <= now) throw badRequest('invalid_window', 'the window is already over');
    const { maxDurationHours, maxLeadDays } = this.#deps.limits;
    // Planned work, not a way to silence a site for years (maintenance.maxDurationHours).
    if (input.endsAt - input.startsAt > maxDurationHours * 3_600_000)
      throw badRequest('invalid_window', `a window lasts ${maxDurationHours} hours at most`, {
        maxDurationHours,
      });
    if (input.startsAt - now > maxLeadDays * 86_400_000)
      throw badRequest('invalid_window', `a window starts at most ${maxLeadDays} days ahead`, {
        maxLeadDays,
      });
    const w = await this.#deps.store.addMaintenanceWindow({ ...input, createdBy: by, createdAt: now });
    await this.#deps.store.addAudit({
      at: now,
      actor: by,
      action: 'maintenance.planned',
      target: `maintenance:${w.id}`,
      detail: {
        site: w.site,
        assetId: w.assetId ?? null,
        startsAt: w.startsAt,
        endsAt: w.endsAt,
        reason: w.reason,
      },
    });
    this.#windows.set(w.id, w);
    this.#deps.log.info(
      { windowId: w.id, site: w.site, assetId: w.assetId, by },
      'maintenance window planned',
    );
    await this.#sync(w);
    return w;
  }

  async cancel(id: number, by: string): Promise<MaintenanceWindow> {
    const w = await this.#deps.store.cancelMaintenanceWindow(id, by, this.#deps.scheduler.now());
    await this.#deps.store.addAudit({
      at: this.#deps.scheduler.now(),
      actor: by,
      action: 'maintenance.cancelled',
      target: `maintenance:${id}`,
      detail: { site: w.site, assetId: w.assetId ?? null },
    });
    const wasOn =
      this.#windows.has(id) && isOn(this.#windows.get(id) as MaintenanceWindow, this.#deps.scheduler.now());
    this.#windows.delete(id);
    this.#timers.get(id)?.();
    this.#timers.delete(id);
    if (wasOn) {
      await this.#resume(w);
      this.#deps.bus.emit('maintenanceOver', w);
    }
    return w;
  }

  /** Brings tickets in line with the window now, and arms the next change (start or end). */
  async #sync(w: MaintenanceWindow): Promise<void> {
    if (!this.#running) return;
    const now = this.#deps.scheduler.now();
    this.#timers.get(w.id)?.();
    if (now >= w.endsAt) {
      this.#windows.delete(w.id);
      this.#timers.delete(w.id);
      await this.#resume(w);
      this.#deps.bus.emit('maintenanceOver', w);
      return;
    }
    if (now >= w.startsAt) await this.#pause(w);
    const next = now < w.startsAt ? w.startsAt : w.endsAt;
    const timer = this.#deps.scheduler.at(next, () => {
      this.#sync(w).catch((err: unknown) =>
        this.#deps.log.error({ err, windowId: w.id }, 'maintenance window step failed'),
      );
    });
    this.#timers.set(w.id, timer);
  }

  async #pause(w: MaintenanceWindow): Promise<void> {
    for (const t of await this.#inScope(w))
      await this.#deps.tickets.pauseSla(t.id, Math.max(w.startsAt, t.raisedAt), w.id);
  }

  /** Resumes the window's tickets, unless another window still covers them. */
  async #resume(w: MaintenanceWindow): Promise<void> {
    const now = this.#deps.scheduler.now();
    for (const t of await this.#inScope(w)) {
      // A window over before this pause began did not cause it (after a restart, windows come in any order).
      if (t.slaPausedAt === undefined || (w.cancelledAt ?? w.endsAt) <= t.slaPausedAt) continue;
      if (this.isSilenced(t.site, t.assetId, now)) continue;
      await this.#deps.tickets.resumeSla(t.id, Math.min(now, w.cancelledAt ?? w.endsAt), w.id);
    }
  }

  async #inScope(w: MaintenanceWindow) {
    const open = await this.#deps.store.listTickets({
      site: w.site,
      open: true,
      ...(w.assetId ? { assetId: w.assetId } : {}),
    });
    return open;
  }
}

function covers(w: MaintenanceWindow, site: string, assetId: string): boolean {
  return w.site === site && (w.assetId === undefined || w.assetId === assetId);
}

function isOn(w: MaintenanceWindow, at: Instant): boolean {
  return at >= w.startsAt && at < w.endsAt && w.cancelledAt === undefined;
}
