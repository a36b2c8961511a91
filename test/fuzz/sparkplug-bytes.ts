import type { Rng } from './random.ts';

/**
 * Random Sparkplug B payloads in the protobuf wire format (protobuf.dev/programming-guides/encoding),
 * field numbers from Eclipse Tahu's sparkplug_b.proto: mostly the right shape with values a real
 * edge node never sends (NaN and infinite doubles, datatypes out of range, 64-bit aliases, seq
 * past 255, property sets nested past any depth limit), and now and then a wire-level defect
 * (an impossible wire type, field 0, a length past the end, an 11-byte varint).
 */

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

function varint(value: bigint): Buffer {
  const out: number[] = [];
  let v = BigInt.asUintN(64, value);
  do {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? byte | 0x80 : byte);
  } while (v > 0n);
  return Buffer.from(out);
}

const tag = (field: number, wire: number): Buffer => varint((BigInt(field) << 3n) | BigInt(wire));
const field = {
  varint: (n: number, v: bigint) => Buffer.concat([tag(n, VARINT), varint(v)]),
  bytes: (n: number, b: Buffer) => Buffer.concat([tag(n, LEN), varint(BigInt(b.length)), b]),
  fixed32: (n: number, b: Buffer) => Buffer.concat([tag(n, I32), b.subarray(0, 4)]),
  fixed64: (n: number, b: Buffer) => Buffer.concat([tag(n, I64), b.subarray(0, 8)]),
};

const double = (x: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(x);
  return b;
};
const float = (x: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeFloatLE(x);
  return b;
};

/** 2025-01-15T00:30:00Z, the fixtures' time: a fixed instant keeps the bytes a function of the seed. */
const FIXTURE_TIME = 1_736_901_000_000n;

function oddBigint(rng: Rng): bigint {
  return rng.pick([
    0n,
    1n,
    255n,
    256n,
    2n ** 31n,
    2n ** 32n,
    2n ** 63n,
    2n ** 64n - 1n,
    FIXTURE_TIME,
    BigInt(rng.uint32()),
    (BigInt(rng.uint32()) << 32n) | BigInt(rng.uint32()),
  ]);
}

const METRIC_NAMES = [
  'bdSeq',
  'Node Control/Rebirth',
  'Inputs/Leak',
  'Supply/Pressure',
  'Supply/Flow',
  'Temperature',
  'Status/Last Error',
  '',
  'a/b/c/d/e/f/g',
  '水压',
];

function metricName(rng: Rng): Buffer {
  if (rng.chance(0.05)) return Buffer.from('x'.repeat(rng.int(200, 3000)));
  if (rng.chance(0.05)) return Buffer.from([0x4c, 0xff, 0xfe, 0x65]); // not UTF-8
  return Buffer.from(rng.pick(METRIC_NAMES));
}

/** PropertySet (keys, values) with values that may nest further property sets. */
function propertySet(rng: Rng, depth: number): Buffer {
  const parts: Buffer[] = [field.bytes(1, Buffer.from('engUnit'))];
  const value: Buffer[] = [field.varint(1, BigInt(rng.int(0, 20)))];
  if (depth > 0) value.push(field.bytes(9, propertySet(rng, depth - 1)));
  else value.push(field.bytes(8, Buffer.from(rng.pick(['bar', 'kPa', '', '°C']))));
  parts.push(field.bytes(2, Buffer.concat(value)));
  return Buffer.concat(parts);
}

function metricValue(rng: Rng): Buffer {
  switch (rng.int(0, 7)) {
    case 0:
      return field.varint(10, oddBigint(rng));
    case 1:
      return field.varint(11, oddBigint(rng));
    case 2:
      return field.fixed32(
        12,
        rng.chance(0.5) ? float(rng.pick([Number.NaN, Infinity, -Infinity, 3.1])) : rng.bytes(4),
      );
    case 3:
      return field.fixed64(
        13,
        double(rng.pick([Number.NaN, Infinity, -Infinity, 1e308, -1e308, 5e-324, 22.5])),
      );
    case 4:
      return field.varint(14, rng.pick([0n, 1n, 2n, 2n ** 64n - 1n]));
    case 5:
      return field.bytes(
        15,
        rng.chance(0.2) ? Buffer.from([0xc0, 0xaf]) : Buffer.from(rng.pick(['on', 'NaN', '1e309', ''])),
      );
    case 6:
      return field.bytes(rng.pick([16, 17, 18, 19]), rng.bytes(rng.int(0, 40)));
    default:
      return field.varint(7, 1n); // is_null
  }
}

function metric(rng: Rng): Buffer {
  const parts: Buffer[] = [];
  if (rng.chance(0.7)) parts.push(field.bytes(1, metricName(rng)));
  if (rng.chance(0.5)) parts.push(field.varint(2, rng.chance(0.7) ? BigInt(rng.int(0, 8)) : oddBigint(rng)));
  if (rng.chance(0.6)) parts.push(field.varint(3, oddBigint(rng)));
  if (rng.chance(0.8)) parts.push(field.varint(4, rng.chance(0.8) ? BigInt(rng.int(1, 20)) : oddBigint(rng)));
  if (rng.chance(0.1)) parts.push(field.bytes(9, propertySet(rng, rng.pick([1, 5, 31, 32, 40]))));
  for (let i = rng.int(0, 2); i > 0; i--) parts.push(metricValue(rng));
  return Buffer.concat(parts);
}

/** A defect the pre-decode walk must refuse. */
function wireDefect(rng: Rng): Buffer {
  return rng.pick<() => Buffer>([
    () => Buffer.concat([tag(rng.int(1, 20), rng.pick([3, 4, 6, 7])), rng.bytes(4)]),
    () => Buffer.concat([tag(0, VARINT), Buffer.from([1])]),
    () => Buffer.concat([tag(2, LEN), varint(BigInt(rng.int(50, 100_000))), rng.bytes(10)]),
    () => Buffer.concat([tag(1, VARINT), Buffer.alloc(11, 0xff)]),
    () => Buffer.concat([tag(2, VARINT), varint(5n)]), // metrics as a varint
    () => Buffer.concat([tag(3, LEN), varint(2n), Buffer.from('ab')]), // seq as bytes
    () => Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]), // a tag past 32 bits
  ])();
}

/** A Payload message: timestamp, metrics, seq, and sometimes uuid, body and unknown fields. */
export function sparkplugPayload(rng: Rng): Buffer {
  const parts: Buffer[] = [];
  if (rng.chance(0.9))
    parts.push(
      field.varint(1, rng.chance(0.7) ? FIXTURE_TIME + BigInt(rng.int(0, 86_400_000)) : oddBigint(rng)),
    );
  for (let i = rng.count(0, 3, 200); i > 0; i--) parts.push(field.bytes(2, metric(rng)));
  if (rng.chance(0.8))
    parts.push(field.varint(3, rng.chance(0.7) ? BigInt(rng.int(0, 255)) : oddBigint(rng)));
  if (rng.chance(0.1)) parts.push(field.bytes(4, Buffer.from('uuid-fuzz')));
  if (rng.chance(0.1)) parts.push(field.bytes(5, rng.bytes(rng.int(0, 64))));
  if (rng.chance(0.1)) parts.push(field.varint(rng.int(6, 536_870_911), oddBigint(rng)));
  if (rng.chance(0.2)) parts.splice(rng.int(0, parts.length), 0, wireDefect(rng));
  return Buffer.concat(parts);
}
