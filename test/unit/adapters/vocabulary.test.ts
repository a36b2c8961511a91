import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { adapters } from '../../../adapters/index.ts';
import { isMetric, METRICS } from '../../../adapters/metrics.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures');

type Expected = { metric: string; value: unknown; unit?: string };

/** Every fixture's expected readings (the generated adapter tests hold each adapter to them). */
function readingsOf(adapterId: string): Expected[] {
  const dir = path.join(FIXTURES, adapterId);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => {
      const fixture = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as {
        expect?: { readings?: Expected[] };
      };
      return fixture.expect?.readings ?? [];
    });
}

describe('the metric vocabulary', () => {
  it.each(adapters.map((a) => [a.id, a] as const))(
    '%s emits only the metrics it declares, typed as declared',
    (id, adapter) => {
      const readings = readingsOf(id);
      expect(readings.length).toBeGreaterThan(0);
      for (const r of readings) {
        if (!isMetric(r.metric)) {
          // Free-form names only from an adapter that passes them through, never a canonical one mistyped.
          expect(adapter.passThrough, `${id}: ${r.metric} is not a canonical metric`).toBeDefined();
          continue;
        }
        expect(adapter.metrics, `${id} emits ${r.metric} without declaring it`).toContain(r.metric);
        const spec = METRICS[r.metric];
        expect(typeof r.value, `${id}: ${r.metric}`).toBe(spec.type);
        expect(r.unit, `${id}: ${r.metric}'s unit`).toBe('unit' in spec ? spec.unit : undefined);
      }
    },
  );

  it('declares only canonical metrics', () => {
    for (const adapter of adapters) for (const metric of adapter.metrics) expect(isMetric(metric)).toBe(true);
  });
});
