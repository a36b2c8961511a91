import { XiaoerError } from '../core/errors.ts';

const WINDOW_MS = 5 * 60_000;
const MAX_FAILURES = 10;
const MAX_TRACKED = 10_000;

/**
 * Slows password guessing: after 10 failed logins for one user name or one address within
 * 5 minutes, further attempts are refused (429) until the window passes. Each attempt costs an
 * scrypt hash on the thread pool, so refusing early also protects everyone else's requests.
 */
export class LoginThrottle {
  readonly #failures = new Map<string, number[]>();

  check(keys: readonly string[], now: number): void {
    for (const key of keys) {
      const recent = this.#recent(key, now);
      if (recent.length >= MAX_FAILURES) {
        const retryAfter = Math.ceil(((recent[0] as number) + WINDOW_MS - now) / 1000);
        throw new XiaoerError('too_many_attempts', `too many failed logins; try again in ${retryAfter} s`, {
          httpStatus: 429,
          details: { retryAfterSeconds: retryAfter },
        });
      }
    }
  }

  fail(keys: readonly string[], now: number): void {
    for (const key of keys) {
      if (!this.#failures.has(key) && this.#failures.size >= MAX_TRACKED) {
        const oldest = this.#failures.keys().next().value;
        if (oldest !== undefined) this.#failures.delete(oldest);
      }
      this.#failures.set(key, [...this.#recent(key, now), now]);
    }
  }

  succeed(keys: readonly string[]): void {
    for (const key of keys) this.#failures.delete(key);
  }

  #recent(key: string, now: number): number[] {
    return (this.#failures.get(key) ?? []).filter((t) => now - t < WINDOW_MS);
  }
}
