import { describe, expect, it } from 'vitest';
import { influxSchema } from '../../../src/telemetry/config.ts';
import { classifyWriteError } from '../../../src/telemetry/influx-client.ts';
import {
  isTelemetryPoint,
  toInfluxPoint,
  toLine,
  toTelemetryPoint,
  unwritableReason,
} from '../../../src/telemetry/points.ts';
import { reading } from '../../helpers/domain.ts';

describe('telemetry points', () => {
  it('maps a reading to measurement = metric, tags asset/kind/site, field value, ms timestamp', () => {
    const point = toTelemetryPoint(reading('ahu-1', 'temperature_c', 21, 1_700_000_000_123, 'north'), 'hvac');
    expect(toInfluxPoint(point)).toEqual({
      measurement: 'temperature_c',
      tags: { asset: 'ahu-1', kind: 'hvac', site: 'north' },
      fields: { value: 21 },
      timestamp: 1_700_000_000_123,
    });
    expect(isTelemetryPoint(JSON.parse(JSON.stringify(point)))).toBe(true);
  });

  it('leaves the kind tag out when the asset kind is unknown (line protocol has no empty tag)', () => {
    const point = toTelemetryPoint(reading('x', 'water_leak', true, 1), undefined);
    expect(toInfluxPoint(point).tags).toEqual({ asset: 'x', site: 'xincheng' });
  });

  it.each([
    [reading('a', 'temperature_c', Number.NaN, 1), /NaN/],
    [reading('a', 'power_w', Number.POSITIVE_INFINITY, 1), /Infinity/],
    [reading('a', 'Temperature C', 1, 1), /snake_case/],
    [reading('a', 'temperature_c', 1, 1.5), /epoch ms/],
    [reading('', 'temperature_c', 1, 1), /empty/],
  ])('refuses what line protocol cannot carry: %o', (r, reason) => {
    expect(unwritableReason(r)).toMatch(reason);
  });

  it('accepts floats, booleans and strings', () => {
    for (const value of [0, -3.5, 1e21, true, false, 'not_fully_locked', 'quote " and \\ and\nnewline'])
      expect(unwritableReason(reading('a', 'some_metric', value, 1))).toBeUndefined();
  });

  it('writes line protocol as the influx client does: sorted tags, escapes, float/bool/string values', () => {
    const line = (assetId: string, value: number | boolean | string, kind?: string, site = 'north') =>
      toLine(toTelemetryPoint(reading(assetId, 'lock_state', value, 1_700_000_000_123, site), kind));
    expect(line('ahu-1', 21, 'hvac')).toBe(
      'lock_state,asset=ahu-1,kind=hvac,site=north value=21 1700000000123',
    );
    expect(line('m', 1e21)).toBe('lock_state,asset=m,site=north value=1e+21 1700000000123');
    expect(line('m', false)).toBe('lock_state,asset=m,site=north value=false 1700000000123');
    // Tag values escape `,` `=` and space; string values are quoted with `"` and `\` escaped.
    expect(line('door 1,a=b', 'say "hi" \\ ok', 'lock', 'x y')).toBe(
      'lock_state,asset=door\\ 1\\,a\\=b,kind=lock,site=x\\ y value="say \\"hi\\" \\\\ ok" 1700000000123',
    );
  });

  it('rejects spool lines that are not points', () => {
    for (const value of [null, 1, { m: 'x' }, { m: 'x', s: 's', a: 'a', v: null, t: 1 }])
      expect(isTelemetryPoint(value)).toBe(false);
  });
});

describe('influx config section', () => {
  it('has the documented defaults', () => {
    expect(influxSchema.parse({})).toEqual({
      url: 'http://127.0.0.1:8086',
      database: 'xiaoer',
      batchSize: 5000,
      flushIntervalMs: 1000,
      bufferMaxBytes: 256 * 1024 * 1024,
      requestTimeoutMs: 5000,
    });
  });

  it('refuses a non-HTTP URL', () => {
    expect(influxSchema.safeParse({ url: 'udp://127.0.0.1:8089' }).success).toBe(false);
  });
});

describe('write error classification', () => {
  const httpError = (statusCode: number, message: string) =>
    Object.assign(new Error(message), { res: { statusCode } });
  it.each([
    [httpError(400, 'A 400 Bad Request error occurred: {"error":"field type conflict"}'), 'reject'],
    [httpError(413, 'too large'), 'reject'],
    [httpError(404, 'A 404 error occurred: {"error":"database not found: \\"x\\""}'), 'database_missing'],
    [httpError(401, 'authorization failed'), 'retry'],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'retry'],
    [new Error('Request timed out'), 'retry'],
  ])('%s → %s', (err, expected) => {
    expect(classifyWriteError(err)).toBe(expected);
  });
});
