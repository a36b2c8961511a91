import { afterEach, describe, expect, it } from 'vitest';
import { startReceiver } from '../helpers/http-receiver.ts';
import { startTestApp, type TestApp } from '../helpers/test-app.ts';
import { waitFor } from '../helpers/wait.ts';

type TicketJson = { id: number; assetId: string; fault: string; parentId?: number; alarmActive: boolean };

const LOCKS = Array.from({ length: 40 }, (_, i) => `lock-${String(i + 1).padStart(2, '0')}`);

describe('one outage, one ticket', () => {
  let t: TestApp | undefined;
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await t?.stop();
    t = undefined;
    for (const c of closers.splice(0)) await c();
  });

  const tickets = async (app: TestApp, token: string) =>
    (await app.request<{ tickets: TicketJson[] }>('GET', '/api/tickets?limit=1000', { token })).body.tickets;

  it('40 locks going offline together give one parent ticket and 40 linked children, not 40 dispatches', async () => {
    const robot = await startReceiver(() => ({ status: 200, body: { errcode: 0, errmsg: 'ok' } }));
    closers.push(robot.close);
    t = await startTestApp({
      override: (c) => {
        const east = c.sites.find((s) => s.id === 'east');
        for (const id of LOCKS) east?.devices.push({ id, kind: 'lock' });
        c.notify.webhooks = [
          {
            id: 'desk',
            kind: 'wecom',
            url: `${robot.url}/send`,
            events: ['raised'],
            timeoutMs: 2000,
            maxAttempts: 3,
            retryBaseMs: 50,
            deadAfterMinutes: 30,
            retryMaxMs: 1000,
          },
        ];
      },
    });
    const app = t;
    const gw = await app.gateway('east');
    await Promise.all(
      LOCKS.map((id) =>
        gw.publishAsync(`east/zigbee2mqtt/${id}/availability`, '{"state":"offline"}', { qos: 1 }),
      ),
    );
    const staff = await app.userToken('desk', 'staff');
    const all = await tickets(app, staff);
    const parents = all.filter((x) => x.fault === 'mass_offline');
    expect(parents).toEqual([expect.objectContaining({ assetId: 'east-gw' })]);
    const children = all.filter((x) => x.fault === 'offline');
    expect(children).toHaveLength(40);
    expect(children.every((x) => x.parentId === parents[0]?.id)).toBe(true);

    // Dispatch goes through the parent.
    await app.userToken('wang', 'maintainer');
    const child = await app.request('POST', `/api/tickets/${children[0]?.id}/dispatch`, {
      token: staff,
      body: { assignee: 'wang' },
    });
    expect(child).toMatchObject({ status: 409, body: { error: { code: 'part_of_outage' } } });
    const parent = await app.request('POST', `/api/tickets/${parents[0]?.id}/dispatch`, {
      token: staff,
      body: { assignee: 'wang' },
    });
    expect(parent.status).toBe(200);

    // The robot heard of the parent and of the few raised before the outage was recognised. Every
    // ticket was in the event log before its PUBACK: once the robot's consumer has read the log to
    // its end, nothing more is coming.
    await waitFor(
      async () => {
        const [hook] = (
          (await app.app.health()).notify as { webhooks: { backlog: number; delivered: number }[] }
        ).webhooks;
        return hook && hook.backlog === 0 && hook.delivered === robot.received.length ? true : undefined;
      },
      { what: 'robot messages all delivered' },
    );
    expect(robot.received.length).toBeGreaterThanOrEqual(2);
    expect(robot.received.length).toBeLessThanOrEqual(
      app.app.config.tickets.correlation.offlineThreshold + 1,
    );
  });

  it('a site gateway gone beyond the grace period raises gateway_offline; its return clears it', async () => {
    t = await startTestApp({
      override: (c) => {
        c.tickets.correlation.gatewayGraceSeconds = 2;
      },
    });
    const app = t;
    // Every gateway connects (is commissioned); a gateway never seen would be only a warning.
    const [xincheng, north] = await Promise.all([
      app.gateway('xincheng'),
      app.gateway('north'),
      app.gateway('east'),
    ]);
    // A quick reconnect is not an outage: north leaves and is back within the grace period.
    await north.endAsync(true);
    await app.gateway('north');
    const staff = await app.userToken('desk', 'staff');

    // Xincheng leaves for good, after north left: by the time xincheng's grace has run out, north's
    // (which started first) has too, so its absence shows here without waiting on a clock.
    await xincheng.endAsync(true);
    const outage = await waitFor(
      async () => (await tickets(app, staff)).find((x) => x.fault === 'gateway_offline'),
      {
        what: 'gateway_offline ticket',
      },
    );
    expect((await tickets(app, staff)).map((x) => x.assetId)).toEqual(['xincheng-gw']);
    expect(outage).toMatchObject({ assetId: 'xincheng-gw', alarmActive: true });
    await app.gateway('xincheng');
    await waitFor(
      async () =>
        (await app.request<TicketJson>('GET', `/api/tickets/${outage.id}`, { token: staff })).body.alarmActive
          ? undefined
          : true,
      {
        what: 'gateway alarm cleared',
      },
    );
  });
});
