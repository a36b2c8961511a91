import { afterEach, describe, expect, it } from 'vitest';
import { CallbackService } from '../../../src/callbacks/callback-service.ts';
import type { TicketEvent } from '../../../src/domain/types.ts';
import type { Store } from '../../../src/store/store.ts';
import { silentLog, ticketHarness } from '../../helpers/domain.ts';
import { ManualScheduler } from '../../helpers/manual-scheduler.ts';

const T0 = Date.parse('2026-12-01T01:00:00Z');
const HOUR = 3_600_000;
const DESK = { name: 'desk' };

describe('CallbackService', () => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
  });

  async function closedTicket() {
    const scheduler = new ManualScheduler(T0);
    const h = await ticketHarness(':memory:', scheduler);
    store = h.store;
    const callbacks = new CallbackService({ ...h, log: silentLog, config: { dueHours: 48 } });
    const raised = await h.tickets.raiseManual(
      { site: 'xincheng', assetId: 'leak-b1-riser', fault: 'leak', category: 'plumbing' },
      DESK,
    );
    await scheduler.advance(HOUR);
    const ticket = await h.tickets.close(raised.id, DESK, { reason: 'fixed', resolution: 'real_fault' });
    const heard: TicketEvent[] = [];
    h.bus.on('ticketChanged', (_t, e) => heard.push(e));
    return { ...h, scheduler, callbacks, ticket, heard };
  }

  it('is due dueHours after closing, and overdue after that', async () => {
    const h = await closedTicket();
    const dueAt = T0 + HOUR + 48 * HOUR;
    expect(await h.callbacks.list({ due: true })).toEqual([{ ticket: h.ticket, dueAt, overdue: false }]);
    await h.scheduler.advanceTo(dueAt + 1);
    expect((await h.callbacks.list({ due: true }))[0]?.overdue).toBe(true);
  });

  it('records a late call-back as late, on the bus and in the audit', async () => {
    const h = await closedTicket();
    await h.scheduler.advance(49 * HOUR);
    const item = await h.callbacks.record(h.ticket.id, { reached: true, score: 2, remark: '太慢' }, DESK);
    expect(item).toMatchObject({ overdue: true, callback: { score: 2, recordedBy: 'desk' } });
    expect(h.heard).toEqual([
      expect.objectContaining({
        type: 'callback_recorded',
        detail: { reached: true, score: 2, remark: '太慢', late: true },
      }),
    ]);
    expect((await h.store.listAudit({ limit: 5, offset: 0 }))[0]).toMatchObject({
      action: 'callback.recorded',
      target: `ticket:${h.ticket.id}`,
      detail: { workOrder: h.ticket.workOrder, reached: true, score: 2, late: true },
    });
    const recorded = await h.callbacks.list({});
    expect(recorded.map((r) => [r.ticket.id, r.overdue, r.callback?.score])).toEqual([
      [h.ticket.id, true, 2],
    ]);
  });

  it('wants a score exactly when somebody answered', async () => {
    const h = await closedTicket();
    await expect(h.callbacks.record(h.ticket.id, { reached: true }, DESK)).rejects.toMatchObject({
      code: 'score_required',
      httpStatus: 400,
    });
    await expect(h.callbacks.record(h.ticket.id, { reached: false, score: 3 }, DESK)).rejects.toMatchObject({
      code: 'score_without_answer',
    });
    await expect(h.callbacks.record(h.ticket.id, { reached: true, score: 0 }, DESK)).rejects.toMatchObject({
      code: 'invalid_score',
    });
    expect(h.heard).toEqual([]);
  });
});
