/**
 * The xiaoer configuration that matches a simulated population: every simulated device is a
 * configured asset (so rules run for it), every fault in faults.ts has a rule that raises its
 * ticket, and the BMS endpoints point at the simulated OPC UA servers. Built from the same
 * population code as the simulator, so the two cannot drift apart.
 *
 * Simulated time may run faster than real time (`speed`); SLA deadlines are wall-clock instants
 * in xiaoer, so the targets (5 min on site, 1 h repaired) and the verification period are divided
 * by the speed to keep their meaning on a compressed demo.
 */
import { stringify } from 'yaml';
import { CATEGORY_MIX } from './faults.ts';
import { gatewayLogin, type Population, type SimDevice } from './population.ts';

export interface BmsEndpoint {
  site: string;
  url: string;
}

export interface BmsNode {
  nodeId: string;
  assetId: string;
  metric: string;
}

export interface DemoConfigOptions {
  population: Population;
  dataDir: string;
  speed: number;
  http?: { host: string; port: number };
  mqtt?: { host: string; port: number };
  logLevel?: string;
  /** One simulated BMS per site, and the nodes each serves (sim/bms-server.ts `BMS_POINTS`). */
  bms?: { endpoints: readonly BmsEndpoint[]; nodes: readonly BmsNode[] };
}

const CATEGORIES = {
  plumbing: { name: '上下水管道 Plumbing' },
  lock: { name: '门锁门框 Door locks' },
  hvac: { name: '空调维修 HVAC' },
  lighting: { name: '灯具照明 Lighting' },
  other: { name: '其他 Other' },
};

const ALL_KINDS = Object.keys(CATEGORY_MIX);

/** One rule per fault the simulator injects (faults.ts `ticket`), plus the example's HVAC rules. */
export const DEMO_RULES: readonly Record<string, unknown>[] = [
  {
    id: 'water-leak',
    type: 'equals',
    kinds: ['plumbing'],
    metric: 'water_leak',
    value: true,
    fault: 'leak',
    severity: 'critical',
  },
  {
    id: 'lock-jammed',
    type: 'equals',
    kinds: ['lock'],
    metric: 'lock_state',
    value: 'not_fully_locked',
    fault: 'jammed',
  },
  {
    id: 'lock-battery-low',
    type: 'equals',
    kinds: ['lock'],
    metric: 'battery_low',
    value: true,
    fault: 'battery_low',
    severity: 'minor',
  },
  // A smart lock going offline is mostly a loose network cable at the lock: a fault to repair.
  { id: 'device-offline', type: 'offline', kinds: ALL_KINDS, fault: 'offline' },
  {
    id: 'office-overheat',
    type: 'threshold',
    kinds: ['hvac'],
    metric: 'temperature_c',
    above: 28,
    fault: 'over_temperature',
  },
  {
    id: 'office-too-cold',
    type: 'threshold',
    kinds: ['hvac'],
    metric: 'temperature_c',
    below: 14,
    fault: 'under_temperature',
  },
  // Cleared by a valid temperature of the probe that failed; an AHU's return-air probe is another
  // sensor, so its readings must not clear a supply-air probe fault.
  {
    id: 'hvac-sensor-fault',
    type: 'fault_event',
    kinds: ['hvac'],
    code: 'sensor_fault',
    clearOnMetric: ['temperature_c', 'supply_air_temperature_c'],
    fault: 'sensor_fault',
  },
  {
    id: 'ahu-supply-air-high',
    type: 'threshold',
    kinds: ['hvac'],
    metric: 'supply_air_temperature_c',
    above: 20,
    fault: 'supply_air_too_warm',
  },
  {
    id: 'ahu-supply-air-low',
    type: 'threshold',
    kinds: ['hvac'],
    metric: 'supply_air_temperature_c',
    below: 8,
    fault: 'supply_air_too_cold',
  },
  {
    id: 'ahu-filter',
    type: 'equals',
    kinds: ['hvac'],
    metric: 'filter_alarm',
    value: true,
    fault: 'filter_dirty',
    severity: 'minor',
  },
  {
    id: 'chw-pump-low-pressure',
    type: 'all',
    kinds: ['hvac'],
    fault: 'pump_low_pressure',
    conditions: [
      { metric: 'pump_running', equals: true },
      { metric: 'pressure_kpa', below: 150 },
    ],
  },
  {
    id: 'booster-pump-low-pressure',
    type: 'all',
    kinds: ['plumbing'],
    fault: 'pump_low_pressure',
    conditions: [
      { metric: 'relay_on', equals: true },
      { metric: 'pressure_kpa', below: 150 },
    ],
  },
  {
    id: 'pump-no-power',
    type: 'all',
    kinds: ['plumbing'],
    fault: 'pump_no_power',
    conditions: [
      { metric: 'relay_on', equals: true },
      { metric: 'power_w', below: 5 },
    ],
  },
  {
    id: 'pipe-pressure-low',
    type: 'threshold',
    kinds: ['plumbing'],
    metric: 'pressure_kpa',
    below: 100,
    fault: 'low_water_pressure',
  },
  // More than a running tap: a burst pipe or a cistern stuck open.
  {
    id: 'pipe-flow-high',
    type: 'threshold',
    kinds: ['plumbing'],
    metric: 'flow_lpm',
    above: 80,
    fault: 'abnormal_flow',
  },
  {
    id: 'lighting-no-load',
    type: 'all',
    kinds: ['lighting'],
    fault: 'lamp_failure',
    conditions: [
      { metric: 'relay_on', equals: true },
      { metric: 'power_w', below: 5 },
    ],
  },
  {
    id: 'boiler-no-power',
    type: 'all',
    kinds: ['other'],
    fault: 'heater_failure',
    conditions: [
      { metric: 'relay_on', equals: true },
      { metric: 'power_w', below: 5 },
    ],
  },
];

function deviceEntries(devices: readonly SimDevice[]): Record<string, unknown>[] {
  const entries: Record<string, unknown>[] = [];
  for (const d of devices) {
    entries.push({ id: d.id, kind: d.kind, name: d.name, location: d.location });
    // A DS18B20 probe is its own asset; the Tasmota controller it hangs on reports its Wi-Fi and LWT.
    if (d.model === 'tasmota-ds18b20') {
      entries.push({
        id: d.address,
        kind: d.kind,
        name: `${d.location} Tasmota controller`,
        location: d.location,
      });
    }
  }
  return entries;
}

function opcuaSection(opts: DemoConfigOptions) {
  const bms = opts.bms;
  if (!bms || bms.endpoints.length === 0) return undefined;
  return {
    endpoints: bms.endpoints.map((e) => ({
      id: `bms-${e.site}`,
      site: e.site,
      url: e.url,
      nodes: bms.nodes.map((n) => ({ nodeId: n.nodeId, assetId: n.assetId, metric: n.metric })),
    })),
  };
}

/** The configuration as plain data, before validation (parse it with src/config/load.ts). */
export function demoConfig(opts: DemoConfigOptions): Record<string, unknown> {
  const minutes = (m: number) => Math.round((m / opts.speed) * 1000) / 1000;
  const opcua = opcuaSection(opts);
  return {
    dataDir: opts.dataDir,
    logLevel: opts.logLevel ?? 'info',
    http: opts.http ?? { host: '127.0.0.1', port: 8080 },
    mqtt: opts.mqtt ?? { host: '127.0.0.1', port: 1883 },
    sla: { arrivalMinutes: minutes(5), repairMinutes: minutes(60) },
    tickets: { verifyMinutes: minutes(10) },
    categories: CATEGORIES,
    sites: opts.population.sites.map(({ spec, devices }) => ({
      id: spec.id,
      name: spec.name,
      gateway: gatewayLogin(spec.id),
      devices: deviceEntries(devices),
    })),
    rules: DEMO_RULES,
    ...(opcua ? { opcua } : {}),
  };
}

export function demoConfigYaml(opts: DemoConfigOptions): string {
  const header = [
    '# Generated by sim/demo-config.ts for the simulated sites: do not edit, it is rewritten on each run.',
    `# Simulated time runs ${opts.speed}x: the SLA targets (5 min on site, 1 h repaired) are divided by it.`,
    '',
  ].join('\n');
  return header + stringify(demoConfig(opts), { lineWidth: 120 });
}
