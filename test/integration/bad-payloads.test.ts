import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures');

/** One routed topic per adapter, from its fixtures, moved to a site the example config has. */
function topicsByAdapter(): [adapter: string, topic: string][] {
  return readdirSync(FIXTURES, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => {
      const files = readdirSync(path.join(FIXTURES, d.name)).filter((f) => f.endsWith('.json'));
      const topics = files.map(
        (f) => (JSON.parse(readFileSync(path.join(FIXTURES, d.name, f), 'utf8')) as { topic: string }).topic,
      );
      const topic = topics[0]?.replace(/^[^/]+\//, 'east/');
      if (!topic) throw new Error(`no fixtures for ${d.name}`);
      return [d.name, topic] as [string, string];
    });
}

const BAD_PAYLOADS: [name: string, bytes: () => Buffer, reasons: string[]][] = [
  [
    'garbage bytes',
    () => Buffer.from([0xff, 0xfe, 0x00, 0x13, 0x37, 0xc3, 0x28]),
    ['not_utf8', 'schema', 'not_json'],
  ],
  ['a 1 MB blob', () => Buffer.alloc(1024 * 1024, 0x61), ['too_large']],
  ['a JSON array', () => Buffer.from('[1,2,3]'), ['schema', 'not_json']],
  [
    'wrong types',
    () => Buffer.from('{"water_leak":"maybe","temperature":"hot","battery":[1]}'),
    ['schema', 'accepted'],
  ],
  ['truncated JSON', () => Buffer.from('{"water_leak":tr'), ['not_json', 'schema']],
];

describe('bad payloads on every adapter are rejected with a reason, without a crash', () => {
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await t.login('admin', 'test-admin-password');
  });
  afterAll(async () => {
    await t.stop();
  });

  describe.each(topicsByAdapter())('%s', (_adapter, topic) => {
    it.each(BAD_PAYLOADS)('%s', async (_name, bytes, reasons) => {
      type Stats = { deadLettered: Record<string, number>; accepted: number };
      // A deep copy: the live counters keep changing.
      const before = structuredClone((await t.app.health()).ingest) as Stats;
      const gw = await t.gateway('east');
      await gw.publishAsync(topic, bytes(), { qos: 1 });
      const after = (await t.app.health()).ingest as Stats;
      const grew = Object.entries(after.deadLettered)
        .filter(([reason, n]) => n > (before.deadLettered[reason] ?? 0))
        .map(([reason]) => reason);
      const outcome = grew[0] ?? (after.accepted > before.accepted ? 'accepted' : 'nothing');
      expect(reasons).toContain(outcome);
      const tickets = await t.request<{ tickets: unknown[] }>('GET', '/api/tickets', { token: admin });
      expect(tickets.body.tickets).toEqual([]);
      expect((await t.request('GET', '/api/health')).status).toBe(200);
    });
  });
});
