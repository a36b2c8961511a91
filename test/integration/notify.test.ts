import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startReceiver } from '../helpers/http-receiver.ts';
import { freePort } from '../helpers/ports.ts';
import { startTestApp, type TestApp } from '../helpers/test-app.ts';
import { waitFor } from '../helpers/wait.ts';

const LEAK = JSON.stringify({ water_leak: true });

describe('notifications', () => {
  let t: TestApp | undefined;
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await t?.stop();
    t = undefined;
    for (const close of closers.splice(0)) await close();
  });

  it('delivers WeCom and DingTalk robot messages, retrying failures with backoff', async () => {
    // WeCom answers "too fast" (errcode 45009) once; DingTalk fails with HTTP 502 twice.
    const wecom = await startReceiver((_r, n) => ({
      status: 200,
      body: n === 1 ? { errcode: 45009, errmsg: 'api freq out of limit' } : { errcode: 0, errmsg: 'ok' },
    }));
    const ding = await startReceiver((_r, n) =>
      n <= 2 ? { status: 502, body: {} } : { status: 200, body: { errcode: 0, errmsg: 'ok' } },
    );
    closers.push(wecom.close, ding.close);
    t = await startTestApp({
      override: (c) => {
        c.notify.webhooks = [
          {
            id: 'desk-wecom',
            kind: 'wecom',
            url: `${wecom.url}/cgi-bin/webhook/send?key=k1`,
            events: ['raised'],
            // A local receiver answers at once; a long time-out keeps a slow machine from adding retries.
            timeoutMs: 15_000,
            maxAttempts: 5,
            retryBaseMs: 50,
            deadAfterMinutes: 30,
            retryMaxMs: 1000,
          },
          {
            id: 'desk-ding',
            kind: 'dingtalk',
            url: `${ding.url}/robot/send?access_token=t1`,
            secret: 'SECabc',
            events: ['raised'],
            timeoutMs: 15_000,
            maxAttempts: 5,
            retryBaseMs: 50,
            deadAfterMinutes: 30,
            retryMaxMs: 1000,
          },
        ];
      },
    });
    const gw = await t.gateway('xincheng');
    await gw.publishAsync('xincheng/zigbee2mqtt/leak-b1-riser', LEAK, { qos: 1 });
    await waitFor(() => (wecom.received.length >= 2 && ding.received.length >= 3 ? true : undefined), {
      what: 'robot deliveries',
    });
    expect(wecom.received[1]).toMatchObject({
      path: '/cgi-bin/webhook/send',
      body: { msgtype: 'markdown', markdown: { content: expect.stringContaining('【新工单】') } },
    });
    const last = ding.received[2];
    expect(last?.body).toMatchObject({
      msgtype: 'markdown',
      markdown: { title: expect.stringContaining('B1 riser leak sensor') },
    });
    expect(last?.query.get('access_token')).toBe('t1');
    expect(last?.query.get('sign')).toMatch(/^[A-Za-z0-9+/]+=*$/);
    // The receivers counted the last answer before xiaoer read it: wait for xiaoer's own figures.
    const token = await t.adminToken();
    const app = t;
    const health = await waitFor(
      async () => {
        const h = (
          await app.request<{ notify: { webhooks: { id: string; delivered: number; retries: number }[] } }>(
            'GET',
            '/api/health',
            { token },
          )
        ).body;
        return h.notify.webhooks.every((w) => w.delivered === 1) ? h : undefined;
      },
      { what: 'both deliveries counted' },
    );
    expect(health.notify.webhooks).toEqual([
      expect.objectContaining({
        id: 'webhook:desk-wecom',
        delivered: 1,
        retries: 1,
        state: 'ok',
        backlog: 0,
      }),
      expect.objectContaining({ id: 'webhook:desk-ding', delivered: 1, retries: 2, state: 'ok', backlog: 0 }),
    ]);
  });

  it('a dead endpoint never slows ticket processing, and its failures are visible', async () => {
    const deadPort = await freePort();
    t = await startTestApp({
      override: (c) => {
        c.notify.webhooks = [
          {
            id: 'dead',
            kind: 'generic',
            url: `http://127.0.0.1:${deadPort}/hook`,
            events: ['raised'],
            timeoutMs: 500,
            maxAttempts: 2,
            retryBaseMs: 20,
            deadAfterMinutes: 30,
            retryMaxMs: 1000,
          },
        ];
      },
    });
    const gw = await t.gateway('north');
    const token = await t.adminToken();
    await gw.publishAsync('north/zigbee2mqtt/leak-b1-riser', LEAK, { qos: 1 });
    await gw.publishAsync('north/zigbee2mqtt/lock-3f-east/availability', 'offline', { qos: 1 });
    // Each PUBACK means "recorded": both tickets exist while the dead endpoint is still being tried.
    const before = (
      await t.request<{ tickets: { fault: string }[]; notify?: unknown }>('GET', '/api/tickets?site=north', {
        token,
      })
    ).body.tickets;
    expect(before.map((x) => x.fault).sort()).toEqual(['leak', 'offline']);
    const health = await waitFor(
      async () => {
        const h = (
          await t?.request<{
            notify: { webhooks: { state: string; retries: number; backlog: number; lastError?: string }[] };
          }>('GET', '/api/health', { token })
        )?.body;
        const hook = h?.notify.webhooks[0];
        return hook && hook.retries >= 2 && hook.backlog >= 2 ? h : undefined;
      },
      { what: 'the dead endpoint retried, with its backlog visible' },
    );
    // Nothing is dropped: the endpoint keeps its place in the log and is tried again later.
    expect(health.notify.webhooks[0]).toMatchObject({
      state: 'retrying',
      lastError: expect.stringMatching(/request failed/),
    });
  });

  it('streams ticket changes over SSE and publishes them on xiaoer/out/tickets/<site>', async () => {
    t = await startTestApp({
      override: (c) => {
        c.mqtt.subscribers = [
          { username: 'bms-reader', password: 'reader-password', topics: ['xiaoer/out/#'] },
        ];
      },
    });
    const token = await t.userToken('desk', 'staff');
    const reader = await mqtt.connectAsync(t.mqttUrl, {
      clientId: 'bms-reader-1',
      username: 'bms-reader',
      password: 'reader-password',
      reconnectPeriod: 0,
    });
    closers.push(() => reader.endAsync(true));
    await reader.subscribeAsync('xiaoer/out/tickets/#', { qos: 1 });
    await expect(reader.subscribeAsync('xincheng/#')).rejects.toThrow(/Subscribe error/);
    const outbound: { topic: string; type: string }[] = [];
    reader.on('message', (topic, payload) =>
      outbound.push({ topic, type: (JSON.parse(payload.toString()) as { type: string }).type }),
    );

    const controller = new AbortController();
    closers.push(async () => controller.abort());
    const res = await fetch(`${t.baseUrl}/api/live?token=${token}&site=east`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader2 = (res.body as ReadableStream<Uint8Array>).getReader();
    let streamed = '';
    const pump = (async () => {
      for (;;) {
        const { value, done } = await reader2.read();
        if (done) return;
        streamed += new TextDecoder().decode(value);
      }
    })().catch(() => {});

    const gw = await t.gateway('east');
    await gw.publishAsync('east/zigbee2mqtt/leak-b1-riser', LEAK, { qos: 1 });
    const other = await t.gateway('north');
    await other.publishAsync('north/zigbee2mqtt/leak-b1-riser', LEAK, { qos: 1 });
    await waitFor(() => (streamed.includes('event: ticket') && outbound.length >= 2 ? true : undefined), {
      what: 'live events',
    });
    const data = streamed.split('\n').find((l) => l.startsWith('data: '));
    expect(JSON.parse(data?.slice(6) ?? '{}')).toMatchObject({
      ticket: { site: 'east', fault: 'leak' },
      event: { type: 'raised' },
    });
    expect(streamed).not.toContain('"site":"north"');
    expect(outbound.map((o) => o.topic).sort()).toEqual([
      'xiaoer/out/tickets/east',
      'xiaoer/out/tickets/north',
    ]);
    expect((await fetch(`${t.baseUrl}/api/live?token=wrong`)).status).toBe(401);
    controller.abort();
    await pump;
  });
});
