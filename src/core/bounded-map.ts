/**
 * A map keyed by outside input (device ids, topics), bounded in entries and in bytes: the least
 * recently written entries are dropped first. `sizeOf` estimates what one entry holds; it is
 * called once per write, so it must be cheap.
 */
export class BoundedMap<K, V> {
  readonly #entries = new Map<K, { value: V; bytes: number }>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #sizeOf: (key: K, value: V) => number;
  #bytes = 0;
  /** Entries dropped to stay within the bounds (reported in /api/health). */
  evicted = 0;

  constructor(opts: { maxEntries: number; maxBytes: number; sizeOf: (key: K, value: V) => number }) {
    this.#maxEntries = opts.maxEntries;
    this.#maxBytes = opts.maxBytes;
    this.#sizeOf = opts.sizeOf;
  }

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get(key: K): V | undefined {
    return this.#entries.get(key)?.value;
  }

  has(key: K): boolean {
    return this.#entries.has(key);
  }

  set(key: K, value: V): void {
    this.delete(key);
    const bytes = this.#sizeOf(key, value);
    // One entry larger than the whole budget is not kept at all.
    if (bytes > this.#maxBytes) {
      this.evicted++;
      return;
    }
    this.#entries.set(key, { value, bytes });
    this.#bytes += bytes;
    while (this.#entries.size > this.#maxEntries || this.#bytes > this.#maxBytes) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.delete(oldest.value);
      this.evicted++;
    }
  }

  delete(key: K): boolean {
    const entry = this.#entries.get(key);
    if (!entry) return false;
    this.#bytes -= entry.bytes;
    return this.#entries.delete(key);
  }
}

/**
 * A rough size of a JSON-like value in bytes (strings as UTF-16), walking at most `budget` bytes:
 * enough to bound memory, never a full serialisation on the hot path.
 */
export function approxBytes(value: unknown, budget = 1 << 20): number {
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && total <= budget) {
    const v = stack.pop();
    if (typeof v === 'string') total += 16 + v.length * 2;
    else if (v instanceof Uint8Array) total += 64 + v.byteLength;
    else if (v instanceof Map) {
      total += 64;
      for (const [k, x] of v) stack.push(k, x);
    } else if (Array.isArray(v)) {
      total += 32 + v.length * 8;
      for (const x of v) stack.push(x);
    } else if (v !== null && typeof v === 'object') {
      total += 32;
      for (const [k, x] of Object.entries(v)) {
        total += 16 + k.length * 2;
        stack.push(x);
      }
    } else total += 8;
  }
  return total;
}
