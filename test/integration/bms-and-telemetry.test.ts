import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InfluxDB } from 'influx';
import { afterEach, describe, expect, it } from 'vitest';
import { BMS_POINTS, startSimulatedBms } from '../../sim/bms-server.ts';
import { startInfluxd } from '../helpers/influxdb.ts';
import { freePort } from '../helpers/ports.ts';
import { startTestApp, type TestApp } from '../helpers/test-app.ts';
import { waitFor } from '../helpers/wait.ts';

type TicketJson = { assetId: string; fault: string; category: string; status: string };

describe('the whole app with the BMS over OPC UA and telemetry in InfluxDB', () => {
  let t: TestApp | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await t?.stop();
    t = undefined;
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  const ticketsOf = async (app: TestApp, token: string) =>
    (await app.request<{ tickets: TicketJson[] }>('GET', '/api/tickets', { token })).body.tickets;

  it('raises an HVAC ticket for supply air out of range, and offline tickets when the BMS goes away', async () => {
    const pki = mkdtempSync(path.join(tmpdir(), 'xiaoer-bms-'));
    cleanups.push(async () => rmSync(pki, { recursive: true, force: true }));
    const bms = await startSimulatedBms({ port: await freePort(), pkiDir: pki });
    let bmsRunning = true;
    cleanups.push(async () => {
      if (bmsRunning) await bms.stop();
    });
    const ahu1 = BMS_POINTS.filter((p) => p.assetId === 'ahu-1');
    t = await startTestApp({
      override: (c) => {
        c.opcua.reconnect = { minDelayMs: 100, maxDelayMs: 500 };
        c.opcua.keepAliveIntervalMs = 500;
        c.opcua.endpoints = [
          {
            id: 'bms-xincheng',
            site: 'xincheng',
            url: bms.endpointUrl,
            publishingIntervalMs: 100,
            nodes: ahu1.map((p) => ({ nodeId: p.nodeId, assetId: p.assetId, metric: p.metric })),
          },
        ];
      },
    });
    const app = t;
    const token = await app.userToken('desk', 'staff');
    await waitFor(
      async () => {
        const h = (await app.request<{ opcua: { connected: boolean }[] }>('GET', '/api/health', { token }))
          .body;
        return h.opcua[0]?.connected ? true : undefined;
      },
      { what: 'OPC UA connected' },
    );
    bms.setValue('AHU1.SupplyAirTemperature', 26.5);
    const warm = await waitFor(
      async () => (await ticketsOf(app, token)).find((x) => x.fault === 'supply_air_too_warm'),
      { timeoutMs: 10_000, what: 'supply air ticket' },
    );
    expect(warm).toMatchObject({ assetId: 'ahu-1', category: 'hvac', status: 'raised' });

    await bms.stop();
    bmsRunning = false;
    const offline = await waitFor(
      async () => (await ticketsOf(app, token)).find((x) => x.fault === 'offline'),
      { what: 'offline ticket after the BMS stopped' },
    );
    expect(offline).toMatchObject({ assetId: 'ahu-1', category: 'hvac' });
  });

  // Starts a real influxd inside the test: its start-up alone may take most of the default budget
  // on a busy machine. Every step waits on an event, so the time-out is only a safety net.
  it('writes every accepted reading to InfluxDB with site, asset and kind tags', {
    timeout: 90_000,
  }, async () => {
    const influxd = await startInfluxd();
    cleanups.push(() => influxd.stop());
    t = await startTestApp({
      override: (c) => {
        c.influx = {
          url: influxd.url,
          database: 'xiaoer_e2e',
          batchSize: 100,
          flushIntervalMs: 100,
          bufferMaxBytes: 16 * 1024 * 1024,
          requestTimeoutMs: 2000,
        };
      },
    });
    const gw = await t.gateway('north');
    await gw.publishAsync(
      'north/zigbee2mqtt/hvac-2f-office',
      JSON.stringify({ local_temperature: 23.5, battery: 77 }),
      {
        qos: 1,
      },
    );
    await gw.publishAsync('north/zigbee2mqtt/leak-b1-riser', JSON.stringify({ water_leak: false }), {
      qos: 1,
    });
    const influx = new InfluxDB({ host: '127.0.0.1', port: influxd.port, database: 'xiaoer_e2e' });
    const rows = await waitFor(
      async () => {
        const r = await influx.query<{ value: number; site: string; asset: string; kind: string }>(
          'SELECT * FROM temperature_c',
        );
        return r.length > 0 ? r : undefined;
      },
      { timeoutMs: 10_000, what: 'temperature in InfluxDB' },
    );
    expect(rows[0]).toMatchObject({ value: 23.5, site: 'north', asset: 'hvac-2f-office', kind: 'hvac' });
    const leak = await waitFor(
      async () => {
        const r = await influx.query<{ value: boolean }>('SELECT * FROM water_leak');
        return r.length > 0 ? r : undefined;
      },
      { timeoutMs: 10_000, what: 'leak reading in InfluxDB' },
    );
    expect(leak.map((r) => r.value)).toEqual([false]);
    // The rows are visible in InfluxDB a moment before the writer has counted its answer.
    const token = await t.adminToken();
    const app = t;
    const health = await waitFor(
      async () => {
        const h = (
          await app.request<{ telemetry: { configured: boolean; writtenPoints: number } }>(
            'GET',
            '/api/health',
            {
              token,
            },
          )
        ).body;
        return h.telemetry.writtenPoints >= 3 ? h : undefined;
      },
      { what: 'the written points counted' },
    );
    expect(health.telemetry).toMatchObject({ configured: true });
  });
});
