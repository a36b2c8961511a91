import { describe, expect, it } from 'vitest';
import { BMS_POINT_METRICS, bmsWrites } from '../../../sim/bms-points.ts';
import { BMS_POINTS } from '../../../sim/bms-server.ts';
import { initialState } from '../../../sim/device-state.ts';
import { BMS_ASSETS, buildPopulation, DEFAULT_POPULATION } from '../../../sim/population.ts';
import { Rng } from '../../../sim/rng.ts';

describe('simulated BMS points', () => {
  it('drives only variables the simulated OPC UA server has, mapped as the server maps them', () => {
    const served = new Map(BMS_POINTS.map((p) => [p.name, { assetId: p.assetId, metric: p.metric }]));
    for (const [point, mapping] of Object.entries(BMS_POINT_METRICS))
      expect(served.get(point)).toEqual(mapping);
    const devices = buildPopulation({ ...DEFAULT_POPULATION, bms: true }).devices.filter(
      (d) => d.family === 'bms',
    );
    const written = devices.flatMap((d) =>
      bmsWrites(d, initialState(d, new Rng('x')).values).map((w) => w.point),
    );
    expect(new Set(written)).toEqual(new Set(Object.keys(BMS_POINT_METRICS)));
    expect(new Set(BMS_POINTS.map((p) => p.assetId))).toEqual(new Set(BMS_ASSETS.map((a) => a.id)));
  });
});
