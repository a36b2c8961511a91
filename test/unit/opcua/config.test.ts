import { describe, expect, it } from 'vitest';
import { formatIssues } from '../../../src/config/load.ts';
import { reconnectDelay } from '../../../src/opcua/backoff.ts';
import { opcuaSchema, opcuaSiteIssues } from '../../../src/opcua/config.ts';

const endpoint = {
  id: 'bms-xincheng',
  site: 'xincheng',
  url: 'opc.tcp://127.0.0.1:4840/UA/xiaoer-bms',
  nodes: [
    { nodeId: 'ns=1;s=AHU1.SupplyAirTemperature', assetId: 'ahu-1', metric: 'supply_air_temperature_c' },
    {
      nodeId: 'ns=2;i=1001',
      assetId: 'ahu-1',
      metric: 'fan_running',
      samplingIntervalMs: 500,
      deadband: 0.2,
    },
  ],
};

const issues = (input: unknown) => {
  const result = opcuaSchema.safeParse(input);
  return result.success ? [] : formatIssues(result.error.issues);
};

describe('opcua config', () => {
  it('fills in the defaults', () => {
    const cfg = opcuaSchema.parse({ endpoints: [endpoint] });
    expect(cfg.reconnect).toEqual({ minDelayMs: 1000, maxDelayMs: 30_000 });
    expect(cfg.keepAliveIntervalMs).toBe(5000);
    expect(cfg.endpoints[0]?.publishingIntervalMs).toBe(1000);
    expect(opcuaSchema.parse({}).endpoints).toEqual([]);
  });

  it('names the field of each mistake', () => {
    expect(
      issues({
        endpoints: [
          {
            ...endpoint,
            url: 'http://bms/',
            username: 'xiaoer',
            nodes: [
              { nodeId: 'AHU1.SupplyAirTemperature', assetId: 'ahu-1', metric: 'supply_air_temperature_c' },
              { nodeId: 'ns=1;s=A', assetId: 'ahu-1', metric: 'Fan Running' },
            ],
          },
          { ...endpoint, nodes: [endpoint.nodes[0], endpoint.nodes[0]] },
        ],
      }),
    ).toEqual([
      expect.stringMatching(/^endpoints\[0\]\.url: expected an opc\.tcp:/),
      expect.stringMatching(/^endpoints\[0\]\.nodes\[0\]\.nodeId: expected an OPC UA NodeId/),
      expect.stringMatching(/^endpoints\[0\]\.nodes\[1\]\.metric: expected a snake_case/),
      expect.stringMatching(/^endpoints\[0\]\.password: give both/),
      'endpoints[1].id: duplicate endpoint id "bms-xincheng"',
      'endpoints[1].nodes[1].metric: asset "ahu-1" metric "supply_air_temperature_c" is mapped twice',
    ]);
  });

  it('reports endpoints of unknown sites', () => {
    const cfg = opcuaSchema.parse({ endpoints: [endpoint, { ...endpoint, id: 'b', site: 'south' }] });
    expect(opcuaSiteIssues(cfg, new Set(['xincheng', 'north']))).toEqual([
      { path: ['endpoints', 1, 'site'], message: 'unknown site "south" (known: xincheng, north)' },
    ]);
  });
});

describe('reconnect backoff', () => {
  const range = { minDelayMs: 1000, maxDelayMs: 30_000 };

  it('doubles from the minimum up to the cap', () => {
    const noJitter = () => 0;
    expect([0, 1, 2, 3, 4, 5, 6, 50].map((n) => reconnectDelay(n, range, noJitter))).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });

  it('only ever shortens the wait with jitter, by at most a fifth', () => {
    expect(reconnectDelay(0, range, () => 1)).toBe(800);
    expect(reconnectDelay(10, range, () => 0.999)).toBeGreaterThanOrEqual(24_000);
  });
});
