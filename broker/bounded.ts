/**
 * Stores `value` as the newest entry of `map` (a Map iterates in insertion order); beyond `max`
 * entries the oldest is forgotten. The login throttle's and the refusal log's maps, keyed by
 * addresses and usernames from the wire, stay bounded through this.
 */
export function setNewest<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
}

/** A field from the wire cut for a log line: the start, and how long it really was. */
export function clip(value: string | null | undefined, max = 64): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (value.length <= max) return value;
  return `${value.slice(0, max)}…(${value.length} chars)`;
}

/**
 * At most one log line per key (a client address) per interval; the lines held back are counted
 * and reported with the next one, so a flood of refusals costs one line a minute, not one each.
 */
export class LogRateLimit {
  readonly #intervalMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #last = new Map<string, { at: number; suppressed: number }>();

  constructor(opts: { intervalMs: number; maxKeys: number; now: () => number }) {
    this.#intervalMs = opts.intervalMs;
    this.#maxKeys = opts.maxKeys;
    this.#now = opts.now;
  }

  /** `undefined`: stay quiet; otherwise log now, mentioning how many lines were held back. */
  take(key: string): { suppressed: number } | undefined {
    const now = this.#now();
    const last = this.#last.get(key);
    if (last && now - last.at < this.#intervalMs) {
      last.suppressed++;
      return undefined;
    }
    setNewest(this.#last, key, { at: now, suppressed: 0 }, this.#maxKeys);
    return { suppressed: last?.suppressed ?? 0 };
  }
}
