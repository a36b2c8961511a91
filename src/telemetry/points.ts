import type { IPoint } from 'influx';
import type { Reading, ReadingValue } from '../domain/types.ts';

/**
 * One reading as it is buffered and spooled (one NDJSON line): short keys, because a spool of
 * 256 MiB should hold as many points as it can. The asset kind is resolved when the reading
 * arrives, so a point drained hours later carries the kind the asset had at the time.
 */
export interface TelemetryPoint {
  /** Measurement: the canonical metric name. */
  m: string;
  s: string;
  a: string;
  k?: string;
  v: ReadingValue;
  /** Epoch milliseconds. */
  t: number;
}

export type AssetKindLookup = (site: string, assetId: string) => string | undefined;

/**
 * The influx client writes the measurement name into the line protocol without escaping it
 * (influx 5.12 `writePoints`), and canonical names are snake_case anyway; anything else would be
 * an adapter bug, so it is refused rather than escaped.
 */
const MEASUREMENT = /^[a-z][a-z0-9_]*$/;

/** Why a reading cannot become a point, or undefined when it can. */
export function unwritableReason(reading: Reading): string | undefined {
  if (!MEASUREMENT.test(reading.metric)) return `metric name "${reading.metric}" is not snake_case`;
  if (typeof reading.value === 'number' && !Number.isFinite(reading.value))
    return `${reading.metric} is ${reading.value}, which line protocol cannot carry`;
  if (!Number.isSafeInteger(reading.ts) || reading.ts < 0) return `timestamp ${reading.ts} is not epoch ms`;
  // Line protocol has no way to write an empty tag value; such a point would fail the whole batch.
  if (reading.site === '' || reading.assetId === '') return 'empty site or asset id';
  return undefined;
}

export function toTelemetryPoint(reading: Reading, kind: string | undefined): TelemetryPoint {
  const point: TelemetryPoint = {
    m: reading.metric,
    s: reading.site,
    a: reading.assetId,
    v: reading.value,
    t: reading.ts,
  };
  if (kind) point.k = kind;
  return point;
}

/**
 * Measurement = canonical metric, tags site/asset/kind, one field `value`, time in ms.
 * InfluxDB 1.x fixes a field's type per shard at its first write. A JS number is written without
 * the `i` suffix, so it is always a float (21 and 21.5 share one type); booleans and strings keep
 * their own types. A canonical metric has one value type, so `value` stays consistent per measurement.
 */
export function toInfluxPoint(point: TelemetryPoint): IPoint {
  // Keys in sorted order: InfluxDB sorts them on every write otherwise (line protocol docs).
  const tags: Record<string, string> = point.k
    ? { asset: point.a, kind: point.k, site: point.s }
    : { asset: point.a, site: point.s };
  return { measurement: point.m, tags, fields: { value: point.v }, timestamp: point.t };
}

/** Spool lines are parsed back from disk: anything that is not a point is skipped, not sent. */
export function isTelemetryPoint(value: unknown): value is TelemetryPoint {
  if (typeof value !== 'object' || value === null) return false;
  const p = value as Record<string, unknown>;
  const v = p.v;
  return (
    typeof p.m === 'string' &&
    MEASUREMENT.test(p.m) &&
    typeof p.s === 'string' &&
    p.s !== '' &&
    typeof p.a === 'string' &&
    p.a !== '' &&
    (p.k === undefined || typeof p.k === 'string') &&
    (typeof v === 'boolean' || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) &&
    typeof p.t === 'number' &&
    Number.isSafeInteger(p.t)
  );
}

const TAG_SPECIAL = /[,= ]/;
const TAG_SPECIAL_ALL = /[,= ]/g;
const STRING_SPECIAL = /["\\]/;
const STRING_SPECIAL_ALL = /["\\]/g;

/**
 * The same point as `toInfluxPoint`, as one line of line protocol with ms timestamps: about six
 * times cheaper than the influx client's generic serializer, which matters because it runs on the
 * event loop that ingest uses, for every reading. Same output as the client for what xiaoer writes:
 * the measurement is snake_case (checked), tag values get `,` `=` and space escaped, string values
 * are quoted with `"` and `\` escaped, numbers are floats (no `i` suffix), booleans true/false.
 */
export function toLine(point: TelemetryPoint): string {
  const tags = point.k
    ? `asset=${escapeTag(point.a)},kind=${escapeTag(point.k)},site=${escapeTag(point.s)}`
    : `asset=${escapeTag(point.a)},site=${escapeTag(point.s)}`;
  const v = point.v;
  const value =
    typeof v === 'string'
      ? `"${STRING_SPECIAL.test(v) ? v.replace(STRING_SPECIAL_ALL, '\\$&') : v}"`
      : String(v);
  return `${point.m},${tags} value=${value} ${point.t}`;
}

function escapeTag(value: string): string {
  return TAG_SPECIAL.test(value) ? value.replace(TAG_SPECIAL_ALL, '\\$&') : value;
}
