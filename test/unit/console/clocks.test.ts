import { describe, expect, it } from 'vitest';
import { byDeadline, clockView } from '../../../dashboards/console/src/components/desk/clocks';
import type { Clock, Ticket } from '../../../dashboards/console/src/types';

const T0 = Date.parse('2026-12-07T08:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

function clock(over: Partial<Clock> = {}): Clock {
  return {
    dueAt: null,
    at: null,
    breachedAt: null,
    met: null,
    state: 'running',
    remainingSeconds: null,
    ...over,
  };
}

/** A ticket detected at T0 with the bureau's targets: on site in 5 min, repaired in 60. */
function ticket(id: number, over: Partial<Ticket> = {}, detectedAt = T0): Ticket {
  return {
    id,
    site: 'xincheng',
    siteName: '新城大厦',
    assetId: 'leak-b1-riser',
    assetName: 'B1 riser leak sensor',
    location: null,
    category: 'plumbing',
    categoryName: 'Plumbing',
    fault: 'water_leak',
    meaning: 'condition',
    severity: 'critical',
    status: 'raised',
    ruleId: 'water-leak',
    alarmActive: true,
    raisedAt: iso(detectedAt),
    detectedAt: iso(detectedAt),
    updatedAt: iso(detectedAt),
    closedAt: null,
    resolution: null,
    arrival: clock({ dueAt: iso(detectedAt + 5 * 60_000) }),
    repair: { ...clock({ dueAt: iso(detectedAt + 60 * 60_000) }), verifiedAt: null },
    assignee: null,
    parentId: null,
    flapping: false,
    reopenCount: 0,
    escalation: { arrival: 0, repair: 0 },
    paused: false,
    slaPausedAt: null,
    verifyDueAt: null,
    trigger: null,
    ...over,
  };
}

describe('the board countdown', () => {
  it('counts against dueAt on the client clock, green until a fifth of the target is left', () => {
    const t = ticket(1);
    expect(clockView(t, 'arrival', T0 + 1000)).toEqual({ state: 'ok', seconds: 299 });
    // 5 min target: amber at 60 s left, not before.
    expect(clockView(t, 'arrival', T0 + 239_000).state).toBe('ok');
    expect(clockView(t, 'arrival', T0 + 240_000)).toEqual({ state: 'near', seconds: 60 });
    expect(clockView(t, 'arrival', T0 + 301_000)).toEqual({ state: 'breached', seconds: -1 });
  });

  it('turns amber at once when the arrival escalation was already told (nobody on shift)', () => {
    const t = ticket(1, { escalation: { arrival: 1, repair: 0 } });
    expect(clockView(t, 'arrival', T0 + 1000).state).toBe('near');
    expect(clockView(t, 'repair', T0 + 1000).state).toBe('ok');
  });

  it('keeps counting a missed clock over its deadline while the ticket is open, and shows decided ones', () => {
    const missed = ticket(1, { arrival: clock({ dueAt: iso(T0 + 300_000), state: 'missed', met: false }) });
    expect(clockView(missed, 'arrival', T0 + 420_000)).toEqual({ state: 'breached', seconds: -120 });
    const late = ticket(2, {
      arrival: clock({ dueAt: iso(T0 + 300_000), at: iso(T0 + 400_000), state: 'missed', met: false }),
    });
    expect(clockView(late, 'arrival', T0 + 420_000)).toEqual({ state: 'missed', seconds: null });
    const met = ticket(3, {
      arrival: clock({ dueAt: iso(T0 + 300_000), at: iso(T0 + 60_000), state: 'met' }),
    });
    expect(clockView(met, 'arrival', T0 + 420_000).state).toBe('met');
  });

  it('shows a paused clock frozen at the time it had, and no countdown without a target', () => {
    const paused = ticket(1, {
      arrival: clock({ dueAt: iso(T0 + 300_000), state: 'paused', remainingSeconds: 180 }),
    });
    expect(clockView(paused, 'arrival', T0 + 3_600_000)).toEqual({ state: 'paused', seconds: 180 });
    const request = ticket(2, { arrival: clock({ state: 'none' }) });
    expect(clockView(request, 'arrival', T0)).toEqual({ state: 'none', seconds: null });
  });
});

describe('the board order', () => {
  it('puts counting clocks first, the nearest (or most overdue) deadline first', () => {
    const now = T0 + 10 * 60_000;
    const overdue = ticket(3); // arrival due T0+5 min: 5 min over
    const fresh = ticket(1, {}, T0 + 9 * 60_000); // arrival due in 4 min
    const onSite = ticket(2, {
      status: 'on_site',
      arrival: clock({ dueAt: iso(T0 + 300_000), at: iso(T0 + 120_000), state: 'met' }),
    }); // only the repair counts: due T0+60 min
    const done = ticket(4, {
      status: 'verified',
      arrival: clock({ dueAt: iso(T0), state: 'met' }),
      repair: { ...clock({ dueAt: iso(T0), state: 'met' }), verifiedAt: iso(T0) },
    });
    const order = [done, onSite, fresh, overdue].sort(byDeadline(now)).map((t) => t.id);
    expect(order).toEqual([3, 1, 2, 4]);
  });
});
