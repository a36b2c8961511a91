/**
 * Pure helpers that turn OPC UA DataValue parts into xiaoer's terms. No node-opcua import: the
 * numbers below are fixed by the spec, and keeping this module light lets the unit tests and the
 * config path load without the (1.5 s) node-opcua import.
 */
import type { Instant, ReadingValue } from '../domain/types.ts';

export type StatusClass = 'good' | 'uncertain' | 'bad';

/**
 * The severity is in the top two bits of a StatusCode (OPC UA Part 4, "StatusCode"): 00 Good,
 * 01 Uncertain, 10 Bad; 11 is reserved and treated as Bad. Sub-codes (GoodClamped, UncertainLastUsableValue,
 * BadSensorFailure...) and the info bits below do not change the class.
 */
export function classifyStatus(code: number): StatusClass {
  const severity = (code >>> 30) & 0b11;
  if (severity === 0) return 'good';
  if (severity === 1) return 'uncertain';
  return 'bad';
}

/** A value whose status makes it unusable: it becomes a `sensor_fault` event, never a reading. */
export function isFaultStatus(code: number): boolean {
  return classifyStatus(code) !== 'good';
}

/** Built-in DataType ids (OPC UA Part 6, "Built-in Types") that need more than `typeof`. */
const DATA_TYPE = { Int64: 8, UInt64: 9, LocalizedText: 21 } as const;
const VARIANT_SCALAR = 0;

/** The parts of a node-opcua `Variant` this module reads. */
export interface VariantLike {
  dataType: number;
  arrayType?: number;
  value: unknown;
}

/**
 * The reading value of a Good variant: finite numbers, booleans, strings (and localized text).
 * Undefined for what a rule cannot compare: arrays, structures, NaN/Infinity, 64-bit integers
 * beyond 2^53, null.
 */
export function toReadingValue(variant: VariantLike | null | undefined): ReadingValue | undefined {
  if (!variant || (variant.arrayType ?? VARIANT_SCALAR) !== VARIANT_SCALAR) return undefined;
  const { value } = variant;
  if (variant.dataType === DATA_TYPE.Int64 || variant.dataType === DATA_TYPE.UInt64) return int64(value);
  if (variant.dataType === DATA_TYPE.LocalizedText) {
    const text = (value as { text?: unknown } | null)?.text;
    return typeof text === 'string' ? text : undefined;
  }
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'boolean' || typeof value === 'string') return value;
  return undefined;
}

/** node-opcua carries Int64/UInt64 as `[high, low]` 32-bit words. */
function int64(value: unknown): number | undefined {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : undefined;
  if (!Array.isArray(value) || value.length !== 2) return undefined;
  const [high, low] = value as [unknown, unknown];
  if (typeof high !== 'number' || typeof low !== 'number') return undefined;
  // Signed Int64 has a negative high word; the arithmetic below is exact up to 2^53.
  const n = high * 2 ** 32 + (low >>> 0);
  return Number.isSafeInteger(n) ? n : undefined;
}

const MAX_FUTURE_MS = 5 * 60_000;
/** Devices with an unset clock report 1601-01-01 (OPC UA's minimum DateTime) or 1970. */
const EARLIEST_SANE = Date.UTC(2000, 0, 1);

/**
 * When the value was measured: the server's sourceTimestamp if it is plausible, else our receipt
 * time. A BMS controller with a drifting clock must not put readings far into the future, where
 * they would outlive every later, correct one.
 */
export function readingTime(sourceTimestamp: Date | null | undefined, now: Instant): Instant {
  const t = sourceTimestamp?.getTime();
  if (t === undefined || !Number.isFinite(t)) return now;
  return t >= EARLIEST_SANE && t <= now + MAX_FUTURE_MS ? t : now;
}
