import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDay } from '../../src/domain/work-order.ts';
import type { TicketDto } from '../../src/tickets/ticket-dto.ts';
import { readSse } from '../helpers/sse.ts';
import { startTestApp, type TestApp } from '../helpers/test-app.ts';
import { waitFor } from '../helpers/wait.ts';

type Err = { error: { code: string; message: string } };
type Callback = {
  reached: boolean;
  score: number | null;
  remark: string | null;
  recordedBy: string;
  recordedAt: string;
};
type Item = { ticket: TicketDto; dueAt: string; overdue: boolean; callback: Callback | null };
type Detail = TicketDto & { events: { type: string; actor: string; detail: Record<string, unknown> }[] };

const HOUR = 3_600_000;

describe('work-order numbers and satisfaction call-backs over the API', () => {
  let t: TestApp;
  let admin: string;
  let desk: string;
  let northDesk: string;
  let wang: string;

  const user = async (username: string, role: 'staff' | 'maintainer', sites: string[]) => {
    const res = await t.request('POST', '/api/users', {
      token: admin,
      body: { username, displayName: username, role, password: `${username}-password`, sites },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return t.login(username, `${username}-password`);
  };
  const raise = async (site: string, assetId: string, fault: string) => {
    const res = await t.request<TicketDto>('POST', '/api/tickets', {
      token: desk,
      body: { site, assetId, fault },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };
  const close = async (id: number) => {
    const res = await t.request<TicketDto>('POST', `/api/tickets/${id}/close`, {
      token: desk,
      body: { reason: 'fixed on the phone', resolution: 'real_fault' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };
  const search = async (q: string, token = desk) =>
    (
      await t.request<{ tickets: TicketDto[] }>('GET', `/api/tickets?q=${encodeURIComponent(q)}`, { token })
    ).body.tickets.map((x) => x.workOrder);
  const due = async (query = '', token = desk) =>
    t.request<{ callbacks: Item[] }>('GET', `/api/callbacks?due=true${query}`, { token });
  const callBack = (id: number, body: unknown, token = desk) =>
    t.request<Item & Err>('POST', `/api/tickets/${id}/callback`, { token, body });

  beforeAll(async () => {
    t = await startTestApp();
    admin = await t.adminToken();
    desk = await user('desk', 'staff', []);
    northDesk = await user('north-desk', 'staff', ['north']);
    wang = await user('wang', 'maintainer', []);
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('numbers tickets per site and day, shows the number in the DTO and finds tickets by it', async () => {
    const leak = await raise('xincheng', 'leak-b1-riser', 'leak');
    const lock = await raise('xincheng', 'lock-3f-east', 'jammed');
    const north = await raise('north', 'leak-b1-riser', 'leak');
    const day = (x: TicketDto) => localDay(Date.parse(x.detectedAt), 'Asia/Shanghai');
    expect([leak.workOrder, lock.workOrder, north.workOrder]).toEqual([
      `XC-${day(leak)}-001`,
      `XC-${day(lock)}-002`,
      `NO-${day(north)}-001`,
    ]);

    expect(await search(lock.workOrder)).toEqual([lock.workOrder]);
    expect(await search(`xc${day(leak)}`)).toEqual([lock.workOrder, leak.workOrder]);
    expect(await search(`${day(north)}-001`)).toEqual([north.workOrder, leak.workOrder]);
    expect(await search(String(north.id))).toContain(north.workOrder);
    // Another site's tickets stay hidden from a desk scoped to north.
    expect(await search(leak.workOrder, northDesk)).toEqual([]);
    expect(await search(`${day(north)}-001`, northDesk)).toEqual([north.workOrder]);
    const got = await t.request<Detail>('GET', `/api/tickets/${leak.id}`, { token: wang });
    expect(got.body.workOrder).toBe(leak.workOrder);
    const typo = await t.request<Err>('GET', '/api/tickets?query=XC', { token: desk });
    expect(typo.status).toBe(400);
  });

  it('lists due call-backs, records one per closed ticket in the log, the live feed and the audit', async () => {
    const feed = await readSse(`${t.baseUrl}/api/live?token=${desk}`);
    try {
      const leak = await raise('xincheng', 'hvac-2f-office', 'too_warm');
      const north = await raise('north', 'lock-3f-east', 'jammed');
      const later = await raise('north', 'hvac-2f-office', 'too_warm');

      const early = await callBack(leak.id, { reached: true, score: 5 });
      expect([early.status, early.body.error.code]).toEqual([409, 'ticket_not_closed']);

      const closedLeak = await close(leak.id);
      await close(north.id);
      await close(later.id);

      const list = await due();
      expect(list.status).toBe(200);
      const mine = list.body.callbacks.filter((c) => [leak.id, north.id, later.id].includes(c.ticket.id));
      expect(mine.map((c) => c.ticket.id)).toEqual([leak.id, north.id, later.id]);
      expect(mine[0]).toMatchObject({
        overdue: false,
        callback: null,
        ticket: { workOrder: leak.workOrder },
      });
      expect(Date.parse(mine[0]?.dueAt ?? '')).toBe(Date.parse(closedLeak.closedAt ?? '') + 48 * HOUR);
      const northOnly = await due('', northDesk);
      expect(new Set(northOnly.body.callbacks.map((c) => c.ticket.site))).toEqual(new Set(['north']));
      expect((await due('&site=xincheng')).body.callbacks.map((c) => c.ticket.site)).not.toContain('north');
      expect((await due('', wang)).status).toBe(403);
      expect((await due('&overdue=true')).status).toBe(400);

      const noScore = await callBack(leak.id, { reached: true, remark: '满意' });
      expect([noScore.status, noScore.body.error.code]).toEqual([400, 'score_required']);
      const scoreAlone = await callBack(leak.id, { reached: false, score: 3 });
      expect([scoreAlone.status, scoreAlone.body.error.code]).toEqual([400, 'score_without_answer']);
      expect((await callBack(leak.id, { reached: true, score: 6 })).status).toBe(400);
      expect((await callBack(leak.id, { reached: true, score: 4, mood: 'ok' })).status).toBe(400);
      expect((await callBack(leak.id, { reached: true, score: 4 }, northDesk)).status).toBe(404);
      expect((await callBack(leak.id, { reached: true, score: 4 }, wang)).status).toBe(403);

      const recorded = await callBack(leak.id, { reached: true, score: 4, remark: '师傅来得很快' });
      expect(recorded.status, JSON.stringify(recorded.body)).toBe(201);
      expect(recorded.body).toMatchObject({
        ticket: { id: leak.id, workOrder: leak.workOrder, status: 'closed' },
        overdue: false,
        callback: { reached: true, score: 4, remark: '师傅来得很快', recordedBy: 'desk' },
      });
      const again = await callBack(leak.id, { reached: false });
      expect([again.status, again.body.error.code]).toEqual([409, 'callback_exists']);
      const unanswered = await callBack(north.id, { reached: false }, northDesk);
      expect(unanswered.status).toBe(201);
      expect(unanswered.body.callback).toMatchObject({ reached: false, score: null, remark: null });

      const stillDue = (await due()).body.callbacks.map((c) => c.ticket.id);
      expect(stillDue).toContain(later.id);
      expect(stillDue).not.toContain(leak.id);
      const done = await t.request<{ callbacks: Item[] }>('GET', '/api/callbacks?due=false', { token: desk });
      expect(done.body.callbacks.map((c) => [c.ticket.id, c.callback?.score ?? null])).toEqual([
        [north.id, null],
        [leak.id, 4],
      ]);

      const detail = await t.request<Detail>('GET', `/api/tickets/${leak.id}`, { token: desk });
      expect(detail.body.events.at(-1)).toMatchObject({
        type: 'callback_recorded',
        actor: 'desk',
        detail: { reached: true, score: 4, remark: '师傅来得很快', late: false },
      });
      await waitFor(
        () =>
          feed.events.some((e) => {
            const data = JSON.parse(e.data) as { ticket?: TicketDto; event?: { type: string } };
            return data.event?.type === 'callback_recorded' && data.ticket?.id === leak.id;
          })
            ? true
            : undefined,
        { what: 'the call-back on the live feed' },
      );
      const audit = await t.request<{ entries: { action: string; target: string; actor: string }[] }>(
        'GET',
        '/api/audit',
        { token: admin },
      );
      expect(audit.body.entries).toContainEqual(
        expect.objectContaining({ action: 'callback.recorded', target: `ticket:${leak.id}`, actor: 'desk' }),
      );
    } finally {
      feed.close();
    }
  });
});
