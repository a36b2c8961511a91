import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Normalised } from '../../adapters/index.ts';
import { BMS_POINTS, type SimulatedBms, startSimulatedBms } from '../../sim/bms-server.ts';
import { systemScheduler } from '../../src/core/scheduler.ts';
import type { DeviceEvent, Reading } from '../../src/domain/types.ts';
import type { OpcUaEndpoint } from '../../src/opcua/config.ts';
import { routeNodeOpcuaLogs } from '../../src/opcua/library-log.ts';
import { OpcUaSource } from '../../src/opcua/opcua-source.ts';
import { silentLog } from '../helpers/domain.ts';
import { freePort } from '../helpers/ports.ts';
import { waitFor } from '../helpers/wait.ts';

/** Real node-opcua server and client over loopback TCP, with short timings so outages show in ~1 s. */
const TIMING = {
  reconnect: { minDelayMs: 100, maxDelayMs: 500 },
  keepAliveIntervalMs: 500,
  connectTimeoutMs: 3000,
};
const ASSETS = ['ahu-1', 'ahu-2', 'chiller-1', 'pump-1'];

/** Every record() call, in order; `failNext` makes the next one reject (as a full disk would). */
class Recorder {
  readonly batches: Normalised[] = [];
  failNext = 0;
  record = async (n: Normalised, _source: string): Promise<void> => {
    this.batches.push(n);
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('store unavailable');
    }
  };
  get readings(): Reading[] {
    return this.batches.flatMap((b) => b.readings);
  }
  get events(): DeviceEvent[] {
    return this.batches.flatMap((b) => b.events);
  }
  availability(code: 'online' | 'offline', site = 'xincheng'): string[] {
    return this.events
      .filter((e) => e.kind === 'availability' && e.code === code && e.site === site)
      .map((e) => e.assetId)
      .sort();
  }
  /** Resolves once every asset has reported `code` `times` times. */
  waitAvailability(code: 'online' | 'offline', times: number, site = 'xincheng') {
    return waitFor(
      () => {
        const seen = this.availability(code, site);
        return ASSETS.every((a) => seen.filter((s) => s === a).length >= times) ? seen : undefined;
      },
      { what: `${code} x${times} for every asset` },
    );
  }
  waitReading(assetId: string, metric: string, value: unknown, after = 0) {
    return waitFor(
      () =>
        this.readings
          .slice(after)
          .find((r) => r.assetId === assetId && r.metric === metric && r.value === value),
      { what: `${assetId} ${metric} = ${String(value)}` },
    );
  }
}

const endpointFor = (port: number, extra: Partial<OpcUaEndpoint> = {}): OpcUaEndpoint => ({
  id: 'bms-xincheng',
  site: 'xincheng',
  url: `opc.tcp://127.0.0.1:${port}/UA/xiaoer-bms`,
  publishingIntervalMs: 100,
  nodes: BMS_POINTS.map((p) => ({
    nodeId: p.nodeId,
    assetId: p.assetId,
    metric: p.metric,
    ...(p.unit ? { unit: p.unit } : {}),
  })),
  ...extra,
});

describe('OPC UA source against the simulated BMS', () => {
  let dir: string;
  const servers: SimulatedBms[] = [];
  const sources: OpcUaSource[] = [];

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'xiaoer-opcua-'));
    routeNodeOpcuaLogs(silentLog); // node-opcua prints its warnings with console.log otherwise
  });
  afterEach(async () => {
    await Promise.all(sources.splice(0).map((s) => s.stop()));
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const startBms = async (port: number, users?: Record<string, string>) => {
    const bms = await startSimulatedBms({
      port,
      pkiDir: path.join(dir, 'server-pki'),
      ...(users ? { users } : {}),
    });
    servers.push(bms);
    return bms;
  };
  const startSource = async (endpoints: OpcUaEndpoint[], recorder: Recorder) => {
    const source = new OpcUaSource({
      endpoints,
      record: recorder.record,
      scheduler: systemScheduler,
      log: silentLog,
      pkiDir: path.join(dir, 'client-pki'),
      ...TIMING,
    });
    sources.push(source);
    await source.start();
    return source;
  };
  const stopBms = async (bms: SimulatedBms) => {
    servers.splice(servers.indexOf(bms), 1);
    await bms.stop();
  };

  it('records values, a Bad status as sensor_fault, an outage as offline, and resubscribes after a restart', async () => {
    const port = await freePort();
    const recorder = new Recorder();
    let bms = await startBms(port);
    const source = await startSource([endpointFor(port)], recorder);

    expect(await recorder.waitAvailability('online', 1)).toEqual(ASSETS);
    // The first notification of every monitored item is its current value.
    const initial = await recorder.waitReading('ahu-1', 'supply_air_temperature_c', 16.5);
    expect(initial).toMatchObject({ site: 'xincheng', unit: '°C' });
    expect(Math.abs(initial.ts - Date.now())).toBeLessThan(10_000);
    await recorder.waitReading('pump-1', 'pump_running', true);

    bms.setValue('AHU1.SupplyAirTemperature', 19.25);
    bms.setValue('AHU2.FilterAlarm', true);
    await recorder.waitReading('ahu-1', 'supply_air_temperature_c', 19.25);
    await recorder.waitReading('ahu-2', 'filter_alarm', true);

    bms.setBad('Pump1.Pressure', 'BadSensorFailure');
    const fault = await waitFor(() => recorder.events.find((e) => e.code === 'sensor_fault'), {
      what: 'sensor_fault',
    });
    expect(fault).toMatchObject({
      site: 'xincheng',
      assetId: 'pump-1',
      kind: 'fault',
      detail: { nodeId: 'ns=1;s=Pump1.Pressure', statusCode: 'BadSensorFailure' },
    });
    const pressures = () => recorder.readings.filter((r) => r.metric === 'pressure_kpa').map((r) => r.value);
    expect(pressures()).toEqual([250]); // the Bad value (still 250 on the server) is not a reading
    bms.setValue('Pump1.Pressure', 262);
    await recorder.waitReading('pump-1', 'pressure_kpa', 262);

    await stopBms(bms);
    expect(await recorder.waitAvailability('offline', 1)).toEqual(ASSETS);
    expect(source.stats()[0]).toMatchObject({ connected: false, itemCount: 13 });

    const before = recorder.readings.length;
    bms = await startBms(port);
    await recorder.waitAvailability('online', 2);
    await recorder.waitReading('ahu-1', 'supply_air_temperature_c', 16.5, before); // re-read on resubscribe
    bms.setValue('Chiller1.ChilledWaterSupplyTemperature', 8.5);
    await recorder.waitReading('chiller-1', 'chilled_water_supply_temperature_c', 8.5, before);
    // Each change of availability was reported once per asset, in order.
    expect(recorder.availability('offline')).toEqual(ASSETS);
    const availability = recorder.events.filter((e) => e.assetId === 'ahu-1' && e.kind === 'availability');
    expect(availability.map((e) => e.code)).toEqual(['online', 'offline', 'online']);
    expect(source.stats()[0]).toMatchObject({
      id: 'bms-xincheng',
      connected: true,
      itemCount: 13,
      badItems: [],
    });
    expect(source.stats()[0]?.lastValueAt).toBeGreaterThan(0);
  });

  it('starts with the server down: resolves at once, reports offline, connects when the server appears', async () => {
    const port = await freePort();
    const recorder = new Recorder();
    recorder.failNext = 1; // the first batch (the offline events) fails to record
    // start() resolves without waiting for a server that is not there.
    const source = await startSource([endpointFor(port)], recorder);
    expect(source.stats()[0]?.connected).toBe(false);

    expect(await recorder.waitAvailability('offline', 1)).toEqual(ASSETS);
    await waitFor(() => (source.stats()[0]?.recordErrors === 1 ? true : undefined), { what: 'record error' });
    expect(source.stats()[0]).toMatchObject({
      connected: false,
      lastError: expect.stringMatching(/ECONNREFUSED/),
    });
    // Retries back off but keep going while the server stays away.
    await waitFor(() => ((source.stats()[0]?.failures ?? 0) >= 3 ? true : undefined), { what: 'retries' });
    expect(recorder.availability('offline')).toEqual(ASSETS);

    const bms = await startBms(port);
    await recorder.waitAvailability('online', 1);
    bms.setValue('AHU2.SupplyAirTemperature', 15.75);
    await recorder.waitReading('ahu-2', 'supply_air_temperature_c', 15.75);
    expect(source.stats()[0]).toMatchObject({ connected: true, failures: 0, recordErrors: 1 });
  });

  it('logs in with a user name, reports refused nodes and keeps endpoints apart', async () => {
    const port = await freePort();
    const recorder = new Recorder();
    await startBms(port, { xiaoer: 'bms-secret' });
    const good = endpointFor(port, { id: 'bms-good', username: 'xiaoer', password: 'bms-secret' });
    good.nodes = [...good.nodes, { nodeId: 'ns=1;s=AHU9.Missing', assetId: 'ahu-9', metric: 'fan_running' }];
    const denied = endpointFor(port, {
      id: 'bms-denied',
      site: 'north',
      username: 'xiaoer',
      password: 'wrong',
    });
    const source = await startSource([good, denied], recorder);

    await recorder.waitReading('ahu-1', 'fan_running', true);
    await waitFor(() => (recorder.availability('offline', 'north').length >= 4 ? true : undefined), {
      what: 'offline for the endpoint with the wrong password',
    });
    const [goodStats, deniedStats] = source.stats();
    expect(goodStats).toMatchObject({
      connected: true,
      itemCount: 13,
      badItems: [{ nodeId: 'ns=1;s=AHU9.Missing', statusCode: 'BadNodeIdUnknown' }],
    });
    expect(deniedStats).toMatchObject({ id: 'bms-denied', connected: false });
    expect(deniedStats?.lastError).toMatch(/Bad/);
    expect(recorder.readings.every((r) => r.site === 'xincheng')).toBe(true);
  });
});
