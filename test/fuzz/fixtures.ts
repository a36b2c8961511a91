import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The real device messages of test/fixtures/<adapter>/*.json (and the messages each fixture sends
 * first, such as a Sparkplug NBIRTH): the seeds the fuzz mutates. Each keeps its topic without the
 * site level, so the fuzz can put it under any site.
 */
export interface SeedMessage {
  adapter: string;
  /** The topic after `<site>/`, e.g. `zigbee2mqtt/leak-b1-riser`. */
  topicTail: string;
  payload: Buffer;
  /** Whether the payload is JSON text (mutated as a value tree) or bytes (Sparkplug protobuf, text). */
  json: boolean;
}

const FIXTURES_DIR = path.resolve(import.meta.dirname, '../fixtures');

interface FixtureMessage {
  topic?: unknown;
  payload?: unknown;
  payloadText?: unknown;
  payloadBase64?: unknown;
}

let cached: readonly SeedMessage[] | undefined;

/** Every fixture message, in a stable order (the same seed must pick the same message). */
export function seedMessages(): readonly SeedMessage[] {
  cached ??= readdirSync(FIXTURES_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .flatMap((adapter) =>
      readdirSync(path.join(FIXTURES_DIR, adapter))
        .filter((f) => f.endsWith('.json'))
        .sort()
        .flatMap((file) => {
          const fixture = JSON.parse(readFileSync(path.join(FIXTURES_DIR, adapter, file), 'utf8')) as {
            before?: FixtureMessage[];
          } & FixtureMessage;
          return [...(fixture.before ?? []), fixture].flatMap((m) => seedOf(adapter, m) ?? []);
        }),
    );
  if (cached.length === 0) throw new Error(`no fixture messages under ${FIXTURES_DIR}`);
  return cached;
}

function seedOf(adapter: string, m: FixtureMessage): SeedMessage | undefined {
  if (typeof m.topic !== 'string') return undefined;
  const topicTail = m.topic.slice(m.topic.indexOf('/') + 1);
  if (typeof m.payloadBase64 === 'string')
    return { adapter, topicTail, payload: Buffer.from(m.payloadBase64, 'base64'), json: false };
  if (typeof m.payloadText === 'string')
    return { adapter, topicTail, payload: Buffer.from(m.payloadText), json: false };
  if (m.payload === undefined) return undefined;
  return { adapter, topicTail, payload: Buffer.from(JSON.stringify(m.payload)), json: true };
}
