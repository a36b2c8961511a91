import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { readSse } from '../helpers/sse.ts';
import { ADMIN_PASSWORD, startTestApp, type TestApp } from '../helpers/test-app.ts';

/** A login from a given loopback address (127.0.0.0/8 is all loopback on Linux): another "machine". */
function loginFrom(
  t: TestApp,
  localAddress: string,
  username: string,
  password: string,
): Promise<{ status: number; body: string }> {
  const url = new URL(`${t.baseUrl}/api/auth/login`);
  const body = JSON.stringify({ username, password });
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        localAddress,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('the API against abuse', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it('tells anonymous callers only that it is alive; logged-in users get the details', async () => {
    t = await startTestApp();
    const anonymous = await t.request('GET', '/api/health');
    expect(anonymous).toEqual({ status: 200, body: { status: 'ok' } });
    const bad = await t.request('GET', '/api/health', { token: 'not-a-token' });
    expect(bad.body).toEqual({ status: 'ok' });
    const full = await t.request<Record<string, unknown>>('GET', '/api/health', {
      token: await t.userToken('desk', 'staff'),
    });
    expect(full.body).toMatchObject({ status: 'ok', ingest: expect.any(Object), sla: expect.any(Object) });
    // No gateway has connected yet: a warning per site, not an outage.
    expect(full.body.warnings).toEqual([
      expect.stringContaining('xincheng-gw is not commissioned yet'),
      expect.stringContaining('north-gw is not commissioned yet'),
      expect.stringContaining('east-gw is not commissioned yet'),
    ]);
    const sites = await t.request<{
      sites: { id: string; gateway: { state: string }; warnings: string[] }[];
    }>('GET', '/api/sites', { token: await t.adminToken() });
    expect(sites.body.sites.map((s) => [s.id, s.gateway.state, s.warnings.length])).toEqual([
      ['xincheng', 'not_commissioned', 1],
      ['north', 'not_commissioned', 1],
      ['east', 'not_commissioned', 1],
    ]);
    // Once a gateway has connected it is commissioned, and its warning is gone.
    await t.gateway('north');
    const after = await t.request<{
      sites: { id: string; gateway: { state: string }; warnings: string[] }[];
    }>('GET', '/api/sites', { token: await t.adminToken() });
    expect(after.body.sites.find((s) => s.id === 'north')).toMatchObject({
      gateway: { state: 'connected' },
      warnings: [],
    });
    expect(JSON.stringify(after.body)).not.toContain('north-demo');
  });

  it('documents every operation with a summary, and serves /docs only when configured', async () => {
    t = await startTestApp();
    const spec = await t.request<{ paths: Record<string, Record<string, { summary?: string }>> }>(
      'GET',
      '/docs/json',
    );
    expect(spec.status).toBe(200);
    const operations = Object.entries(spec.body.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({
        op: `${method.toUpperCase()} ${path}`,
        summary: op.summary,
      })),
    );
    expect(operations.length).toBeGreaterThan(15);
    expect(operations.filter((o) => !o.summary).map((o) => o.op)).toEqual([]);
    await t.stop();
    t = await startTestApp({
      override: (c) => {
        c.http.docs = false;
      },
    });
    expect((await t.request('GET', '/docs/json')).status).toBe(404);
  });

  it('lets admins edit, disable and reset users, keeps one admin, and audits each change', async () => {
    t = await startTestApp();
    const admin = await t.adminToken();
    const wang = await t.userToken('wang', 'maintainer');
    const staff = await t.userToken('desk', 'staff');
    expect(
      (await t.request('PATCH', '/api/users/wang', { token: staff, body: { role: 'admin' } })).status,
    ).toBe(403);

    const renamed = await t.request('PATCH', '/api/users/wang', {
      token: admin,
      body: { displayName: '王师傅' },
    });
    expect(renamed.body).toMatchObject({ username: 'wang', displayName: '王师傅', disabled: false });
    const disabled = await t.request('PATCH', '/api/users/wang', { token: admin, body: { disabled: true } });
    expect(disabled.body).toMatchObject({ disabled: true });
    // Logged out at once, and cannot log in again.
    expect((await t.request('GET', '/api/me', { token: wang })).status).toBe(401);
    expect(
      (await t.request('POST', '/api/auth/login', { body: { username: 'wang', password: 'wang-password' } }))
        .status,
    ).toBe(401);
    await t.request('PATCH', '/api/users/wang', { token: admin, body: { disabled: false } });

    const reset = await t.request<{ generatedPassword: string }>('POST', '/api/users/wang/password', {
      token: admin,
    });
    expect(reset.status).toBe(200);
    expect(reset.body.generatedPassword).toMatch(/^\S{12,}$/);
    expect(
      (await t.request('POST', '/api/auth/login', { body: { username: 'wang', password: 'wang-password' } }))
        .status,
    ).toBe(401);
    const login = await t.request('POST', '/api/auth/login', {
      body: { username: 'wang', password: reset.body.generatedPassword },
    });
    expect(login.status).toBe(200);

    const last = await t.request<{ error: { code: string } }>('PATCH', '/api/users/admin', {
      token: admin,
      body: { disabled: true },
    });
    expect(last).toMatchObject({ status: 409, body: { error: { code: 'last_admin' } } });
    const typo = await t.request('PATCH', '/api/users/wang', { token: admin, body: { disable: true } });
    expect(typo.status).toBe(400);

    const audit = await t.request<{ entries: { actor: string; action: string; target: string }[] }>(
      'GET',
      '/api/audit',
      { token: admin },
    );
    expect(audit.body.entries.map((e) => `${e.actor} ${e.action} ${e.target}`)).toEqual(
      expect.arrayContaining([
        'admin user.updated user:wang',
        'admin user.password_reset user:wang',
        'admin user.created user:wang',
        'system:first-start user.created user:admin',
      ]),
    );
  });

  it('counts logins in flight, and guessing from one address never locks out the user elsewhere', async () => {
    t = await startTestApp();
    const app = t;
    const guesses = await Promise.all(
      Array.from({ length: 60 }, (_, i) => loginFrom(app, '127.0.0.2', 'admin', `guess-${i}`)),
    );
    const statuses = guesses.map((g) => g.status);
    // Only the allowance ran the password check (401); every other attempt was refused at once.
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(55);
    expect((await loginFrom(app, '127.0.0.2', 'admin', ADMIN_PASSWORD)).status).toBe(429);
    // The real admin, at their own desk, logs in.
    expect((await loginFrom(app, '127.0.0.3', 'admin', ADMIN_PASSWORD)).status).toBe(200);
    // And a success there does not reset the guesser's count.
    expect((await loginFrom(app, '127.0.0.2', 'admin', 'one-more')).status).toBe(429);
  });

  it('gives each user a few live feeds, so one user cannot take every slot', async () => {
    t = await startTestApp({
      override: (c) => {
        c.http.maxLiveClientsPerUser = 3;
      },
    });
    const staff = await t.userToken('desk', 'staff');
    const feeds = await Promise.all([1, 2, 3].map(() => readSse(`${t?.baseUrl}/api/live?token=${staff}`)));
    try {
      expect(feeds.map((f) => f.status)).toEqual([200, 200, 200]);
      const fourth = await readSse(`${t.baseUrl}/api/live?token=${staff}`);
      expect(fourth.status).toBe(429);
      const admin = await readSse(`${t.baseUrl}/api/live?token=${await t.adminToken()}`);
      expect(admin.status).toBe(200);
      admin.close();
    } finally {
      for (const f of feeds) f.close();
    }
  });

  it('answers 429 past the per-address rate limit, with security headers on every answer', async () => {
    t = await startTestApp({
      override: (c) => {
        c.http.rateLimit = { max: 20, windowSeconds: 60 };
      },
    });
    const res = await fetch(`${t.baseUrl}/api/health`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) statuses.push((await t.request('GET', '/api/health')).status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(5);
    const limited = await fetch(`${t.baseUrl}/api/health`);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await limited.json()).toMatchObject({ error: { code: 'rate_limited' } });
  });

  it('bounds planned work: no window longer than the limit, none starting far in the future', async () => {
    t = await startTestApp();
    const staff = await t.userToken('desk', 'staff');
    const now = Date.now();
    const plan = (startsIn: number, lasts: number) =>
      t?.request<{ error: { code: string; message: string } }>('POST', '/api/maintenance', {
        token: staff,
        body: {
          site: 'north',
          startsAt: new Date(now + startsIn).toISOString(),
          endsAt: new Date(now + startsIn + lasts).toISOString(),
          reason: 'works',
        },
      });
    const HOUR = 3_600_000;
    const years = await plan(0, 3 * 365 * 24 * HOUR);
    expect(years?.status).toBe(400);
    expect(years?.body.error.message).toContain('168 hours');
    const farAhead = await plan(60 * 24 * HOUR, HOUR);
    expect(farAhead?.status).toBe(400);
    expect(farAhead?.body.error.message).toContain('30 days');
    expect((await plan(HOUR, 8 * HOUR))?.status).toBe(201);
  });
});
