import { DataType, StatusCodes, Variant, VariantArrayType } from 'node-opcua';
import { describe, expect, it } from 'vitest';
import { classifyStatus, isFaultStatus, readingTime, toReadingValue } from '../../../src/opcua/status.ts';

describe('OPC UA status classification', () => {
  it.each([
    ['Good', 'good'],
    ['GoodClamped', 'good'],
    ['GoodLocalOverride', 'good'],
    ['UncertainLastUsableValue', 'uncertain'],
    ['UncertainSensorNotAccurate', 'uncertain'],
    ['UncertainEngineeringUnitsExceeded', 'uncertain'],
    ['BadSensorFailure', 'bad'],
    ['BadNodeIdUnknown', 'bad'],
    ['BadCommunicationError', 'bad'],
    ['BadOutOfService', 'bad'],
    ['BadWaitingForInitialData', 'bad'],
  ] as const)('%s is %s', (name, expected) => {
    const code = StatusCodes[name];
    expect(classifyStatus(code.value)).toBe(expected);
    expect(isFaultStatus(code.value)).toBe(expected !== 'good');
  });

  it('ignores the info bits: a Good value with overflow bits set is still good', () => {
    expect(classifyStatus(StatusCodes.Good.value | 0x0480)).toBe('good');
    expect(classifyStatus(StatusCodes.BadSensorFailure.value | 0x0400)).toBe('bad');
  });

  it('treats the reserved severity 11 as bad', () => {
    expect(classifyStatus(0xc0000000)).toBe('bad');
  });
});

describe('OPC UA values as readings', () => {
  const v = (dataType: DataType, value: unknown) =>
    new Variant({ dataType, arrayType: VariantArrayType.Scalar, value });

  it('keeps numbers, booleans and text', () => {
    expect(toReadingValue(v(DataType.Double, 21.5))).toBe(21.5);
    expect(toReadingValue(v(DataType.Float, 0.5))).toBe(0.5);
    expect(toReadingValue(v(DataType.Int32, -3))).toBe(-3);
    expect(toReadingValue(v(DataType.Boolean, false))).toBe(false);
    expect(toReadingValue(v(DataType.String, 'AUTO'))).toBe('AUTO');
    expect(toReadingValue(v(DataType.LocalizedText, { text: '运行' }))).toBe('运行');
  });

  it('turns node-opcua 64-bit [high, low] words into numbers while exact', () => {
    expect(toReadingValue(v(DataType.UInt64, [0, 4_000_000_000]))).toBe(4_000_000_000);
    expect(toReadingValue(v(DataType.UInt64, [1, 0]))).toBe(2 ** 32);
    expect(toReadingValue(v(DataType.Int64, [-1, 0xffffffff]))).toBe(-1);
    expect(toReadingValue(v(DataType.UInt64, [0xffffffff, 0xffffffff]))).toBeUndefined();
  });

  it('drops what a rule cannot compare', () => {
    expect(toReadingValue(v(DataType.Double, Number.NaN))).toBeUndefined();
    expect(toReadingValue(v(DataType.Null, null))).toBeUndefined();
    expect(
      toReadingValue(
        new Variant({ dataType: DataType.Double, arrayType: VariantArrayType.Array, value: [1, 2] }),
      ),
    ).toBeUndefined();
    expect(toReadingValue(v(DataType.DateTime, new Date()))).toBeUndefined();
    expect(toReadingValue(undefined)).toBeUndefined();
  });
});

describe('reading time', () => {
  const now = Date.UTC(2026, 2, 1, 8, 0, 0);

  it("uses the server's source timestamp when plausible", () => {
    const measured = new Date(now - 1500);
    expect(readingTime(measured, now)).toBe(now - 1500);
    expect(readingTime(new Date(now + 4 * 60_000), now)).toBe(now + 4 * 60_000);
  });

  it('falls back to the receipt time for a missing, unset or far-future clock', () => {
    expect(readingTime(null, now)).toBe(now);
    expect(readingTime(undefined, now)).toBe(now);
    expect(readingTime(new Date(Date.UTC(1601, 0, 1)), now)).toBe(now);
    expect(readingTime(new Date(now + 6 * 60_000), now)).toBe(now);
    expect(readingTime(new Date(Number.NaN), now)).toBe(now);
  });
});
