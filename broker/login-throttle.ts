import { setNewest } from './bounded.ts';
import type { LoginThrottleSettings } from './config.ts';

export type LoginVerdict =
  | { allowed: true }
  | { allowed: false; reason: 'login_backoff' | 'address_blocked'; retryAfterMs: number };

interface PairRecord {
  failures: number;
  lastFailureAt: number;
  blockedUntil: number;
}

interface AddressRecord {
  failures: number;
  windowStart: number;
  blockedUntil: number;
}

/**
 * Slows MQTT password guessing down. A (username, address) pair that keeps failing must wait
 * before its password is even checked again, for a period that doubles with each failure up to a
 * cap; an address failing over many usernames (spraying) is shut out for a while. Keys include
 * the address, so guessing from elsewhere never locks out the real gateway at its own address;
 * and a pair that has logged in before stays exempt from its address being shut out, for
 * gateways sharing a carrier-grade NAT address with the guesser. Pure: time comes from `now()`.
 */
export class LoginThrottle {
  readonly #s: LoginThrottleSettings;
  readonly #now: () => number;
  readonly #pairs = new Map<string, PairRecord>();
  readonly #addresses = new Map<string, AddressRecord>();
  /** Pairs that logged in successfully, newest last. */
  readonly #trusted = new Map<string, number>();

  constructor(settings: LoginThrottleSettings, now: () => number) {
    this.#s = settings;
    this.#now = now;
  }

  /** Asked before the password is checked: a refused attempt learns nothing about it. */
  check(username: string, address: string): LoginVerdict {
    const now = this.#now();
    const key = pairKey(username, address);
    const pair = this.#livePair(key, now);
    if (pair && pair.blockedUntil > now)
      return { allowed: false, reason: 'login_backoff', retryAfterMs: pair.blockedUntil - now };
    const addr = this.#liveAddress(address, now);
    if (addr && addr.blockedUntil > now && !this.#trusted.has(key))
      return { allowed: false, reason: 'address_blocked', retryAfterMs: addr.blockedUntil - now };
    return { allowed: true };
  }

  /** A password (or username) that was checked and wrong. */
  failed(username: string, address: string): void {
    const now = this.#now();
    const { freeFailures, backoffMs, maxBackoffMs, addressFailures, addressBlockMs, maxTracked } = this.#s;
    const key = pairKey(username, address);
    const pair = this.#livePair(key, now) ?? { failures: 0, lastFailureAt: now, blockedUntil: 0 };
    pair.failures++;
    pair.lastFailureAt = now;
    // The last free failure starts the first wait; each one after doubles it (exponent capped
    // so the arithmetic stays finite).
    const over = pair.failures - freeFailures;
    if (over >= 0) pair.blockedUntil = now + Math.min(maxBackoffMs, backoffMs * 2 ** Math.min(over, 40));
    setNewest(this.#pairs, key, pair, maxTracked);

    const addr = this.#liveAddress(address, now) ?? { failures: 0, windowStart: now, blockedUntil: 0 };
    addr.failures++;
    if (addr.failures >= addressFailures) addr.blockedUntil = now + addressBlockMs;
    setNewest(this.#addresses, address, addr, maxTracked);
  }

  succeeded(username: string, address: string): void {
    const key = pairKey(username, address);
    this.#pairs.delete(key);
    setNewest(this.#trusted, key, this.#now(), this.#s.maxTracked);
  }

  /** Entries held now (pairs, addresses, trusted pairs): each is at most `maxTracked`. */
  get tracked(): { pairs: number; addresses: number; trusted: number } {
    return { pairs: this.#pairs.size, addresses: this.#addresses.size, trusted: this.#trusted.size };
  }

  /** A pair quiet for `maxBackoffMs` after its last wait starts afresh, with its free failures. */
  #livePair(key: string, now: number): PairRecord | undefined {
    const pair = this.#pairs.get(key);
    if (pair && now > Math.max(pair.lastFailureAt, pair.blockedUntil) + this.#s.maxBackoffMs) {
      this.#pairs.delete(key);
      return undefined;
    }
    return pair;
  }

  /** An address's failures count within one window; once it is over (and any block), they are forgotten. */
  #liveAddress(address: string, now: number): AddressRecord | undefined {
    const addr = this.#addresses.get(address);
    if (addr && addr.blockedUntil <= now && now - addr.windowStart > this.#s.addressBlockMs) {
      this.#addresses.delete(address);
      return undefined;
    }
    return addr;
  }
}

/** Usernames are cut so a key stays small whatever arrives; the address (a key of ours) comes first. */
function pairKey(username: string, address: string): string {
  return `${address}\u0000${username.slice(0, 256)}`;
}
