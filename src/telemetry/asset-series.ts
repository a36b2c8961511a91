import { chartValue, downsample } from '../core/downsample.ts';
import type { Instant } from '../domain/types.ts';
import type { InfluxConfig } from './config.ts';
import { type HistoryAsset, readHistory } from './history.ts';

/** One metric of an asset over a window as a chart draws it: `[epoch ms, value]` in time order. */
export interface MetricSeries {
  metric: string;
  points: [Instant, number][];
}

/** More than this in the window is `history_too_large`: a month of second readings of a few metrics. */
const MAX_READINGS = 2_000_000;

/**
 * An asset's readings over a window from InfluxDB, per metric, as a chart draws them (numbers, and
 * booleans as 1 and 0: `chartValue`), each thinned to at most `maxPoints` keeping every spike
 * (`downsample`). No InfluxDB configured: no series (there is no history to show).
 */
export async function readAssetSeries(
  config: InfluxConfig | undefined,
  asset: HistoryAsset,
  window: { from: Instant; to: Instant; maxPoints: number; signal?: AbortSignal },
): Promise<MetricSeries[]> {
  if (!config) return [];
  const byMetric = new Map<string, [Instant, number][]>();
  await readHistory(
    config,
    {
      assets: [asset],
      metrics: 'any',
      from: window.from,
      to: window.to,
      maxReadings: MAX_READINGS,
      ...(window.signal ? { signal: window.signal } : {}),
    },
    (_asset, readings) => {
      for (const r of readings) {
        const value = chartValue(r.value);
        if (value === undefined) continue;
        const points = byMetric.get(r.metric);
        if (points) points.push([r.ts, value]);
        else byMetric.set(r.metric, [[r.ts, value]]);
      }
    },
  );
  return [...byMetric.keys()].sort().map((metric) => ({
    metric,
    points: downsample(byMetric.get(metric) ?? [], window.maxPoints),
  }));
}
