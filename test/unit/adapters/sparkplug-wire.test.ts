/**
 * The strict protobuf wire-format check that runs before protobufjs decodes a Sparkplug B payload.
 * Each defect is a crafted byte array (hex, annotated); most of them protobufjs decodes without
 * complaint into made-up values (a metric named from the next field's bytes, seq read from a
 * length-delimited field), so the schema must refuse them and the ingest dead-letter them.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { sparkplugPayloadSchema } from '../../../adapters/sparkplug/payload.ts';
import { MAX_DEPTH, wireFormatDefect } from '../../../adapters/sparkplug/wire.ts';
import { describeSchemaError } from '../../../src/ingest/decode.ts';

const hex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  return [...out, v];
}
/** A length-delimited field (wire type 2). */
const field = (num: number, body: number[]) => [...varint(num * 8 + 2), ...varint(body.length), ...body];

/** The schema's refusal, as the dead letter would show it. */
function refusal(bytes: Uint8Array): string {
  const parsed = sparkplugPayloadSchema.safeParse(bytes);
  return parsed.success ? 'accepted' : describeSchemaError(parsed.error);
}

describe('Sparkplug wire format: varints', () => {
  it.each([
    ['at the end of the payload', '08 ff', /Payload\.timestamp: varint at byte 1 runs past the end/],
    [
      // Metric of 2 bytes [10 ff]: alias varint continues into the Payload's next field.
      'across the end of its message (protobufjs reads alias 16383 from the next field)',
      '12 02 10 ff 7f 18 01',
      /Payload\.metrics\[0\]\.alias: varint at byte 3 runs past the end/,
    ],
    ['longer than 10 bytes', '08 ff ff ff ff ff ff ff ff ff ff 01', /longer than 10 bytes/],
    ['beyond 64 bits (10th byte above 1)', '08 ff ff ff ff ff ff ff ff ff 02', /does not fit 64 bits/],
    ['as a tag beyond 32 bits', '80 80 80 80 10 00', /tag at byte 0 does not fit 32 bits/],
  ])('refuses a varint %s', (_what, bytes, reason) => {
    expect(wireFormatDefect(hex(bytes))).toMatch(reason);
    expect(refusal(hex(bytes))).toMatch(/not a Sparkplug B protobuf payload/);
  });

  it('accepts the longest valid varint (a negative int64, 10 bytes ending in 01)', () => {
    expect(wireFormatDefect(hex('12 0b 58 ff ff ff ff ff ff ff ff ff 01'))).toBeUndefined();
  });
});

describe('Sparkplug wire format: lengths and fixed-size values', () => {
  it.each([
    [
      'a length past the end of the payload',
      '22 05 41 42',
      /Payload\.uuid: length-delimited value of 5 bytes at byte 2 runs past the end \(2 left\)/,
    ],
    [
      // Metric [0a 04 41]: its name claims 4 bytes, protobufjs reads "ABCD" out of the Payload.
      'a length past the end of its message',
      '12 03 0a 04 41 42 43 44 18 07',
      /Payload\.metrics\[0\]\.name: length-delimited value of 4 bytes at byte 4 runs past the end \(1 left\)/,
    ],
    [
      'a fixed32 past the end of its message',
      '12 03 65 00 00 00 00 18 01',
      /metrics\[0\]\.float_value: fixed32 of 4 bytes/,
    ],
    [
      'a fixed64 past the end of the payload',
      '12 05 69 00 00 00 00',
      /metrics\[0\]\.double_value: fixed64 of 8 bytes/,
    ],
    ['a length varint cut short', '12', /Payload\.metrics\[0\] length: varint at byte 1 runs past the end/],
  ])('refuses %s', (_what, bytes, reason) => {
    expect(wireFormatDefect(hex(bytes))).toMatch(reason);
    expect(refusal(hex(bytes))).toMatch(reason);
  });
});

describe('Sparkplug wire format: wire types and field numbers', () => {
  it.each([
    ['7', '0f 00', /Payload\.timestamp: wire type 7 \(no such wire type\) at byte 0/],
    ['6', '0e 00', /wire type 6 \(no such wire type\)/],
    [
      '3 (start group, deprecated)',
      '33 34 18 00',
      /Payload field 6: wire type 3 \(start group, deprecated\)/,
    ],
    ['4 (end group, deprecated)', '34', /wire type 4 \(end group, deprecated\)/],
  ])('refuses wire type %s, for known and unknown fields alike', (_what, bytes, reason) => {
    expect(wireFormatDefect(hex(bytes))).toMatch(reason);
  });

  it.each(['00 00', '02 00', '12 02 00 00'])('refuses field number 0 (%s)', (bytes) => {
    expect(wireFormatDefect(hex(bytes))).toMatch(/field number 0 at byte \d/);
  });

  it.each([
    // protobufjs reads seq as a varint from the length byte: seq 0, then 1.
    [
      'Payload.seq as length-delimited',
      '1a 00 18 01',
      /Payload\.seq \(field 3\): wire type 2 \(length-delimited\) at byte 0, declared 0 \(varint\)/,
    ],
    // protobufjs reads the varint 0 as the name's length: name "".
    [
      'Metric.name as a varint',
      '12 02 08 00',
      /Payload\.metrics\[0\]\.name \(field 1\): wire type 0 \(varint\) at byte 2, declared 2/,
    ],
    [
      'Metric.double_value as fixed32',
      '12 05 6d 00 00 00 00',
      /double_value \(field 13\): wire type 5 \(fixed32\).*declared 1 \(fixed64\)/,
    ],
    [
      'Payload.timestamp as fixed64',
      '09 00 00 00 00 00 00 00 00',
      /Payload\.timestamp \(field 1\): wire type 1/,
    ],
    [
      'PropertyValue.type, deep inside a metric',
      '12 06 4a 04 12 02 0a 00',
      /Payload\.metrics\[0\]\.properties\.values\[0\]\.type \(field 1\): wire type 2/,
    ],
    ['MetaData.size as length-delimited', '12 04 42 02 1a 00', /metrics\[0\]\.metadata\.size \(field 3\)/],
  ])('refuses %s: the wire type must match the declared type', (_what, bytes, reason) => {
    expect(wireFormatDefect(hex(bytes))).toMatch(reason);
    expect(refusal(hex(bytes))).toMatch(/not a Sparkplug B protobuf payload: /);
  });

  it('names the repeated field and its index', () => {
    const ok = field(2, [0x10, 0x01]);
    const bad = field(2, [0x0a, 0x05]); // Metric.name with a length past its end
    expect(wireFormatDefect(new Uint8Array([...ok, ...ok, ...bad]))).toMatch(
      /^Payload\.metrics\[2\]\.name: /,
    );
  });
});

describe('Sparkplug wire format: what stays allowed', () => {
  it('accepts unknown fields of every valid wire type (forward compatibility), not walked inside', () => {
    // Payload field 6 varint, field 7 length-delimited holding bytes that are no message,
    // Metric field 20 fixed32 and field 21 fixed64.
    const metric = field(2, [0x0a, 0x01, 0x54, 0xa5, 0x01, 1, 2, 3, 4, 0xa9, 0x01, 1, 2, 3, 4, 5, 6, 7, 8]);
    const bytes = new Uint8Array([0x30, 0x01, ...field(7, [0xff, 0xff]), ...metric, 0x18, 0x00]);
    expect(wireFormatDefect(bytes)).toBeUndefined();
    expect(refusal(bytes)).toBe('accepted');
  });

  it('bounds-checks DataSet, Template and extension values as opaque bytes', () => {
    expect(wireFormatDefect(new Uint8Array(field(2, field(17, [0xff, 0xff, 0x07]))))).toBeUndefined();
    expect(wireFormatDefect(new Uint8Array(field(2, field(18, [0x0f]))))).toBeUndefined();
    expect(wireFormatDefect(hex('12 03 8a 01 05'))).toMatch(
      /metrics\[0\]\.dataset_value: length-delimited value of 5 bytes/,
    );
  });

  it('accepts what Eclipse Tahu encodes: properties, nested property sets, metadata, DataSet, Template', () => {
    const require = createRequire(import.meta.url);
    const tahu = (
      require('sparkplug-payload') as { get(ns: string): { encodePayload(p: object): Uint8Array } }
    ).get('spBv1.0');
    const bytes = tahu.encodePayload({
      timestamp: Date.UTC(2025, 0, 15),
      seq: 0,
      metrics: [
        { name: 'bdSeq', type: 'Int64', value: 3 },
        {
          name: 'Pump/Power',
          alias: 2,
          type: 'Double',
          value: -1.5,
          metadata: { contentType: 'x', size: 4, seq: 1, fileName: 'a', md5: 'b', description: 'c' },
          properties: {
            engUnit: { type: 'String', value: 'kW' },
            Quality: { type: 'Int32', value: 192 },
            limits: { type: 'PropertySet', value: { hi: { type: 'Float', value: 9.5 } } },
          },
        },
        { name: 'Count', type: 'Int32', value: -3 },
        {
          name: 'Table',
          type: 'DataSet',
          value: { numOfColumns: 2, columns: ['a', 'b'], types: ['Int32', 'String'], rows: [[1, 'x']] },
        },
        {
          name: 'Motor',
          type: 'Template',
          value: { isDefinition: true, metrics: [{ name: 'rpm', type: 'Float', value: 3 }], parameters: [] },
        },
      ],
    });
    expect(wireFormatDefect(bytes)).toBeUndefined();
  });
});

describe('Sparkplug wire format: nesting', () => {
  /** A PropertyValue nested `levels` times through propertyset_value -> PropertySet.values. */
  function nested(levels: number): Uint8Array {
    let value: number[] = [0x08, 0x0c]; // PropertyValue { type: String }
    for (let i = 0; i < levels; i++) value = field(9, field(2, value));
    return new Uint8Array(field(2, field(9, field(2, value))));
  }
  const depthOf = (levels: number) => 4 + 2 * levels; // Payload, Metric, PropertySet, PropertyValue, ...

  it(`walks property sets nested up to MAX_DEPTH (${MAX_DEPTH}) messages`, () => {
    const levels = (MAX_DEPTH - 4) / 2;
    expect(depthOf(levels)).toBe(MAX_DEPTH);
    expect(wireFormatDefect(nested(levels))).toBeUndefined();
  });

  it('refuses deeper nesting before protobufjs recurses into it', () => {
    expect(wireFormatDefect(nested((MAX_DEPTH - 4) / 2 + 1))).toMatch(/nested deeper than 32/);
    expect(refusal(nested(200))).toMatch(/nested deeper than 32/);
  });
});
