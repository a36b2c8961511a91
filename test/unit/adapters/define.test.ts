/**
 * The `emit()` builders every adapter uses: the reading builder is the last line of defence against
 * a number no rule can judge, and `sensorFault` spells the canonical code once for every family.
 */
import { describe, expect, it } from 'vitest';
import { emit, NonFiniteReadingError, SENSOR_FAULT } from '../../../adapters/define.ts';

const ctx = { site: 'xincheng', deviceId: 'leak-b1', params: {}, topic: 't', receivedAt: 1_000 };

describe('emit().reading', () => {
  it.each([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN])(
    'throws a NonFiniteReadingError naming the metric for %s, and records nothing',
    (value) => {
      const e = emit(ctx);
      expect(() => e.reading('battery_pct', value, '%')).toThrow(NonFiniteReadingError);
      expect(() => e.reading('battery_pct', value, '%')).toThrow(/battery_pct/);
      expect(e.out.readings).toEqual([]);
    },
  );

  it('carries the code reading_not_finite', () => {
    expect(() => emit(ctx).reading('temperature_c', Number.NaN)).toThrow(
      expect.objectContaining({ code: 'reading_not_finite' }),
    );
  });

  it('keeps finite numbers, including the extremes of a double, and non-numbers', () => {
    const e = emit(ctx);
    e.reading('energy_wh', Number.MAX_VALUE, 'Wh');
    e.reading('water_leak', false);
    e.reading('lock_state', 'locked');
    expect(e.out.readings.map((r) => r.value)).toEqual([Number.MAX_VALUE, false, 'locked']);
  });
});

describe('emit().sensorFault', () => {
  it('is a fault event with the canonical code and the device word in detail.error', () => {
    const e = emit(ctx);
    e.sensorFault({ component: 'flood:0', error: 'cable_unplugged' }, { assetId: 'leak-b1-flood-1' });
    expect(SENSOR_FAULT).toBe('sensor_fault');
    expect(e.out.events).toEqual([
      {
        site: 'xincheng',
        assetId: 'leak-b1-flood-1',
        kind: 'fault',
        code: 'sensor_fault',
        detail: { component: 'flood:0', error: 'cable_unplugged' },
        ts: 1_000,
      },
    ]);
  });
});
