import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TicketDto } from '../../src/tickets/ticket-dto.ts';
import { startTestApp, type TestApp } from '../helpers/test-app.ts';
import { waitFor } from '../helpers/wait.ts';

type DeadLetter = { reason: string; topic: string; detail: string };

/** What an attacker (or a broken device) can send through a gateway login, over the real broker port. */
describe('the ingest against hostile payloads', () => {
  let t: TestApp;
  let admin: string;
  beforeEach(async () => {
    t = await startTestApp();
    admin = await t.adminToken();
  });
  afterEach(async () => {
    await t.stop();
  });

  const deadLetters = async () =>
    (
      await t.request<{ total: number; deadLetters: DeadLetter[] }>('GET', '/api/dead-letters', {
        token: admin,
      })
    ).body;
  const tickets = async () =>
    (await t.request<{ tickets: TicketDto[] }>('GET', '/api/tickets', { token: admin })).body.tickets;

  it('acknowledges and dead-letters JSON nested 1,500 deep; the messages behind it still raise tickets', async () => {
    const gw = await t.gateway('xincheng');
    const poison = `${'['.repeat(1500)}${']'.repeat(1500)}`;
    const nested = `{"water_leak":true,"x":${'{"a":'.repeat(1500)}1${'}'.repeat(1500)}}`;
    // Each publish resolves only on its PUBACK: a poison message that stalled the gateway would hang here.
    await gw.publishAsync('xincheng/zigbee2mqtt/leak-b1-riser', poison, { qos: 1 });
    await gw.publishAsync('xincheng/zigbee2mqtt/leak-b1-riser', nested, { qos: 1 });
    await gw.publishAsync('xincheng/xiaoer/plumbing/leak-b1-riser/state', nested, { qos: 1 });
    await gw.publishAsync('xincheng/zigbee2mqtt/leak-b1-riser', '{"water_leak":true}', { qos: 1 });
    expect((await tickets()).map((x) => x.fault)).toEqual(['leak']);
    const letters = await deadLetters();
    expect(letters.deadLetters.map((d) => d.reason)).toEqual([
      'invalid_payload',
      'invalid_payload',
      'invalid_payload',
    ]);
    expect(letters.deadLetters[0]?.detail).toContain('nested more than 32 levels');
  });

  it('dead-letters over-long device ids and never registers them; asset and dead-letter lists come a page at a time', async () => {
    const gw = await t.gateway('xincheng');
    const longId = 'x'.repeat(300);
    await gw.publishAsync(`xincheng/zigbee2mqtt/${longId}`, '{"water_leak":true}', { qos: 1 });
    await gw.publishAsync(`xincheng/xiaoer/lock/${longId}/state`, '{"lock_state":"jammed"}', { qos: 1 });
    const letters = await deadLetters();
    expect(letters.deadLetters.map((d) => d.reason)).toEqual(['id_too_long', 'id_too_long']);
    expect(letters.deadLetters[0]?.detail).toMatch(
      /device id of 300 characters; the limit \(ingest.maxDeviceIdLength\) is 128/,
    );
    const assets = await t.request<{ total: number; assets: { id: string }[] }>(
      'GET',
      '/api/assets?status=unconfirmed',
      { token: admin },
    );
    expect(assets.body).toMatchObject({ total: 0, assets: [] });
    // Pages are bounded: a client cannot ask for everything at once.
    expect((await t.request('GET', '/api/assets?limit=100000', { token: admin })).status).toBe(400);
    expect((await t.request('GET', '/api/dead-letters?limit=100000', { token: admin })).status).toBe(400);
    const page = await t.request<{ total: number; assets: unknown[] }>(
      'GET',
      '/api/assets?limit=5&offset=5',
      {
        token: admin,
      },
    );
    expect(page.body.assets).toHaveLength(5);
    expect(page.body.total).toBeGreaterThan(10);
  });

  it('never lets Infinity through: 400-digit numbers and 1e308 °F are dead letters, not tickets', async () => {
    const gw = await t.gateway('xincheng');
    await gw.publishAsync(
      'xincheng/zigbee2mqtt/hvac-2f-office',
      `{"local_temperature":"${'9'.repeat(400)}"}`,
      {
        qos: 1,
      },
    );
    await gw.publishAsync(
      'xincheng/tele/hvac-2f-office/SENSOR',
      '{"DS18B20":{"Temperature":1e308},"TempUnit":"F"}',
      {
        qos: 1,
      },
    );
    await gw.publishAsync('xincheng/xiaoer/hvac/hvac-2f-office/state', '{"temperature_c":1e999}', { qos: 1 });
    expect(await tickets()).toEqual([]);
    expect((await deadLetters()).total).toBe(3);
  });

  it('dead-letters malformed Sparkplug B protobuf instead of decoding it', async () => {
    const gw = await t.gateway('xincheng');
    const topic = 'xincheng/spBv1.0/plant/NDATA/edge-1';
    // Field 1 with wire type 7; a varint that never ends; a length far past the end.
    for (const bytes of [
      [0x0f, 0x01],
      [0x08, 0xff, 0xff, 0xff],
      [0x12, 0xff, 0x7f, 0x01],
    ]) {
      await gw.publishAsync(topic, Buffer.from(bytes), { qos: 1 });
    }
    const letters = await deadLetters();
    expect(letters.deadLetters.map((d) => d.reason)).toEqual(['schema', 'schema', 'schema']);
  });

  it('never dates a detection after its receipt, nor more than the configured time before it', async () => {
    const gw = await t.gateway('xincheng');
    const sentAt = Date.now();
    // A clock a day behind would make a ticket born breached and escalated.
    await gw.publishAsync(
      'xincheng/xiaoer/plumbing/leak-b1-riser/state',
      JSON.stringify({ water_leak: true, ts: sentAt - 24 * 3_600_000 + 60_000 }),
      { qos: 1 },
    );
    // A clock 5 minutes ahead would stretch the 5-minute arrival target to 10.
    await gw.publishAsync(
      'xincheng/xiaoer/lock/lock-3f-east/state',
      JSON.stringify({ lock_state: 'not_fully_locked', ts: sentAt + 5 * 60_000 - 1000 }),
      { qos: 1 },
    );
    const receivedBy = Date.now();
    const list = await waitFor(async () => {
      const all = await tickets();
      return all.length === 2 ? all : undefined;
    });
    for (const ticket of list) {
      const detected = Date.parse(ticket.detectedAt);
      // Both times are on the ticket: when xiaoer raised it, and the (bounded) detection.
      expect(detected).toBeLessThanOrEqual(Date.parse(ticket.raisedAt));
      expect(detected).toBeLessThanOrEqual(receivedBy);
      expect(detected).toBeGreaterThanOrEqual(sentAt - t.app.config.ingest.maxBackdateSeconds * 1000);
      expect(ticket.arrival.state).toBe('running');
      expect(ticket.escalation).toEqual({ arrival: 0, repair: 0 });
      expect(Date.parse(ticket.arrival.dueAt ?? '') - detected).toBe(5 * 60_000);
    }
  });
});
