import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { adapters } from '../../adapters/index.ts';
import { TopicRouter } from '../../src/ingest/router.ts';
import { ruleSchema } from '../../src/rules/config.ts';
import { startTestApp, type TestApp } from '../helpers/test-app.ts';
import { waitFor } from '../helpers/wait.ts';

interface FixtureMessage {
  topic: string;
  payload?: unknown;
  payloadText?: string;
  payloadBase64?: string;
}
interface Fixture extends FixtureMessage {
  before?: FixtureMessage[];
}

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures');
const load = (name: string) =>
  JSON.parse(readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8')) as Fixture;
const bytes = (m: FixtureMessage) =>
  m.payloadBase64 !== undefined
    ? Buffer.from(m.payloadBase64, 'base64')
    : Buffer.from(m.payloadText ?? JSON.stringify(m.payload));

/**
 * Real payloads of every adapter, published by a site gateway over MQTT, must raise the ticket a
 * facilities team expects once their devices are configured.
 */
const CASES: { fixture: string; kind: string; assetId: string; fault: string }[] = [
  { fixture: 'tasmota/lwt-offline', kind: 'plumbing', assetId: 'pump-b1-circ', fault: 'offline' },
  {
    fixture: 'shelly/status-flood-alarm',
    kind: 'plumbing',
    assetId: 'shellyfloodg4-a0b1c2d3e4f5',
    fault: 'leak',
  },
  {
    fixture: 'shelly/status-switch-on-near-zero-power',
    kind: 'plumbing',
    assetId: 'shellyplus1pm-441793d69718',
    fault: 'pump_no_power',
  },
  { fixture: 'ttn/ws303-formatter-leak', kind: 'plumbing', assetId: 'leak-b1-riser', fault: 'leak' },
  { fixture: 'ttn/lwl03a-bytes-leak', kind: 'plumbing', assetId: '', fault: 'leak' },
  { fixture: 'native/state-plumbing-leak', kind: 'plumbing', assetId: 'leak-b1-riser', fault: 'leak' },
  { fixture: 'native/avail-text-offline', kind: 'lock', assetId: 'lock-3f-east', fault: 'offline' },
  {
    fixture: 'sparkplug/ndeath-matching-bdseq',
    kind: 'plumbing',
    assetId: 'water.pumproom-gw.booster-pump-1',
    fault: 'offline',
  },
];

describe('each adapter raises the right ticket over MQTT', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it.each(CASES)('$fixture → $fault', async ({ fixture, kind, assetId, fault }) => {
    const f = load(fixture);
    const match = new TopicRouter(adapters).match(f.topic);
    if (!match) throw new Error(`${f.topic} is not routed`);
    const asset = assetId || match.deviceId;
    t = await startTestApp({
      override: (c) => {
        const site = c.sites.find((s) => s.id === match.site);
        site?.devices.push({ id: asset, kind });
        c.rules.push(
          ruleSchema.parse({
            id: 'pump-dry-running',
            type: 'all',
            kinds: ['plumbing'],
            fault: 'pump_no_power',
            severity: 'major',
            conditions: [
              { metric: 'relay_on', equals: true },
              { metric: 'power_w', below: 5 },
            ],
          }),
        );
      },
    });
    const gw = await t.gateway(match.site);
    for (const m of [...(f.before ?? []), f]) await gw.publishAsync(m.topic, bytes(m), { qos: 1 });
    const token = await t.userToken('desk', 'staff');
    const tickets = await waitFor(
      async () => {
        const res = await t?.request<{ tickets: { assetId: string; fault: string }[] }>(
          'GET',
          '/api/tickets',
          {
            token,
          },
        );
        return res?.body.tickets.length ? res.body.tickets : undefined;
      },
      { what: `a ticket from ${fixture}` },
    );
    expect(tickets).toContainEqual(expect.objectContaining({ assetId: asset, fault }));
  });
});
