import { connect } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { notifySchema } from '../../src/notify/config.ts';
import type { TicketDto } from '../../src/tickets/ticket-dto.ts';
import { startReceiver } from '../helpers/http-receiver.ts';
import { readSse } from '../helpers/sse.ts';
import { startTestApp, type TestApp } from '../helpers/test-app.ts';
import { waitFor } from '../helpers/wait.ts';

/** The desk's view of tickets through the API: one DTO everywhere, strict input, my tickets, deadlines. */
describe('the desk API', () => {
  let t: TestApp;
  let staff: string;
  let wangToken: string;
  let hook: Awaited<ReturnType<typeof startReceiver>>;
  beforeEach(async () => {
    hook = await startReceiver(() => ({ status: 200, body: {} }));
    t = await startTestApp({
      override: (c) => {
        c.mqtt.subscribers = [
          { username: 'bms-reader', password: 'reader-password', topics: ['xiaoer/out/#'] },
        ];
        c.notify = notifySchema.parse({
          webhooks: [{ id: 'archive', kind: 'generic', url: `${hook.url}/hook` }],
        });
      },
    });
    staff = await t.userToken('desk', 'staff');
    wangToken = await t.userToken('wang', 'maintainer');
    await t.userToken('li', 'maintainer');
  });
  afterEach(async () => {
    await t.stop();
    await hook.close();
  });

  const list = async (query = '', token = staff) => {
    const res = await t.request<{ tickets: TicketDto[] }>('GET', `/api/tickets${query}`, { token });
    expect(res.status).toBe(200);
    return res.body.tickets;
  };

  it('refuses unknown body fields with 400 and changes nothing', async () => {
    const gw = await t.gateway('xincheng');
    await gw.publishAsync('xincheng/zigbee2mqtt/leak-b1-riser', '{"water_leak":true}', { qos: 1 });
    const [ticket] = await list();
    if (!ticket) throw new Error('no ticket');
    await t.request('POST', `/api/tickets/${ticket.id}/arrive`, { token: wangToken });
    const before = await t.request<{ events: unknown[] }>('GET', `/api/tickets/${ticket.id}`, {
      token: staff,
    });

    const typo = await t.request<{ error: { code: string; message: string } }>(
      'POST',
      `/api/tickets/${ticket.id}/repaired`,
      { token: wangToken, body: { notes: 'replaced the hose' } },
    );
    expect(typo.status).toBe(400);
    expect(typo.body.error.code).toBe('invalid_request');
    expect(typo.body.error.message).toContain('unknown key "notes" (did you mean "note"?)');
    const after = await t.request<TicketDto & { events: unknown[] }>('GET', `/api/tickets/${ticket.id}`, {
      token: staff,
    });
    expect(after.body.status).toBe('on_site');
    expect(after.body.events).toHaveLength(before.body.events.length);

    const done = await t.request<TicketDto>('POST', `/api/tickets/${ticket.id}/repaired`, {
      token: wangToken,
      body: { note: 'replaced the hose' },
    });
    expect(done.body.status).toBe('repaired');
    const unknownQuery = await t.request<{ error: { message: string } }>(
      'GET',
      '/api/tickets?stauts=raised',
      {
        token: staff,
      },
    );
    expect(unknownQuery.status).toBe(400);
    expect(unknownQuery.body.error.message).toContain('unknown key "stauts" (did you mean "status"?)');
  });

  it('lists my tickets and sorts by the nearest deadline', async () => {
    const raise = async (assetId: string, category?: string) =>
      (
        await t.request<TicketDto>('POST', '/api/tickets', {
          token: staff,
          body: { site: 'north', assetId, fault: 'reported', ...(category ? { category } : {}) },
        })
      ).body;
    const lock = await raise('lock-3f-east');
    const access = await raise('badge-new-staff', 'access');
    const leak = await raise('leak-b1-riser');
    await t.request('POST', `/api/tickets/${lock.id}/dispatch`, { token: staff, body: { assignee: 'wang' } });
    await t.request('POST', `/api/tickets/${leak.id}/dispatch`, { token: staff, body: { assignee: 'li' } });
    // Wang is on site at the leak: its arrival clock stopped, its repair clock (1 h) runs on.
    await t.request('POST', `/api/tickets/${leak.id}/arrive`, { token: await t.login('li', 'li-password') });

    expect((await list('?assignee=me', wangToken)).map((x) => x.id)).toEqual([lock.id]);
    expect((await list('?assignee=li')).map((x) => x.id)).toEqual([leak.id]);
    // Lock: arrival due in 5 min; leak: repair due in 60 min; access request: done within 2 h.
    expect((await list('?sort=deadline')).map((x) => x.id)).toEqual([lock.id, leak.id, access.id]);
    expect(access.arrival).toMatchObject({ dueAt: null, state: 'none', remainingSeconds: null });
    expect(access.repair.state).toBe('running');
    expect(access.repair.remainingSeconds).toBeGreaterThan(119 * 60);
    expect(access.categoryName).toContain('人员门禁开通');
  });

  it('sends one ticket, with what the desk needs, alike over REST, the live feed, MQTT-out and a webhook', async () => {
    const sse = await readSse(`${t.baseUrl}/api/live?token=${staff}`);
    const reader = connect(t.mqttUrl, {
      username: 'bms-reader',
      password: 'reader-password',
      reconnectPeriod: 0,
    });
    const outbound: { ticket: TicketDto; version: number }[] = [];
    reader.on('message', (_topic, payload) => outbound.push(JSON.parse(payload.toString())));
    await reader.subscribeAsync('xiaoer/out/#', { qos: 1 });
    try {
      const gw = await t.gateway('xincheng');
      await gw.publishAsync('xincheng/zigbee2mqtt/hvac-2f-office', '{"local_temperature":29.5}', { qos: 1 });
      const [rest] = await list();
      if (!rest) throw new Error('no ticket');
      expect(rest).toMatchObject({
        siteName: '新城大厦 Xincheng Tower',
        assetName: '2F office thermostat',
        location: '2F open office',
        categoryName: '空调维修 HVAC',
        fault: 'over_temperature',
        trigger: { metric: 'temperature_c', value: 29.5, unit: '°C', limit: { above: 28 } },
        arrival: { state: 'running' },
        repair: { state: 'running', verifiedAt: null },
        flapping: false,
        reopenCount: 0,
        escalation: { arrival: 0, repair: 0 },
        paused: false,
        verifyDueAt: null,
        parentId: null,
      });
      expect(rest.arrival.remainingSeconds).toBeGreaterThan(4 * 60);
      expect(rest.arrival.remainingSeconds).toBeLessThanOrEqual(5 * 60);
      const live = await waitFor(() => sse.events.find((e) => e.event === 'ticket'), { what: 'SSE ticket' });
      const mqtt = await waitFor(() => outbound[0], { what: 'MQTT-out message' });
      const webhook = await waitFor(
        () => hook.received[0]?.body as { ticket: TicketDto; version: number } | undefined,
        {
          what: 'the webhook delivery',
        },
      );
      const liveTicket = (JSON.parse(live.data) as { ticket: TicketDto }).ticket;
      // The same fields and values everywhere; only the time left is computed when each is sent.
      const timeless = (x: TicketDto) => ({
        ...x,
        arrival: { ...x.arrival, remainingSeconds: 0 },
        repair: { ...x.repair, remainingSeconds: 0 },
      });
      for (const other of [liveTicket, mqtt.ticket, webhook.ticket])
        expect(timeless(other)).toEqual(timeless(rest));
      expect(mqtt.version).toBe(1);
      expect(webhook.version).toBe(1);
      // ISO 8601 everywhere: no epoch milliseconds leave xiaoer.
      for (const t2 of [rest, liveTicket, mqtt.ticket]) {
        expect(t2.detectedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
        expect(t2.trigger?.at).toMatch(/^\d{4}-\d\d-\d\dT/);
      }
    } finally {
      sse.close();
      await reader.endAsync(true);
    }
  });

  it('refuses manual tickets in categories that are not own keys of the config', async () => {
    for (const category of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const res = await t.request<{ error: { code: string } }>('POST', '/api/tickets', {
        token: staff,
        body: { site: 'north', assetId: 'x', fault: 'y', category },
      });
      expect(res.status, category).toBe(400);
      expect(res.body.error.code).toBe('unknown_category');
    }
    expect(await list()).toEqual([]);
  });
});
