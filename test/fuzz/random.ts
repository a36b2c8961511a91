import { randomInt } from 'node:crypto';
import { Rng as SimRng } from '../../sim/rng.ts';

/**
 * The simulator's seeded generator (sim/rng.ts, sfc32) with what the MQTT fuzz needs besides:
 * raw bytes, and one independent stream per connection, so connection 1234 of seed 42 is the same
 * bytes whatever ran beside it. A failing run is replayed with `FUZZ_SEED=<seed>`.
 */
export class Rng extends SimRng {
  static forConnection(seed: number, index: number): Rng {
    return new Rng(`${seed}/${index}`);
  }

  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(this.next() * 256);
    return out;
  }

  /** Mostly near `min`, now and then large (exponential with `mean`), at most `max`. */
  count(min: number, mean: number, max: number): number {
    return Math.min(max, min + Math.floor(this.exponential(mean)));
  }

  /** A 32-bit unsigned integer. */
  uint32(): number {
    return Math.floor(this.next() * 2 ** 32);
  }
}

/** `FUZZ_SEED` when set (a decimal uint32), otherwise a fresh one, reported with the results. */
export function fuzzSeed(env: NodeJS.ProcessEnv = process.env): number {
  const given = env.FUZZ_SEED;
  if (given === undefined || given === '') return randomInt(0, 2 ** 32 - 1);
  const seed = Number(given);
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32)
    throw new Error(`FUZZ_SEED must be an integer in 0..4294967295, not "${given}"`);
  return seed;
}
