/**
 * Runs every fixture payload in `test/fixtures/<adapterId>/*.json` through the ingest's own decoder:
 * route the topic, decode the bytes, parse with the route's schema, then `toReadings`.
 * Adding an adapter means adding a fixture directory; this suite fails until both exist.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { adapters } from '../../../adapters/index.ts';
import { describeSchemaError } from '../../../src/ingest/decode.ts';
import { Decoder } from '../../../src/ingest/decoder.ts';
import { TopicRouter } from '../../../src/ingest/router.ts';

const FIXTURES_DIR = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const RECEIVED_AT = Date.UTC(2025, 0, 15, 0, 30);

const expectedReading = z.strictObject({
  /** Only when the reading is of another asset than the topic's device (a probe, a Sparkplug device). */
  assetId: z.string().optional(),
  metric: z.string(),
  value: z.union([z.number(), z.boolean(), z.string()]),
  unit: z.string().optional(),
});
const expectedEvent = z.strictObject({
  assetId: z.string().optional(),
  kind: z.enum(['fault', 'availability', 'action']),
  code: z.string(),
  /** Optional: when given, the event's detail must contain these entries. */
  detail: z.record(z.string(), z.unknown()).optional(),
});

const fixtureSchema = z
  .strictObject({
    description: z.string().min(1),
    topic: z.string().min(1),
    payload: z.json().optional(),
    payloadText: z.string().optional(),
    payloadBase64: z.base64().optional(),
    /** Messages run first, in order, to build adapter state (e.g. a Sparkplug NBIRTH before NDATA). */
    before: z
      .array(
        z.strictObject({
          topic: z.string(),
          payload: z.json().optional(),
          payloadText: z.string().optional(),
          payloadBase64: z.base64().optional(),
        }),
      )
      .optional(),
    expect: z.union([
      z.strictObject({
        readings: z.array(expectedReading),
        events: z.array(expectedEvent),
        /** A gateway announcing itself (GatewayPresence); absent: the message announces nothing. */
        presence: z.strictObject({ gateway: z.string(), online: z.boolean() }).optional(),
      }),
      z.strictObject({ rejected: z.enum(['schema', 'not_json', 'not_utf8', 'empty']) }),
    ]),
  })
  .refine(
    (f) => [f.payload, f.payloadText, f.payloadBase64].filter((p) => p !== undefined).length === 1,
    'give exactly one of payload, payloadText, payloadBase64',
  );
type Fixture = z.output<typeof fixtureSchema>;

interface FixtureFile {
  adapterId: string;
  file: string;
  name: string;
}

function listFixtures(): { dirs: string[]; files: FixtureFile[] } {
  const dirs = readdirSync(FIXTURES_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  const files = dirs.flatMap((adapterId) =>
    readdirSync(join(FIXTURES_DIR, adapterId))
      .filter((file) => file.endsWith('.json'))
      .sort()
      .map((file) => ({ adapterId, file, name: `${adapterId}/${file}` })),
  );
  return { dirs, files };
}

function loadFixture(f: FixtureFile): Fixture {
  const raw: unknown = JSON.parse(readFileSync(join(FIXTURES_DIR, f.adapterId, f.file), 'utf8'));
  const parsed = fixtureSchema.safeParse(raw);
  if (!parsed.success)
    throw new Error(`fixture ${f.name} is malformed: ${describeSchemaError(parsed.error)}`);
  return parsed.data;
}

function payloadBytes(f: { payload?: unknown; payloadText?: string; payloadBase64?: string }): Uint8Array {
  if (f.payloadBase64 !== undefined) return Buffer.from(f.payloadBase64, 'base64');
  if (f.payloadText !== undefined) return new TextEncoder().encode(f.payloadText);
  return new TextEncoder().encode(JSON.stringify(f.payload));
}

/** `site/device` pairs from config/example.yaml, so fixtures double as realistic ingest input. */
function sortKey(x: { metric?: string; kind?: string; code?: string; value?: unknown }): string {
  return `${x.metric ?? ''}\u0000${x.kind ?? ''}\u0000${x.code ?? ''}\u0000${JSON.stringify(x.value)}`;
}
const byKey = <T extends Parameters<typeof sortKey>[0]>(items: T[]): T[] =>
  [...items].sort((a, b) => sortKey(a).localeCompare(sortKey(b)));

const { dirs, files } = listFixtures();
const router = new TopicRouter(adapters);
// The ingest's own decoder (every site counts as configured here: fixtures name many).
const decoder = new Decoder(
  adapters,
  { maxPayloadBytes: 256 * 1024, maxDeviceIdLength: 128, maxJsonDepth: 32 },
  () => true,
);

/** The fixture's message, after its `before` messages, adapter state threaded as the ingest does. */
function decodeFixture(fixture: Fixture) {
  const states = new Map<string, unknown>();
  for (const [i, msg] of (fixture.before ?? []).entries()) {
    const outcome = decoder.decode(
      { topic: msg.topic, payload: payloadBytes(msg), qos: 1 },
      RECEIVED_AT,
      states,
    );
    if (outcome.kind !== 'decoded') throw new Error(`before[${i}]: ${JSON.stringify(outcome)}`);
  }
  return decoder.decode(
    { topic: fixture.topic, payload: payloadBytes(fixture), qos: 1 },
    RECEIVED_AT,
    states,
  );
}

describe('adapter fixtures', () => {
  it.each(dirs)('test/fixtures/%s/ names an adapter in the registry', (dir) => {
    expect(adapters.map((a) => a.id)).toContain(dir);
  });

  it.each(adapters.map((a) => a.id))('adapter %s has fixtures in test/fixtures/<id>/', (id) => {
    expect(files.filter((f) => f.adapterId === id).map((f) => f.file)).not.toHaveLength(0);
  });

  it.each(adapters.flatMap((a) => a.routes.map((r) => ({ adapterId: a.id, source: r.pattern.source }))))(
    'route $source of $adapterId is exercised by a fixture',
    ({ adapterId, source }) => {
      const topics = files.filter((f) => f.adapterId === adapterId).map((f) => loadFixture(f).topic);
      expect(topics.some((t) => router.match(t)?.route.pattern.source === source)).toBe(true);
    },
  );

  it.each(files)('$name', (file) => {
    const fixture = loadFixture(file);
    const match = router.match(fixture.topic);
    if (!match) throw new Error(`topic ${fixture.topic} is not routed to any adapter`);
    expect(match.route.adapterId).toBe(file.adapterId);

    const outcome = decodeFixture(fixture);
    if ('rejected' in fixture.expect) {
      expect(outcome.kind === 'rejected' ? outcome.reason : outcome.kind).toBe(fixture.expect.rejected);
      return;
    }
    if (outcome.kind !== 'decoded') throw new Error(`payload not decoded: ${JSON.stringify(outcome)}`);
    const { readings, events } = outcome.normalised;
    const ctx = { site: match.site, deviceId: match.deviceId };

    for (const stamped of [...readings, ...events]) {
      expect({ site: stamped.site, ts: stamped.ts }).toEqual({ site: ctx.site, ts: RECEIVED_AT });
    }
    const expectedAsset = (x: { assetId?: string }) => x.assetId ?? ctx.deviceId;
    expect(readings.map((r) => r.assetId).sort()).toEqual(fixture.expect.readings.map(expectedAsset).sort());
    expect(events.map((e) => e.assetId).sort()).toEqual(fixture.expect.events.map(expectedAsset).sort());
    const actualReadings = readings.map(({ metric, value, unit }) =>
      unit === undefined ? { metric, value } : { metric, value, unit },
    );
    const withoutAsset = <T extends { assetId?: string }>({ assetId: _a, ...rest }: T) => rest;
    expect(byKey(actualReadings)).toEqual(byKey(fixture.expect.readings.map(withoutAsset)));
    const actualEvents = events.map(({ kind, code, detail }) => ({ kind, code, detail }));
    expect(byKey(actualEvents)).toMatchObject(byKey(fixture.expect.events.map(withoutAsset)));
    const { presence } = fixture.expect;
    expect(outcome.normalised.presence).toEqual(presence && { site: ctx.site, ...presence });
  });
});
