import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TICKET_EVENT_TYPES } from '../../src/domain/types.ts';
import { startReceiver } from '../helpers/http-receiver.ts';
import { freePort } from '../helpers/ports.ts';
import { readSse } from '../helpers/sse.ts';
import { ADMIN_PASSWORD, startTestApp, type TestApp } from '../helpers/test-app.ts';
import { waitFor } from '../helpers/wait.ts';
import {
  loopbackConfig,
  spawnXiaoer,
  XIAOER_PROCESS_TEST_TIMEOUT_MS,
  type XiaoerProcess,
} from '../helpers/xiaoer-process.ts';

type Delivered = { event: { id: number; ticketId: number; type: string } };

/** The admin's requests to one running xiaoer process. */
async function client(http: number) {
  const base = `http://127.0.0.1:${http}`;
  const call = async <T>(method: string, url: string, token?: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : {}) as T;
  };
  const login = async (username: string, password: string) =>
    (await call<{ token: string }>('POST', '/api/auth/login', undefined, { username, password })).token;
  return { call, login };
}

describe('delivery from the ticket event log', () => {
  let dir: string;
  let running: XiaoerProcess[];
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'xiaoer-delivery-'));
    running = [];
  });
  afterEach(async () => {
    for (const p of running) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await p.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  // Three starts of xiaoer as a process, two SIGKILLs: every step waits on an event (a log line,
  // an API answer, a delivery), so the time-out is only a safety net for a busy machine.
  it('a webhook down during 200 ticket changes and two SIGKILLs receives every change once it is back, in order per ticket', {
    timeout: 3 * XIAOER_PROCESS_TEST_TIMEOUT_MS,
  }, async () => {
    const hookPort = await freePort();
    const config = loopbackConfig(dir);
    appendFileSync(
      config,
      `
notify:
  webhooks:
    - id: archive
      kind: generic
      url: http://127.0.0.1:${hookPort}/hook
      events: [${TICKET_EVENT_TYPES.join(', ')}]
      retryBaseMs: 50
      retryMaxMs: 500
`,
    );
    const dataDir = path.join(dir, 'data');
    const start = async () => {
      const p = spawnXiaoer({ config, dataDir });
      running.push(p);
      const { http } = await p.started;
      return { p, api: await client(http) };
    };

    // 40 hotline tickets, each raised, dispatched, arrived at, repaired (verified on the
    // maintainer's word) and closed: 200 changes, in three runs of xiaoer, two cut by SIGKILL.
    const sites = ['xincheng', 'north', 'east'];
    for (const [run, range] of [
      [0, [0, 13]],
      [1, [13, 27]],
      [2, [27, 40]],
    ] as const) {
      const { p, api } = await start();
      const admin = await api.login('admin', ADMIN_PASSWORD);
      if (run === 0) {
        await api.call('POST', '/api/users', admin, {
          username: 'wang',
          displayName: 'Wang',
          role: 'maintainer',
          password: 'wang-password',
        });
      }
      const wang = await api.login('wang', 'wang-password');
      for (let i = range[0]; i < range[1]; i++) {
        const t = await api.call<{ id: number }>('POST', '/api/tickets', admin, {
          site: sites[i % 3],
          assetId: `hotline-${i}`,
          fault: 'reported',
          category: 'other',
        });
        await api.call('POST', `/api/tickets/${t.id}/dispatch`, admin, { assignee: 'wang' });
        await api.call('POST', `/api/tickets/${t.id}/arrive`, wang);
        await api.call('POST', `/api/tickets/${t.id}/repaired`, wang, { note: 'done' });
        await api.call('POST', `/api/tickets/${t.id}/close`, admin);
      }
      if (run < 2) {
        p.child.kill('SIGKILL');
        await p.exited;
      }
    }

    // The receiver comes up on the address xiaoer has been trying all along.
    const receiver = await startReceiver(() => ({ status: 200, body: {} }), hookPort);
    try {
      const got = await waitFor(
        () => {
          const ids = new Set(receiver.received.map((r) => (r.body as Delivered).event.id));
          return ids.size >= 200 ? receiver.received.map((r) => (r.body as Delivered).event) : undefined;
        },
        { timeoutMs: 60_000, what: '200 distinct changes delivered' },
      );
      const distinct = [...new Map(got.map((e) => [e.id, e])).values()];
      expect(distinct).toHaveLength(200);
      expect(new Set(distinct.map((e) => e.ticketId)).size).toBe(40);
      // In order per ticket (and in fact overall), with at-least-once repeats allowed.
      const perTicket = new Map<number, string[]>();
      let lastId = 0;
      for (const e of got) {
        if (e.id <= lastId) continue; // a repeat after a crash
        lastId = e.id;
        perTicket.set(e.ticketId, [...(perTicket.get(e.ticketId) ?? []), e.type]);
      }
      for (const types of perTicket.values()) {
        expect(types).toEqual(['raised', 'dispatched', 'arrived', 'repaired', 'closed']);
      }
    } finally {
      await receiver.close();
    }
  });
});

describe('the live feed from the event log', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
  });
  afterEach(async () => {
    await t.stop();
  });

  it('a client that reconnects with Last-Event-ID misses nothing and gets nothing twice', async () => {
    const admin = await t.adminToken();
    const raise = (i: number) =>
      t.request<{ id: number }>('POST', '/api/tickets', {
        token: admin,
        body: { site: 'north', assetId: `a-${i}`, fault: 'reported', category: 'other' },
      });
    const first = await readSse(`${t.baseUrl}/api/live?token=${admin}`);
    await raise(1);
    await raise(2);
    const seen = await waitFor(() => (first.events.length >= 2 ? first.events : undefined), {
      what: 'two events',
    });
    first.close();
    const lastId = seen[seen.length - 1]?.id ?? '';
    // Missed while disconnected.
    await raise(3);
    await raise(4);
    const second = await readSse(`${t.baseUrl}/api/live?token=${admin}`, { 'last-event-id': lastId });
    await raise(5);
    try {
      const resumed = await waitFor(() => (second.events.length >= 3 ? second.events : undefined), {
        what: 'the missed events and the new one',
      });
      const assets = resumed.map(
        (e) => (JSON.parse(e.data) as { ticket: { assetId: string } }).ticket.assetId,
      );
      expect(assets).toEqual(['a-3', 'a-4', 'a-5']);
      const ids = [...seen, ...resumed].map((e) => Number(e.id));
      expect(ids).toEqual([...ids].sort((x, y) => x - y));
      expect(new Set(ids).size).toBe(ids.length);
    } finally {
      second.close();
    }
  });
});
