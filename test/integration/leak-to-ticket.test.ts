import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ticket } from '../../src/domain/types.ts';
import { startTestApp, type TestApp } from '../helpers/test-app.ts';
import { waitFor } from '../helpers/wait.ts';

type TicketJson = Omit<Ticket, 'arrival' | 'repair' | 'detectedAt'> & {
  detectedAt: string;
  arrival: { dueAt: string; at?: string; met?: boolean };
  repair: { dueAt: string; at?: string; met?: boolean };
  events?: { type: string; actor: string }[];
};

describe('leak to ticket through the embedded broker', () => {
  let t: TestApp;
  let staff: string;

  beforeEach(async () => {
    t = await startTestApp();
    staff = await t.userToken('desk1', 'staff');
  });
  afterEach(async () => {
    await t.stop();
  });

  const tickets = async (query = '') =>
    (await t.request<{ tickets: TicketJson[] }>('GET', `/api/tickets${query}`, { token: staff })).body
      .tickets;

  it('raises one ticket with 5-minute and 1-hour deadlines, then records arrival and repair as met', async () => {
    const gw = await t.gateway('xincheng');
    await gw.publishAsync(
      'xincheng/zigbee2mqtt/leak-b1-riser',
      JSON.stringify({ water_leak: true, battery: 90 }),
      {
        qos: 1,
      },
    );
    // Recorded before the PUBACK: the ticket is there as soon as the publish resolves.
    const [ticket] = await tickets();
    expect(ticket).toMatchObject({
      site: 'xincheng',
      assetId: 'leak-b1-riser',
      category: 'plumbing',
      fault: 'leak',
    });
    const detected = Date.parse(ticket?.detectedAt ?? '');
    expect(Date.parse(ticket?.arrival.dueAt ?? '') - detected).toBe(5 * 60_000);
    expect(Date.parse(ticket?.repair.dueAt ?? '') - detected).toBe(60 * 60_000);

    // The same leak reported again adds an event to the open ticket, not a second ticket.
    await gw.publishAsync('xincheng/zigbee2mqtt/leak-b1-riser', JSON.stringify({ water_leak: false }), {
      qos: 1,
    });
    await gw.publishAsync('xincheng/zigbee2mqtt/leak-b1-riser', JSON.stringify({ water_leak: true }), {
      qos: 1,
    });
    expect(await tickets()).toHaveLength(1);

    const fixer = await t.userToken('wang', 'maintainer');
    const id = ticket?.id;
    const arrived = await t.request<TicketJson>('POST', `/api/tickets/${id}/arrive`, { token: fixer });
    expect(arrived.status).toBe(200);
    expect(arrived.body).toMatchObject({ status: 'on_site', assignee: 'wang', arrival: { met: true } });
    const repaired = await t.request<TicketJson>('POST', `/api/tickets/${id}/repaired`, {
      token: fixer,
      body: { note: 'replaced riser coupling' },
    });
    expect(repaired.body).toMatchObject({ status: 'repaired', repair: { met: true } });
    // The sensor still reports water, so the repair is not verified: closing needs a reason.
    const refused = await t.request('POST', `/api/tickets/${id}/close`, { token: staff });
    expect(refused).toMatchObject({ status: 400, body: { error: { code: 'reason_required' } } });
    const closed = await t.request<TicketJson>('POST', `/api/tickets/${id}/close`, {
      token: staff,
      body: {
        reason: 'riser valve replaced; sensor to be checked on the next round',
        resolution: 'real_fault',
      },
    });
    expect(closed.body, JSON.stringify(closed.body)).toMatchObject({
      status: 'closed',
      resolution: 'real_fault',
    });

    const detail = await t.request<TicketJson>('GET', `/api/tickets/${id}`, { token: staff });
    expect(detail.body.events?.map((e) => e.type)).toEqual([
      'raised',
      'alarm_cleared',
      'alarm_repeated',
      'arrived',
      'repaired',
      'closed',
    ]);
    expect(detail.body.events?.[3]?.actor).toBe('wang');
  });

  it('raises a new ticket when a fault is reported again after its ticket was closed unrepaired', async () => {
    const gw = await t.gateway('xincheng');
    const wet = JSON.stringify({ water_leak: true });
    await gw.publishAsync('xincheng/zigbee2mqtt/leak-b1-riser', wet, { qos: 1 });
    const [first] = await tickets();
    const closed = await t.request('POST', `/api/tickets/${first?.id}/close`, {
      token: staff,
      body: { reason: 'false alarm: cleaner mopping', resolution: 'no_fault_found' },
    });
    expect(closed.status).toBe(200);
    // The sensor still reports water: this is a fault again, not silence.
    await gw.publishAsync('xincheng/zigbee2mqtt/leak-b1-riser', wet, { qos: 1 });
    expect((await tickets()).map((x) => x.status)).toEqual(['raised', 'closed']);
  });

  it('refuses a gateway publishing under another site prefix and raises nothing', async () => {
    const gw = await t.gateway('north');
    const closed = new Promise<void>((resolve) => gw.once('close', () => resolve()));
    gw.publish('xincheng/zigbee2mqtt/leak-b1-riser', JSON.stringify({ water_leak: true }), { qos: 1 });
    // [MQTT-3.3.5-2] aedes closes the connection of a client whose publish is not authorised.
    await closed;
    expect(await tickets()).toEqual([]);
  });

  it('refuses a gateway with the wrong password', async () => {
    await expect(t.gateway('east', 'wrong')).rejects.toThrow(/Bad username or password|Not authorized/i);
  });

  it('dead-letters malformed payloads, raises nothing and keeps working', async () => {
    const gw = await t.gateway('east');
    await gw.publishAsync('east/zigbee2mqtt/leak-b1-riser', 'not json{', { qos: 1 });
    await gw.publishAsync('east/zigbee2mqtt/leak-b1-riser', JSON.stringify({ water_leak: 'yes' }), {
      qos: 1,
    });
    await gw.publishAsync('east/zigbee2mqtt/unknown-device', JSON.stringify({ water_leak: true }), {
      qos: 1,
    });
    expect(await tickets()).toEqual([]);
    const admin = await t.login('admin', 'test-admin-password');
    const dead = await t.request<{ total: number; deadLetters: { reason: string; detail: string }[] }>(
      'GET',
      '/api/dead-letters',
      { token: admin },
    );
    expect(dead.body.total).toBe(2);
    expect(dead.body.deadLetters.map((d) => d.reason).sort()).toEqual(['not_json', 'schema']);
    expect(dead.body.deadLetters.find((d) => d.reason === 'schema')?.detail).toMatch(/^water_leak: /);

    // The unknown device is kept as an unconfirmed asset, its kind guessed from the payload.
    const unconfirmed = await t.request<{ assets: { id: string; kind: string; source: string }[] }>(
      'GET',
      '/api/assets?status=unconfirmed',
      { token: staff },
    );
    expect(unconfirmed.body.assets).toEqual([
      expect.objectContaining({ id: 'unknown-device', kind: 'plumbing', source: 'zigbee2mqtt' }),
    ]);

    // Still working: a good message on the same connection raises its ticket.
    await gw.publishAsync('east/zigbee2mqtt/leak-b1-riser', JSON.stringify({ water_leak: true }), { qos: 1 });
    await waitFor(async () => ((await tickets()).length === 1 ? true : undefined), { what: 'ticket' });
  });

  it('keeps an unknown device unconfirmed, without tickets, until an admin confirms it', async () => {
    const gw = await t.gateway('xincheng');
    const wet = JSON.stringify({ water_leak: true });
    await gw.publishAsync('xincheng/zigbee2mqtt/leak-3f-pantry', wet, { qos: 1 });
    expect(await tickets()).toEqual([]);
    const admin = await t.login('admin', 'test-admin-password');
    const denied = await t.request('POST', '/api/assets/xincheng/leak-3f-pantry/confirm', {
      token: staff,
      body: { kind: 'plumbing' },
    });
    expect(denied.status).toBe(403);
    const confirmed = await t.request('POST', '/api/assets/xincheng/leak-3f-pantry/confirm', {
      token: admin,
      body: { kind: 'plumbing', name: '3F pantry sink leak sensor' },
    });
    expect(confirmed.body).toMatchObject({
      status: 'confirmed',
      category: 'plumbing',
      name: '3F pantry sink leak sensor',
    });
    await gw.publishAsync('xincheng/zigbee2mqtt/leak-3f-pantry', JSON.stringify({ water_leak: false }), {
      qos: 1,
    });
    await gw.publishAsync('xincheng/zigbee2mqtt/leak-3f-pantry', wet, { qos: 1 });
    expect(await tickets()).toMatchObject([{ assetId: 'leak-3f-pantry', fault: 'leak' }]);
    const unknownCategory = await t.request('POST', '/api/assets/xincheng/leak-3f-pantry/confirm', {
      token: admin,
      body: { kind: 'plumbing', category: 'catering' },
    });
    expect(unknownCategory).toMatchObject({ status: 400, body: { error: { code: 'unknown_category' } } });
  });

  it('raises lock offline (JSON and legacy payloads) and an over-temperature ticket, and clears them', async () => {
    const gw = await t.gateway('north');
    await gw.publishAsync(
      'north/zigbee2mqtt/lock-3f-east/availability',
      JSON.stringify({ state: 'offline' }),
      {
        qos: 1,
      },
    );
    await gw.publishAsync('north/zigbee2mqtt/hvac-2f-office', JSON.stringify({ local_temperature: 31.5 }), {
      qos: 1,
    });
    const raised = await tickets();
    expect(raised.map((x) => [x.assetId, x.category, x.fault]).sort()).toEqual([
      ['hvac-2f-office', 'hvac', 'over_temperature'],
      ['lock-3f-east', 'lock', 'offline'],
    ]);
    await gw.publishAsync('north/zigbee2mqtt/lock-3f-east/availability', 'online', { qos: 1 });
    await gw.publishAsync('north/zigbee2mqtt/hvac-2f-office', JSON.stringify({ local_temperature: 24 }), {
      qos: 1,
    });
    const after = await tickets();
    expect(after.every((x) => x.alarmActive === false)).toBe(true);
  });
});
