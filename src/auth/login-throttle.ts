import { XiaoerError } from '../core/errors.ts';

export interface ThrottleLimits {
  /** Failed (or still running) attempts for one user name from one address within the window. */
  perPair: number;
  /** Failed (or still running) attempts from one address, over all user names, within the window. */
  perAddress: number;
  windowMs: number;
  /** Keys tracked at most; the oldest is forgotten first (a flood of made-up names stays bounded). */
  maxTracked: number;
}

export const DEFAULT_LIMITS: ThrottleLimits = {
  perPair: 5,
  perAddress: 30,
  windowMs: 5 * 60_000,
  maxTracked: 20_000,
};

interface Record {
  failures: number[];
  inFlight: number;
}

/**
 * Slows password guessing without letting anyone lock a real user out:
 * - limits count per (user name, address) and per address, never per user name alone, so an
 *   attacker elsewhere cannot lock out an admin logging in from their own desk;
 * - attempts still being checked count as failures until they end, so sixty parallel guesses
 *   do not all get past a check made before the password hash ran;
 * - a success clears only its own (user, address) pair, so knowing one password does not reset
 *   an address's count.
 * Each attempt costs an scrypt hash on the thread pool, so refusing early also protects everyone
 * else's requests.
 */
export class LoginThrottle {
  readonly #limits: ThrottleLimits;
  readonly #records = new Map<string, Record>();

  constructor(limits: Partial<ThrottleLimits> = {}) {
    this.#limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Admits one attempt (or throws 429); call the returned function with its outcome. */
  begin(user: string, address: string, now: number): (ok: boolean) => void {
    const pairKey = `u\u0000${user.slice(0, 128)}\u0000${address}`;
    const addressKey = `a\u0000${address}`;
    const checks = [
      [pairKey, this.#limits.perPair],
      [addressKey, this.#limits.perAddress],
    ] as const;
    for (const [k, limit] of checks) {
      const r = this.#get(k, now);
      if (r.failures.length + r.inFlight >= limit) throw this.#refusal(r, now);
    }
    const pair = this.#get(pairKey, now);
    const addr = this.#get(addressKey, now);
    pair.inFlight++;
    addr.inFlight++;
    this.#touch(pairKey, pair);
    this.#touch(addressKey, addr);
    let ended = false;
    return (ok) => {
      if (ended) return;
      ended = true;
      pair.inFlight--;
      addr.inFlight--;
      if (ok) pair.failures = [];
      else {
        pair.failures.push(now);
        addr.failures.push(now);
      }
      this.#touch(pairKey, pair);
      this.#touch(addressKey, addr);
    };
  }

  get tracked(): number {
    return this.#records.size;
  }

  #refusal(r: Record, now: number): XiaoerError {
    const oldest = r.failures[0] ?? now;
    const retryAfter = Math.max(1, Math.ceil((oldest + this.#limits.windowMs - now) / 1000));
    return new XiaoerError('too_many_attempts', `too many failed logins; try again in ${retryAfter} s`, {
      httpStatus: 429,
      details: { retryAfterSeconds: retryAfter },
    });
  }

  #get(k: string, now: number): Record {
    const r = this.#records.get(k) ?? { failures: [], inFlight: 0 };
    r.failures = r.failures.filter((t) => now - t < this.#limits.windowMs);
    return r;
  }

  /** Keeps a record (most recent last) or drops it when nothing is left to remember. */
  #touch(k: string, r: Record): void {
    this.#records.delete(k);
    if (r.failures.length === 0 && r.inFlight === 0) return;
    this.#records.set(k, r);
    while (this.#records.size > this.#limits.maxTracked) {
      const oldest = this.#records.keys().next().value;
      if (oldest === undefined) break;
      this.#records.delete(oldest);
    }
  }
}
