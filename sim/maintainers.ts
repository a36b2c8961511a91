/**
 * Plays the service desk and the maintainers through xiaoer's real HTTP API: a desk user
 * dispatches each new ticket to a maintainer of its site, who arrives and reports the repair after
 * random delays; the desk closes tickets once the sensor has verified the repair. Delays are taken
 * as shares of the ticket's own SLA windows (`arrival.dueAt`, `repair.dueAt`), so they fit any
 * configuration and any `--speed`; a share `lateShare` of arrivals (and fewer repairs) come after
 * the deadline, so SLA breaches show up as they do in real life.
 */
import { type ApiClient, ApiError, type TicketEventView, type TicketView } from './api-client.ts';
import { Rng } from './rng.ts';

export interface MaintainerBotOptions {
  api: ApiClient;
  adminToken: string;
  sites: readonly string[];
  perSite: number;
  seed: string;
  lateShare: number;
  /** The maintainer reported the repair: the simulated device may recover. */
  onRepaired?(site: string, assetId: string): void;
  onWarning?(message: string): void;
}

type StepKind = 'dispatch' | 'arrive' | 'repaired' | 'close';

interface Step {
  at: number;
  ticketId: number;
  kind: StepKind;
  maintainer: string;
  site: string;
  assetId: string;
  reason?: string;
}

const NAMES = ['王伟', '李娜', '张强', '刘洋', '陈静', '杨磊', '赵敏', '黄勇', '周杰', '吴霞'];
const DESK = 'sim-desk';
const password = (username: string) => `${username}-sim-password`;

export class MaintainerBot {
  readonly stats = { actions: 0, errors: 0 };
  readonly #opts: MaintainerBotOptions;
  readonly #rng: Rng;
  readonly #tokens = new Map<string, string>();
  readonly #crews = new Map<string, string[]>();
  readonly #load = new Map<string, number>();
  /** Ticket id → the maintainer it was given to. */
  readonly #planned = new Map<number, string>();
  #steps: Step[] = [];
  #timer: NodeJS.Timeout | undefined;
  #busy = false;

  constructor(opts: MaintainerBotOptions) {
    this.#opts = opts;
    this.#rng = new Rng(`${opts.seed}/maintainers`);
  }

  /** Creates the desk and maintainer users (admin API) and logs them in; returns the desk's token. */
  async setup(): Promise<string> {
    const { api, adminToken } = this.#opts;
    const desk = await api.ensureUser(adminToken, {
      username: DESK,
      displayName: '一站式服务台 Service desk (simulated)',
      role: 'staff',
      password: password(DESK),
    });
    this.#tokens.set(DESK, desk);
    let n = 0;
    for (const site of this.#opts.sites) {
      const crew: string[] = [];
      for (let i = 1; i <= this.#opts.perSite; i++) {
        const username = `sim-${site}-${i}`;
        const displayName = `${NAMES[n++ % NAMES.length]} (${site}, simulated)`;
        const user = {
          username,
          displayName,
          role: 'maintainer' as const,
          password: password(username),
          sites: [site],
        };
        const token = await api.ensureUser(adminToken, user);
        // On shift at their site: a ticket there is not escalated at once for want of anyone.
        await api.checkIn(token, site);
        this.#tokens.set(username, token);
        crew.push(username);
      }
      this.#crews.set(site, crew);
    }
    return desk;
  }

  start(): void {
    this.#timer ??= setInterval(() => void this.#runDue(), 250);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#steps = [];
  }

  /** Feed callback: plans work for new tickets, closes verified ones, forgets closed ones. */
  onTicket(ticket: TicketView, event: TicketEventView | undefined): void {
    if (ticket.status === 'closed') {
      this.#forget(ticket.id);
      return;
    }
    if (ticket.status === 'verified') {
      this.#closeLater(ticket);
      return;
    }
    if (ticket.parentId !== null) return; // handled through its outage ticket
    const reopened = event?.type === 'reopened';
    if (reopened) this.#forget(ticket.id);
    if (this.#planned.has(ticket.id) || !['raised', 'dispatched'].includes(ticket.status)) return;
    const crew = this.#crews.get(ticket.site);
    if (!crew || crew.length === 0) return;
    this.#plan(
      ticket,
      ticket.assignee && crew.includes(ticket.assignee) ? ticket.assignee : this.#pick(crew),
    );
  }

  #pick(crew: readonly string[]): string {
    const least = Math.min(...crew.map((m) => this.#load.get(m) ?? 0));
    return this.#rng.pick(crew.filter((m) => (this.#load.get(m) ?? 0) === least));
  }

  #plan(t: TicketView, maintainer: string): void {
    const rng = this.#rng;
    const now = Date.now();
    const detected = Date.parse(t.detectedAt);
    const repairDue = Date.parse(t.repair.dueAt ?? t.detectedAt);
    // A request without an arrival target: arrive within the first tenth of the repair window.
    const arrivalDue = t.arrival.dueAt ? Date.parse(t.arrival.dueAt) : detected + (repairDue - detected) / 10;
    const arrivalWindow = Math.max(1000, arrivalDue - detected);
    const late = rng.chance(this.#opts.lateShare);
    const arriveAt = Math.max(
      now + 500,
      detected + arrivalWindow * (late ? rng.float(1.1, 1.6) : rng.float(0.3, 0.9)),
    );
    const dispatchAt = Math.min(arriveAt - 200, now + arrivalWindow * rng.float(0.05, 0.2));
    const lateRepair = rng.chance(this.#opts.lateShare * 0.6);
    const left = repairDue - arriveAt;
    const repairAt =
      lateRepair || left <= 0
        ? Math.max(arriveAt, repairDue) + (repairDue - detected) * rng.float(0.05, 0.25)
        : arriveAt + left * rng.float(0.15, 0.7);
    const base = { ticketId: t.id, maintainer, site: t.site, assetId: t.assetId };
    if (t.status === 'raised') this.#add({ ...base, at: Math.max(now, dispatchAt), kind: 'dispatch' });
    this.#add({ ...base, at: arriveAt, kind: 'arrive' });
    this.#add({ ...base, at: repairAt, kind: 'repaired' });
    // If the sensor never confirms (the fault came back, or a sensor the simulator does not
    // drive), the desk closes the ticket with a reason after another repair window.
    this.#add({
      ...base,
      at: repairAt + (repairDue - detected),
      kind: 'close',
      reason: 'repair reported, not confirmed by the sensor',
    });
    this.#planned.set(t.id, maintainer);
    this.#load.set(maintainer, (this.#load.get(maintainer) ?? 0) + 1);
  }

  #closeLater(t: TicketView): void {
    if (this.#steps.some((s) => s.ticketId === t.id && s.kind === 'close' && !s.reason)) return;
    this.#steps = this.#steps.filter((s) => s.ticketId !== t.id);
    const at = Date.now() + this.#rng.float(1000, 4000);
    this.#add({ ticketId: t.id, maintainer: DESK, site: t.site, assetId: t.assetId, at, kind: 'close' });
  }

  #forget(ticketId: number): void {
    const maintainer = this.#planned.get(ticketId);
    if (maintainer) this.#load.set(maintainer, Math.max(0, (this.#load.get(maintainer) ?? 1) - 1));
    this.#steps = this.#steps.filter((s) => s.ticketId !== ticketId);
    this.#planned.delete(ticketId);
  }

  #add(step: Step): void {
    this.#steps.push(step);
    this.#steps.sort((a, b) => a.at - b.at);
  }

  async #runDue(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      while (this.#steps[0] && this.#steps[0].at <= Date.now()) {
        const step = this.#steps.shift() as Step;
        await this.#run(step);
      }
    } finally {
      this.#busy = false;
    }
  }

  /** Logs a simulated user in again (tokens expire after `auth.tokenTtlHours`). */
  async renew(username: string): Promise<string> {
    const token = await this.#opts.api.login(username, password(username));
    this.#tokens.set(username, token);
    return token;
  }

  /** The desk's login, for following the live feed. */
  renewDesk(): Promise<string> {
    return this.renew(DESK);
  }

  async #run(step: Step, retried = false): Promise<void> {
    const { api } = this.#opts;
    const desk = this.#tokens.get(DESK);
    const path = `/api/tickets/${step.ticketId}`;
    try {
      if (step.kind === 'dispatch') {
        await api.request('POST', `${path}/dispatch`, { token: desk, body: { assignee: step.maintainer } });
      } else if (step.kind === 'arrive') {
        await api.request('POST', `${path}/arrive`, { token: this.#tokens.get(step.maintainer) });
      } else if (step.kind === 'repaired') {
        const note = 'simulated repair';
        await api.request('POST', `${path}/repaired`, {
          token: this.#tokens.get(step.maintainer),
          body: { note },
        });
        this.#opts.onRepaired?.(step.site, step.assetId);
      } else {
        await api.request('POST', `${path}/close`, {
          token: desk,
          body: step.reason ? { reason: step.reason, resolution: 'real_fault' } : {},
        });
      }
      this.stats.actions++;
    } catch (err) {
      if (err instanceof ApiError && err.status === 401 && !retried) {
        await this.renew(step.kind === 'dispatch' || step.kind === 'close' ? DESK : step.maintainer).catch(
          () => {},
        );
        return this.#run(step, true);
      }
      // The ticket moved on without us (closed, part of an outage, reopened): drop its plan.
      if (err instanceof ApiError && [400, 403, 404, 409].includes(err.status))
        return this.#forget(step.ticketId);
      this.stats.errors++;
      this.#opts.onWarning?.(
        `maintainer ${step.maintainer}: ${step.kind} #${step.ticketId}: ${(err as Error).message}`,
      );
    }
  }
}
