import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.ts';
import type { TicketDto } from '../../src/tickets/ticket-dto.ts';
import { startTestApp, type TestApp } from '../helpers/test-app.ts';
import { waitFor } from '../helpers/wait.ts';

/**
 * The example configuration is the bureau's: general repairs on site in 5 minutes and fixed
 * within 1 hour, access-control activation as a 2-hour request with no arrival clock, a lock's
 * low battery, a silent leak sensor and a plumbing sensor's own error as tickets.
 */
describe("the bureau's targets and rules, through the real broker", () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  const tickets = async (app: TestApp) =>
    (await app.request<{ tickets: TicketDto[] }>('GET', '/api/tickets', { token: await app.adminToken() }))
      .body.tickets;
  const ticketFor = (app: TestApp, assetId: string, fault: string) =>
    waitFor(async () => (await tickets(app)).find((x) => x.assetId === assetId && x.fault === fault), {
      what: `${fault} ticket for ${assetId}`,
    });

  it('keeps smart-lock repairs general repairs, and raises a minor ticket for a lock battery running low', async () => {
    t = await startTestApp();
    const gw = await t.gateway('xincheng');
    await gw.publishAsync('xincheng/zigbee2mqtt/lock-3f-east', '{"battery":35,"lock_state":"locked"}', {
      qos: 1,
    });
    expect(await tickets(t)).toEqual([]);
    await gw.publishAsync('xincheng/zigbee2mqtt/lock-3f-east', '{"battery":18,"lock_state":"locked"}', {
      qos: 1,
    });
    const low = await ticketFor(t, 'lock-3f-east', 'battery_low');
    expect(low).toMatchObject({
      severity: 'minor',
      category: 'lock',
      trigger: { metric: 'battery_pct', value: 18, limit: { below: 20 } },
    });
    // General repair targets: on site in 5 minutes, fixed within an hour, from detection.
    const detected = Date.parse(low.detectedAt);
    expect(Date.parse(low.arrival.dueAt ?? '') - detected).toBe(5 * 60_000);
    expect(Date.parse(low.repair.dueAt ?? '') - detected).toBe(60 * 60_000);
  });

  it('raises a sensor-fault ticket when a flood sensor reports its probe unplugged', async () => {
    t = await startTestApp({
      override: (c: Config) => {
        c.sites[0]?.devices.push({
          id: 'shellyfloodg4-a0b1c2d3e4f5',
          kind: 'plumbing',
          name: 'B2 pump pit flood sensor',
        });
      },
    });
    const gw = await t.gateway('xincheng');
    // Shelly Flood Gen4 with its probe cable unplugged: the alarm is unknown (null), errors say why.
    await gw.publishAsync(
      'xincheng/shellyfloodg4-a0b1c2d3e4f5/status/flood:0',
      '{"id":0,"alarm":null,"mute":false,"errors":["cable_unplugged"]}',
      { qos: 1 },
    );
    const fault = await ticketFor(t, 'shellyfloodg4-a0b1c2d3e4f5', 'sensor_fault');
    expect(fault).toMatchObject({
      category: 'plumbing',
      assetName: 'B2 pump pit flood sensor',
      trigger: { code: 'sensor_fault' },
    });
    // Replugged: a real reading clears it.
    await gw.publishAsync(
      'xincheng/shellyfloodg4-a0b1c2d3e4f5/status/flood:0',
      '{"id":0,"alarm":false,"errors":[]}',
      {
        qos: 1,
      },
    );
    await waitFor(
      async () =>
        (await ticketFor(t as TestApp, 'shellyfloodg4-a0b1c2d3e4f5', 'sensor_fault')).alarmActive
          ? undefined
          : true,
      {
        what: 'sensor fault cleared',
      },
    );
  });

  it('raises a no-data ticket for a leak sensor that falls silent', async () => {
    t = await startTestApp({
      override: (c: Config) => {
        const rule = c.rules.find((r) => r.id === 'plumbing-silent');
        if (rule?.type !== 'no_data') throw new Error('the example has no plumbing-silent rule');
        // The example waits three hours; the mechanism is the same with a shorter silence.
        rule.silentSeconds = 1;
      },
    });
    // The site's gateway is commissioned when it connects: silence clocks start then.
    await t.gateway('north');
    const silent = await ticketFor(t, 'leak-b1-riser', 'no_data');
    expect(silent).toMatchObject({
      site: 'north',
      category: 'plumbing',
      trigger: { limit: { silentSeconds: 1 } },
    });
    // Xincheng's and east's gateways never connected: their sensors cannot have fallen silent.
    expect((await tickets(t)).filter((x) => x.fault === 'no_data').map((x) => x.site)).toEqual(['north']);
  });

  it('takes access-control activation as a request: raised at the desk, done within 2 hours, no arrival clock', async () => {
    t = await startTestApp();
    const desk = await t.userToken('desk', 'staff');
    const raised = await t.request<TicketDto>('POST', '/api/tickets', {
      token: desk,
      body: {
        site: 'xincheng',
        assetId: 'staff-card-0815',
        fault: 'activation',
        category: 'access',
        note: '3 new staff',
      },
    });
    expect(raised.status).toBe(201);
    expect(raised.body.arrival).toMatchObject({ dueAt: null, state: 'none' });
    expect(Date.parse(raised.body.repair.dueAt ?? '') - Date.parse(raised.body.detectedAt)).toBe(
      2 * 3_600_000,
    );
    const maintainer = await t.userToken('zhang', 'maintainer');
    const arrived = await t.request<TicketDto>('POST', `/api/tickets/${raised.body.id}/arrive`, {
      token: maintainer,
    });
    expect(arrived.body.arrival).toMatchObject({ met: null, state: 'none' });
    expect(arrived.body.arrival.at).not.toBeNull();
    const done = await t.request<TicketDto>('POST', `/api/tickets/${raised.body.id}/repaired`, {
      token: maintainer,
    });
    expect(done.body).toMatchObject({ status: 'verified', repair: { met: true, state: 'met' } });
  });
});
