import { XiaoerError } from './errors.ts';

/** One point of a chart: `[x, y]`, x usually epoch milliseconds. */
export type ChartPoint = readonly [number, number];

/**
 * At most `max` of `points` (in x order) that keep the series' shape for a chart: the first and
 * the last point, and from each of `(max - 2) / 2` equal runs of the points between them the
 * lowest and the highest (one point when they are the same), in their order. Min/max rather than
 * LTTB because these charts are read against a limit: a spike over a threshold, however short,
 * must stay on the chart, and LTTB may drop it for a neighbour that forms a larger triangle.
 *
 * Every point is kept when there are at most `max`. The result holds the input's own point
 * objects (a new array). `y` must be finite (see `chartValue`); `max` an integer of at least 2.
 */
export function downsample<P extends ChartPoint>(points: readonly P[], max: number): P[] {
  if (!Number.isInteger(max) || max < 2) {
    throw new XiaoerError('downsample_max_invalid', `a chart needs at least 2 points, not ${max}`);
  }
  const n = points.length;
  if (n <= max) return points.slice();
  const inner = n - 2;
  const buckets = Math.floor((max - 2) / 2);
  const out: P[] = [points[0] as P];
  for (let b = 0; b < buckets; b++) {
    // The points strictly between the first and the last, split into runs of equal count; n > max
    // gives every run at least two.
    const start = 1 + Math.floor((b * inner) / buckets);
    const end = 1 + Math.floor(((b + 1) * inner) / buckets);
    let lo = start;
    let hi = start;
    for (let i = start + 1; i < end; i++) {
      const y = (points[i] as P)[1];
      if (y < (points[lo] as P)[1]) lo = i;
      if (y > (points[hi] as P)[1]) hi = i;
    }
    if (lo === hi) out.push(points[lo] as P);
    else if (lo < hi) out.push(points[lo] as P, points[hi] as P);
    else out.push(points[hi] as P, points[lo] as P);
  }
  out.push(points[n - 1] as P);
  return out;
}

/**
 * A reading's value as a chart can draw it: numbers as they are (not NaN or ±Infinity, which
 * JSON cannot carry), booleans as 1 and 0 (a leak or a relay is a step between the two), and
 * strings not at all, even numeric ones: a metric that arrives as text is a state (`jammed`,
 * `locked`), and a number in a string is a device format the adapter should have parsed.
 */
export function chartValue(value: number | boolean | string): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return undefined;
}
