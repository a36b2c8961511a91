import type { Ticket, TicketEvent, TicketEventType } from '../../../src/domain/types.ts';
import type { ReportData } from '../../../src/reports/report-data.ts';
import type { TicketHistory } from '../../../src/reports/ticket-facts.ts';

/**
 * Generated ticket histories for the report tests. Each ticket is first *planned* in plain terms
 * (when it was detected, how long each step took net of an SLA pause, whether it was reopened),
 * then written as the event sequence the lifecycle would write. The tests compute the right
 * answers from the plan, never from the events.
 */

export const MIN = 60_000;
export const ARRIVAL_TARGET = 5 * MIN;
export const REPAIR_TARGET = 60 * MIN;
export const ACCESS_REPAIR_TARGET = 120 * MIN;
export const VERIFY_DELAY = 10 * MIN;

export const SITES = ['xincheng', 'north', 'east'] as const;
export const CATEGORIES = ['plumbing', 'lock', 'access'] as const;
export const MAINTAINERS = ['wang', 'li', 'zhao'] as const;
/** asset id → kind, as the config's directory has them. */
export const ASSETS: Record<string, string> = {
  'leak-b1': 'plumbing',
  'lock-3f': 'lock',
  'desk-1': 'desk',
};
const ASSET_OF: Record<string, string> = { plumbing: 'leak-b1', lock: 'lock-3f', access: 'desk-1' };
export const LOCATIONS: Record<string, string> = { 'leak-b1': 'B1 riser', 'lock-3f': '3F east' };

export interface Plan {
  id: number;
  site: string;
  category: (typeof CATEGORIES)[number];
  assetId: string;
  fault: string;
  detectedAt: number;
  maintainer: string;
  manual: boolean;
  /** An SLA pause that begins 1 minute after detection (before the dispatch) and lasts this long. */
  pauseMs: number;
  dispatchNet: number;
  arriveNet: number;
  /** The repair that ends the first cycle (net of the pause). */
  repairNet: number;
  /** `before`: a repair reported at `earlyRepairNet`, undone before verification, then `repairNet`. */
  reopen: 'none' | 'before' | 'after';
  earlyRepairNet: number;
  resolution: 'real_fault' | 'no_fault_found';
  flapping: boolean;
}

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const pick = <T>(rnd: () => number, items: readonly T[]): T => items[Math.floor(rnd() * items.length)] as T;
const between = (rnd: () => number, lo: number, hi: number) => Math.round(lo + rnd() * (hi - lo));

export function randomPlan(rnd: () => number, id: number, detectedAt: number): Plan {
  const category = pick(rnd, CATEGORIES);
  const dispatchNet = between(rnd, 1.5 * MIN, 8 * MIN);
  const arriveNet = dispatchNet + between(rnd, 0, 6 * MIN);
  const repairNet = arriveNet + between(rnd, 10 * MIN, 100 * MIN);
  const reopen = pick(rnd, ['none', 'none', 'before', 'after'] as const);
  return {
    id,
    site: pick(rnd, SITES),
    category,
    assetId: ASSET_OF[category] as string,
    fault: category === 'lock' ? pick(rnd, ['offline', 'jammed']) : `${category}_fault`,
    detectedAt,
    maintainer: pick(rnd, MAINTAINERS),
    manual: category === 'access',
    pauseMs: rnd() < 0.3 ? between(rnd, 1 * MIN, 45 * MIN) : 0,
    dispatchNet,
    arriveNet,
    repairNet,
    reopen: category === 'access' ? 'none' : reopen,
    earlyRepairNet: arriveNet + Math.round((repairNet - arriveNet) / 3),
    resolution: rnd() < 0.25 ? 'no_fault_found' : 'real_fault',
    flapping: rnd() < 0.15,
  };
}

export const targets = (p: Pick<Plan, 'category'>) => ({
  arrival: p.category === 'access' ? null : ARRIVAL_TARGET,
  repair: p.category === 'access' ? ACCESS_REPAIR_TARGET : REPAIR_TARGET,
});

type Draft = { at: number; type: TicketEventType; actor: string; detail: Record<string, unknown> };

/** The event sequence the lifecycle writes for a plan (in the order it writes them). */
export function eventsOf(p: Plan): Draft[] {
  const t = targets(p);
  const D = p.detectedAt;
  const wall = (net: number) => D + net + (net > MIN ? p.pauseMs : 0);
  const arrivalDue = t.arrival === null ? undefined : D + t.arrival + p.pauseMs;
  const repairDue = D + t.repair + p.pauseMs;
  const ruleId = p.manual ? undefined : `${p.category}-rule`;
  const out: Draft[] = [];
  const add = (
    at: number,
    type: TicketEventType,
    detail: Record<string, unknown> = {},
    actor = 'system:rules',
  ) => out.push({ at, type, actor, detail });
  add(D, 'raised', ruleId ? { ruleId, cause: null } : { note: null }, ruleId ? 'system:rules' : 'desk');
  if (p.pauseMs > 0) {
    add(D + MIN, 'sla_paused', { windowId: 1 }, 'system:maintenance');
    add(D + MIN + p.pauseMs, 'sla_resumed', { windowId: 1, pausedMs: p.pauseMs }, 'system:maintenance');
  }
  if (p.flapping) add(D + 1.2 * MIN + p.pauseMs, 'flapping', { ruleId, cause: null });
  add(wall(p.dispatchNet), 'dispatched', { assignee: p.maintainer }, 'desk');
  const arrivedAt = wall(p.arriveNet);
  if (arrivalDue !== undefined && arrivedAt > arrivalDue)
    add(arrivalDue, 'sla_breached', { clock: 'arrival', dueAt: arrivalDue }, 'system:sla');
  const arrivalMet = arrivalDue === undefined ? null : arrivedAt <= arrivalDue;
  add(arrivedAt, 'arrived', { met: arrivalMet, dueAt: arrivalDue ?? null, presence: 'qr' }, p.maintainer);
  const repaired = (net: number) => {
    const at = wall(net);
    add(
      at,
      'repaired',
      {
        met: at <= repairDue,
        dueAt: repairDue,
        note: null,
        resolution: null,
        verification: p.manual ? 'manual' : 'by the sensor',
      },
      p.maintainer,
    );
    return at;
  };
  let breached = false;
  const breachIfDue = (before: number) => {
    if (!breached && repairDue < before) {
      add(repairDue, 'sla_breached', { clock: 'repair', dueAt: repairDue }, 'system:sla');
      breached = true;
    }
  };
  if (p.reopen === 'before') {
    const early = wall(p.earlyRepairNet);
    breachIfDue(early);
    repaired(p.earlyRepairNet);
    const reopenAt = early + 2 * MIN;
    add(reopenAt, 'reopened', {
      previousStatus: 'repaired',
      ruleId,
      cause: null,
      repairClock: 'continues from detection',
    });
    // The deadline passed while the ticket stood repaired: the scheduler records it once it runs again.
    breachIfDue(reopenAt);
  }
  breachIfDue(wall(p.repairNet));
  const repairedAt = repaired(p.repairNet);
  let end = repairedAt;
  if (!p.manual) {
    end = repairedAt + VERIFY_DELAY;
    add(end, 'verified', { clearFor: VERIFY_DELAY }, 'system:sensor');
  }
  if (p.reopen === 'after') {
    const reopenAt = end + 30 * MIN;
    add(reopenAt, 'reopened', { previousStatus: 'verified', ruleId, cause: null, repairClock: 'restarted' });
    // The second cycle: a new repair clock from the reopen, missed on purpose (it must not count).
    add(
      reopenAt + REPAIR_TARGET,
      'sla_breached',
      { clock: 'repair', dueAt: reopenAt + REPAIR_TARGET },
      'system:sla',
    );
    add(
      reopenAt + 2 * REPAIR_TARGET,
      'repaired',
      { met: false, dueAt: reopenAt + REPAIR_TARGET, verification: 'by the sensor' },
      p.maintainer,
    );
    end = reopenAt + 2 * REPAIR_TARGET + VERIFY_DELAY;
    add(end, 'verified', { clearFor: VERIFY_DELAY }, 'system:sensor');
  }
  add(end + 5 * MIN, 'closed', { reason: null, resolution: p.resolution }, 'desk');
  return out;
}

let eventIds = 0;

/** The ticket row and its events, for a plan. */
export function historyOf(p: Plan): TicketHistory {
  const drafts = eventsOf(p);
  const t = targets(p);
  const ticket = {
    id: p.id,
    workOrder: `XC-${p.id}`,
    site: p.site,
    assetId: p.assetId,
    category: p.category,
    fault: p.fault,
    meaning: p.manual ? 'reported' : 'condition',
    severity: 'major',
    status: 'closed',
    ruleId: p.manual ? 'manual' : `${p.category}-rule`,
    alarmActive: false,
    raisedAt: p.detectedAt,
    detectedAt: p.detectedAt,
    arrival: t.arrival === null ? {} : { dueAt: p.detectedAt + t.arrival + p.pauseMs },
    repair: { dueAt: p.detectedAt + t.repair + p.pauseMs },
    assignee: p.maintainer,
    updatedAt: p.detectedAt,
    flapping: p.flapping,
    reopenCount: p.reopen === 'none' ? 0 : 1,
    escalation: { arrival: 0, repair: 0 },
  } as unknown as Ticket;
  const events: TicketEvent[] = drafts.map((d) => ({ ...d, id: ++eventIds, ticketId: p.id }));
  return { ticket, events };
}

const SITE_NAMES: Record<string, string> = { xincheng: '新城大厦', north: 'North', east: 'East' };

export const directory: ReportData['directory'] = {
  site: (id: string) => (SITE_NAMES[id] ? ({ id, name: SITE_NAMES[id] } as never) : undefined),
  category: (id: string) => ({ name: `cat:${id}` }) as never,
  asset: (site: string, id: string) =>
    ASSETS[id]
      ? ({
          site,
          id,
          kind: ASSETS[id],
          category: ASSETS[id],
          name: `asset ${id}`,
          ...(LOCATIONS[id] ? { location: LOCATIONS[id] } : {}),
        } as never)
      : undefined,
};

export function dataOf(
  plans: readonly Plan[],
  asOf = Number.MAX_SAFE_INTEGER,
  satisfaction?: Map<number, number>,
): ReportData {
  return {
    histories: plans.map(historyOf),
    asOf,
    directory,
    ...(satisfaction ? { satisfaction } : {}),
  };
}
