/**
 * Sparkplug B payload decoding on top of Eclipse Tahu's generated protobuf code (npm
 * `sparkplug-payload`, spBv1.0). We call the generated `Payload.decode` rather than Tahu's
 * `decodePayload()`: the latter picks a metric's value by its `datatype`, which a conformant
 * NDATA/DDATA leaves out ([tck-id-payloads-metric-datatype-not-req], the datatype comes from the
 * BIRTH), so it returns `value: null` for exactly the messages that matter. Here the value is kept
 * as "which oneof field was set" and typed later against the BIRTH's datatype.
 */
import { createRequire } from 'node:module';
import { z } from 'zod';
import { wireFormatDefect } from './wire.ts';

/** protobufjs gives uint64 fields as `Long` objects (or plain numbers without the long package). */
type ProtoLong = number | { low: number; high: number };

interface ProtoPropertyValue {
  isNull?: boolean;
  intValue?: number | null;
  longValue?: ProtoLong | null;
  stringValue?: string | null;
}

interface ProtoMetric {
  name?: string;
  alias?: ProtoLong;
  timestamp?: ProtoLong;
  datatype?: number;
  isHistorical?: boolean;
  isNull?: boolean;
  properties?: { keys?: string[]; values?: ProtoPropertyValue[] } | null;
  intValue?: number | null;
  longValue?: ProtoLong | null;
  floatValue?: number | null;
  doubleValue?: number | null;
  booleanValue?: boolean | null;
  stringValue?: string | null;
  /** protobufjs oneof getter: the name of the `value` field that is set. */
  readonly value?: string;
}

interface ProtoPayload {
  timestamp?: ProtoLong;
  seq?: ProtoLong;
  metrics?: ProtoMetric[];
}

interface TahuProtoRoot {
  org: { eclipse: { tahu: { protobuf: { Payload: { decode(bytes: Uint8Array): ProtoPayload } } } } };
}

// The package is CommonJS without an `exports` map; its own typings pull in protobufjs and long
// types we do not want in our API, so this file is the one typed seam.
const tahu = createRequire(import.meta.url)(
  'sparkplug-payload/lib/sparkplugPayloadProto.js',
) as TahuProtoRoot;
const ProtoPayloadType = tahu.org.eclipse.tahu.protobuf.Payload;

/** The metric value as sent: which protobuf field carried it, not yet typed by a datatype. */
export type RawValue =
  | { field: 'int'; value: number }
  | { field: 'long'; signed: number; unsigned: number }
  | { field: 'float' | 'double'; value: number }
  | { field: 'boolean'; value: boolean }
  | { field: 'string'; value: string }
  /** bytes, DataSet, Template or an extension: never a reading. */
  | { field: 'other' };

export interface SparkplugMetric {
  name?: string;
  alias?: number;
  /** Sparkplug datatype code (6.4.16); required in BIRTHs only. */
  datatype?: number;
  timestamp?: number;
  isNull: boolean;
  isHistorical: boolean;
  raw?: RawValue;
  /** `engUnit` (Ignition / Tahu examples) and `Quality` (6.4.9.1) from the metric's PropertySet. */
  engUnit?: string;
  quality?: number;
}

export interface SparkplugPayload {
  timestamp?: number;
  seq?: number;
  metrics: SparkplugMetric[];
}

const TWO_32 = 2 ** 32;
const TWO_64 = 2 ** 64;

function longToNumber(v: ProtoLong, signed: boolean): number {
  if (typeof v === 'number') return signed && v >= 2 ** 63 ? v - TWO_64 : v;
  // Long keeps both halves as signed int32; precision beyond 2^53 is lost, which is fine for
  // timestamps, sequence numbers and sensor values.
  return signed ? v.high * TWO_32 + (v.low >>> 0) : (v.high >>> 0) * TWO_32 + (v.low >>> 0);
}

const has = <K extends string>(o: object, key: K): boolean => Object.hasOwn(o, key);

function rawValue(m: ProtoMetric): RawValue | undefined {
  switch (m.value) {
    case 'intValue':
      return { field: 'int', value: (m.intValue ?? 0) >>> 0 };
    case 'longValue': {
      const v = m.longValue ?? 0;
      return { field: 'long', signed: longToNumber(v, true), unsigned: longToNumber(v, false) };
    }
    case 'floatValue':
      return { field: 'float', value: m.floatValue ?? 0 };
    case 'doubleValue':
      return { field: 'double', value: m.doubleValue ?? 0 };
    case 'booleanValue':
      return { field: 'boolean', value: m.booleanValue ?? false };
    case 'stringValue':
      return { field: 'string', value: m.stringValue ?? '' };
    case undefined:
      return undefined;
    default:
      return { field: 'other' };
  }
}

function properties(m: ProtoMetric): Pick<SparkplugMetric, 'engUnit' | 'quality'> {
  const out: Pick<SparkplugMetric, 'engUnit' | 'quality'> = {};
  const keys = m.properties?.keys ?? [];
  const values = m.properties?.values ?? [];
  // [tck-id-payloads-propertyset-keys-array-size]: keys and values pair up by index.
  keys.forEach((key, i) => {
    const pv = values[i];
    if (!pv || pv.isNull) return;
    if (key === 'engUnit' && typeof pv.stringValue === 'string') out.engUnit = pv.stringValue;
    if (key === 'Quality') {
      // [tck-id-payloads-propertyset-quality-value-type]: an Int32, so it travels in int_value.
      if (pv.intValue != null) out.quality = pv.intValue | 0;
      else if (pv.longValue != null) out.quality = longToNumber(pv.longValue, true);
    }
  });
  return out;
}

function toMetric(m: ProtoMetric): SparkplugMetric {
  const metric: SparkplugMetric = {
    isNull: m.isNull === true,
    isHistorical: m.isHistorical === true,
    ...properties(m),
  };
  // proto2 optional fields: presence is an own property, absence falls back to the prototype.
  if (has(m, 'name') && typeof m.name === 'string') metric.name = m.name;
  if (has(m, 'alias') && m.alias !== undefined) metric.alias = longToNumber(m.alias, false);
  if (has(m, 'datatype') && m.datatype !== undefined) metric.datatype = m.datatype;
  if (has(m, 'timestamp') && m.timestamp !== undefined) metric.timestamp = longToNumber(m.timestamp, false);
  const raw = rawValue(m);
  if (raw) metric.raw = raw;
  return metric;
}

export type DecodeResult = { ok: true; payload: SparkplugPayload } | { ok: false; reason: string };

/** Protobuf bytes to a payload, or a readable reason; never throws. */
export function decodeSparkplugPayload(bytes: Uint8Array): DecodeResult {
  // protobufjs decodes damaged bytes without complaint (see wire.ts): check the wire format first.
  const defect = wireFormatDefect(bytes);
  if (defect) return { ok: false, reason: `not a Sparkplug B protobuf payload: ${defect}` };
  let proto: ProtoPayload;
  try {
    proto = ProtoPayloadType.decode(bytes);
  } catch (err) {
    return { ok: false, reason: `not a Sparkplug B protobuf payload: ${(err as Error).message}` };
  }
  const payload: SparkplugPayload = { metrics: (proto.metrics ?? []).map(toMetric) };
  if (has(proto, 'timestamp') && proto.timestamp !== undefined) {
    payload.timestamp = longToNumber(proto.timestamp, false);
  }
  if (has(proto, 'seq') && proto.seq !== undefined) {
    const seq = longToNumber(proto.seq, false);
    // [tck-id-payloads-sequence-num-incrementing]: seq counts 0..255 and wraps.
    if (seq > 255) return { ok: false, reason: `seq ${seq} is outside 0..255` };
    payload.seq = seq;
  }
  return { ok: true, payload };
}

/** The route schema: the bytes in, a decoded payload out, or a schema issue with the decode error. */
export const sparkplugPayloadSchema = z.instanceof(Uint8Array).transform((bytes, ctx) => {
  const decoded = decodeSparkplugPayload(bytes);
  if (!decoded.ok) {
    ctx.addIssue({ code: 'custom', message: decoded.reason });
    return z.NEVER;
  }
  return decoded.payload;
});

/** The `bdSeq` metric of an NBIRTH or NDEATH ([tck-id-payloads-nbirth-bdseq], [...-ndeath-bdseq]). */
export function bdSeqOf(payload: SparkplugPayload): number | undefined {
  const raw = payload.metrics.find((m) => m.name === 'bdSeq')?.raw;
  if (raw?.field === 'long') return raw.unsigned;
  if (raw?.field === 'int') return raw.value;
  return undefined;
}
