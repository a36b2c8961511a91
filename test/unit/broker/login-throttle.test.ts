import { describe, expect, it } from 'vitest';
import { LogRateLimit } from '../../../broker/bounded.ts';
import type { LoginThrottleSettings } from '../../../broker/config.ts';
import { LoginThrottle } from '../../../broker/login-throttle.ts';

const settings: LoginThrottleSettings = {
  freeFailures: 3,
  backoffMs: 1000,
  maxBackoffMs: 8000,
  addressFailures: 10,
  addressBlockMs: 60_000,
  maxTracked: 100,
  logIntervalMs: 60_000,
};

function throttle(overrides: Partial<LoginThrottleSettings> = {}) {
  const clock = { t: 1_000_000 };
  const t = new LoginThrottle({ ...settings, ...overrides }, () => clock.t);
  return { t, clock };
}

const GW = '203.0.113.7';
const OTHER_GW = '203.0.113.8';
const ATTACKER = '198.51.100.9';

describe('LoginThrottle', () => {
  it('lets a few failures through, then makes the pair wait twice as long after each, up to the cap', () => {
    const { t, clock } = throttle();
    for (let i = 0; i < 2; i++) {
      expect(t.check('north-gw', ATTACKER)).toEqual({ allowed: true });
      t.failed('north-gw', ATTACKER);
    }
    expect(t.check('north-gw', ATTACKER)).toEqual({ allowed: true });
    const waits: number[] = [];
    // The third failure is the last free one: from there, each failure means a wait.
    for (let i = 0; i < 6; i++) {
      t.failed('north-gw', ATTACKER);
      const verdict = t.check('north-gw', ATTACKER);
      expect(verdict.allowed).toBe(false);
      const wait = verdict.allowed ? 0 : verdict.retryAfterMs;
      waits.push(wait);
      clock.t += wait - 1;
      expect(t.check('north-gw', ATTACKER)).toMatchObject({ allowed: false, reason: 'login_backoff' });
      clock.t += 1;
      expect(t.check('north-gw', ATTACKER)).toEqual({ allowed: true });
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
  });

  it("never locks out the same username at another address (the real gateway's own)", () => {
    const { t } = throttle();
    for (let i = 0; i < 50; i++) t.failed('north-gw', ATTACKER);
    expect(t.check('north-gw', ATTACKER).allowed).toBe(false);
    expect(t.check('north-gw', GW)).toEqual({ allowed: true });
  });

  it('forgets the failures of a pair that logs in, and of one quiet for the longest wait', () => {
    const { t, clock } = throttle();
    for (let i = 0; i < 2; i++) t.failed('north-gw', GW);
    t.succeeded('north-gw', GW);
    t.failed('north-gw', GW);
    t.failed('north-gw', GW);
    expect(t.check('north-gw', GW)).toEqual({ allowed: true });

    for (let i = 0; i < 6; i++) t.failed('east-gw', OTHER_GW);
    const verdict = t.check('east-gw', OTHER_GW);
    const wait = verdict.allowed ? 0 : verdict.retryAfterMs;
    clock.t += wait + settings.maxBackoffMs + 1;
    t.failed('east-gw', OTHER_GW);
    // Counting started afresh: the next failure is free again.
    expect(t.check('east-gw', OTHER_GW)).toEqual({ allowed: true });
  });

  it('shuts out an address failing over many usernames, for a while, and only that address', () => {
    const { t, clock } = throttle();
    for (let i = 0; i < 10; i++) t.failed(`user-${i}`, ATTACKER);
    expect(t.check('north-gw', ATTACKER)).toEqual({
      allowed: false,
      reason: 'address_blocked',
      retryAfterMs: 60_000,
    });
    expect(t.check('north-gw', GW)).toEqual({ allowed: true });
    clock.t += 60_000;
    expect(t.check('north-gw', ATTACKER)).toEqual({ allowed: true });
  });

  it('keeps a pair that has logged in before open when its shared address is shut out', () => {
    const { t } = throttle();
    t.succeeded('north-gw', ATTACKER);
    for (let i = 0; i < 10; i++) t.failed(`user-${i}`, ATTACKER);
    expect(t.check('user-0', ATTACKER).allowed).toBe(false);
    expect(t.check('north-gw', ATTACKER)).toEqual({ allowed: true });
  });

  it('counts address failures within one window only', () => {
    const { t, clock } = throttle();
    for (let i = 0; i < 9; i++) t.failed(`user-${i}`, ATTACKER);
    clock.t += 60_001;
    t.failed('user-9', ATTACKER);
    expect(t.check('user-10', ATTACKER)).toEqual({ allowed: true });
  });

  it('remembers at most maxTracked pairs, addresses and trusted pairs', () => {
    const { t } = throttle();
    for (let i = 0; i < 1000; i++) {
      t.failed(`user-${i}`, `10.0.${i >> 8}.${i & 255}`);
      t.succeeded(`ok-${i}`, `10.1.${i >> 8}.${i & 255}`);
    }
    expect(t.tracked).toEqual({ pairs: 100, addresses: 100, trusted: 100 });
  });
});

describe('LogRateLimit', () => {
  it('lets one line per key through per interval and counts the ones held back', () => {
    const clock = { t: 0 };
    const limit = new LogRateLimit({ intervalMs: 60_000, maxKeys: 10, now: () => clock.t });
    expect(limit.take('a')).toEqual({ suppressed: 0 });
    expect(limit.take('b')).toEqual({ suppressed: 0 });
    for (let i = 0; i < 5; i++) expect(limit.take('a')).toBeUndefined();
    clock.t += 59_999;
    expect(limit.take('a')).toBeUndefined();
    clock.t += 1;
    expect(limit.take('a')).toEqual({ suppressed: 6 });
    expect(limit.take('a')).toBeUndefined();
  });

  it('forgets the oldest keys beyond its bound', () => {
    const clock = { t: 0 };
    const limit = new LogRateLimit({ intervalMs: 60_000, maxKeys: 2, now: () => clock.t });
    limit.take('a');
    limit.take('b');
    limit.take('c');
    // "a" was forgotten, so it may log again at once; "c" is still remembered.
    expect(limit.take('a')).toEqual({ suppressed: 0 });
    expect(limit.take('c')).toBeUndefined();
  });
});
