import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../../src/events/event-log.ts';
import { eventTime, openTicketPoints, ticketPoints } from '../../../src/metrics/ticket-points.ts';
import { raisedLeak, ticketHarness } from '../../helpers/domain.ts';
import { ManualScheduler } from '../../helpers/manual-scheduler.ts';

const T0 = Date.parse('2026-12-01T09:00:00Z');
const MIN = 60_000;
const wang = { name: 'wang', role: 'maintainer' };

describe('ticket events as InfluxDB points', () => {
  let scheduler: ManualScheduler;
  let h: Awaited<ReturnType<typeof ticketHarness>>;
  let log: LogEntry[];
  beforeEach(async () => {
    scheduler = new ManualScheduler(T0);
    h = await ticketHarness(':memory:', scheduler);
    log = [];
    h.eventLog.onAppend((entry) => log.push(entry));
  });
  afterEach(async () => {
    await h.store.close();
  });

  it('dates each event at its millisecond with its id below it, so equal tags never collide', () => {
    expect(eventTime({ id: 7, at: T0 })).toBe(`${T0}000007`);
    expect(eventTime({ id: 1_000_003, at: T0 })).toBe(`${T0}000003`);
  });

  it('writes an event point per entry and an SLA outcome when the arrival or repair decides one', async () => {
    await h.tickets.applyAlarm(raisedLeak({ raisedAt: T0 }));
    const [ticket] = await h.store.listTickets({});
    const id = ticket?.id ?? 0;
    await scheduler.advanceTo(T0 + 2 * MIN);
    await h.tickets.arrive(id, wang);
    await scheduler.advanceTo(T0 + 70 * MIN);
    await h.tickets.markBreached(id, 'repair', ticket?.repair.dueAt ?? 0);
    const points = log.map(ticketPoints);
    expect(points.map((p) => p.map((x) => `${x.measurement}:${x.tags?.type ?? x.tags?.outcome}`))).toEqual([
      ['ticket_events:raised'],
      ['ticket_events:arrived', 'sla:met'],
      ['ticket_events:sla_breached', 'sla:breached'],
    ]);
    expect(points[0]?.[0]).toMatchObject({
      tags: { site: 'xincheng', asset: 'leak-b1-riser', category: 'plumbing', severity: 'critical' },
      fields: { count: 1, ticket_id: id, fault: 'leak' },
    });
    // Three minutes to spare on the 5-minute arrival target; a breach is dated at the deadline.
    expect(points[1]?.[1]).toMatchObject({
      tags: { clock: 'arrival' },
      fields: { met: 1, breached: 0, margin_seconds: 180 },
    });
    expect(points[2]?.[1]).toMatchObject({
      tags: { clock: 'repair' },
      fields: { met: 0, breached: 1, margin_seconds: 0 },
    });
  });

  it('snapshots every site and category, zeros included, with a field per open state', async () => {
    await h.tickets.applyAlarm(raisedLeak({ raisedAt: T0 }));
    const open = await h.store.listTickets({ open: true });
    const points = openTicketPoints(open, ['xincheng', 'north'], ['plumbing', 'lock'], T0);
    expect(points).toHaveLength(4);
    expect(points.find((p) => p.tags?.site === 'xincheng' && p.tags.category === 'plumbing')?.fields).toEqual(
      {
        count: 1,
        raised: 1,
        dispatched: 0,
        on_site: 0,
        repaired: 0,
        verified: 0,
      },
    );
    expect(points.find((p) => p.tags?.site === 'north' && p.tags.category === 'lock')?.fields?.count).toBe(0);
  });
});
