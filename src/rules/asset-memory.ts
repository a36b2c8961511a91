import type { ReadingValue } from '../domain/types.ts';

const MAX_HISTORY_POINTS = 120;

/**
 * What the engine remembers of an asset between messages: the latest value of the metrics some
 * rule combines, and a short history of the metrics some rate rule watches. Only those metrics,
 * so memory stays proportional to what the rules need.
 */
export class AssetMemory {
  #latestMetrics: ReadonlySet<string> = new Set();
  #historyWindows: ReadonlyMap<string, number> = new Map();
  readonly #latest = new Map<string, Map<string, ReadingValue>>();
  readonly #history = new Map<string, Map<string, { ts: number; value: number }[]>>();

  /**
   * What to keep from now on (the rules changed). What is kept already stays: a metric a new rule
   * combines is known from the asset's next report of it.
   */
  configure(latestMetrics: Iterable<string>, historyWindowsMs: Iterable<[string, number]>): void {
    this.#latestMetrics = new Set(latestMetrics);
    const windows = new Map<string, number>();
    for (const [metric, ms] of historyWindowsMs) windows.set(metric, Math.max(ms, windows.get(metric) ?? 0));
    this.#historyWindows = windows;
  }

  note(assetKey: string, metric: string, value: ReadingValue, ts: number): void {
    if (this.#latestMetrics.has(metric)) mapOf(this.#latest, assetKey).set(metric, value);
    const windowMs = this.#historyWindows.get(metric);
    if (windowMs === undefined || typeof value !== 'number') return;
    const perAsset = mapOf(this.#history, assetKey);
    const points = (perAsset.get(metric) ?? []).filter((p) => ts - p.ts <= windowMs && p.ts <= ts);
    points.push({ ts, value });
    perAsset.set(metric, points.slice(-MAX_HISTORY_POINTS));
  }

  /** Forgets every asset whose key starts with `prefix` (a site's, when another instance takes it). */
  forget(prefix: string): void {
    for (const map of [this.#latest, this.#history])
      for (const key of [...map.keys()]) if (key.startsWith(prefix)) map.delete(key);
  }

  latest(assetKey: string, metric: string): ReadingValue | undefined {
    return this.#latest.get(assetKey)?.get(metric);
  }

  history(assetKey: string, metric: string): readonly { ts: number; value: number }[] {
    return this.#history.get(assetKey)?.get(metric) ?? [];
  }
}

function mapOf<K, V>(outer: Map<string, Map<K, V>>, key: string): Map<K, V> {
  let inner = outer.get(key);
  if (!inner) {
    inner = new Map();
    outer.set(key, inner);
  }
  return inner;
}
