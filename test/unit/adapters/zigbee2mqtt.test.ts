/**
 * Zigbee2MQTT logic the fixtures cannot show well: which field a refused number is reported under.
 * Payload cases live in test/fixtures/zigbee2mqtt/.
 */
import { describe, expect, it } from 'vitest';
import { z2mStateSchema } from '../../../adapters/zigbee2mqtt.ts';
import { describeSchemaError } from '../../../src/ingest/decode.ts';

describe('zigbee2mqtt numbers', () => {
  it('refuses a legacy numeric string too large for a double, naming the field', () => {
    const result = z2mStateSchema.safeParse({ battery: '9'.repeat(400), linkquality: 120 });
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(describeSchemaError(result.error)).toMatch(/^battery: .*range of a double/);
  });

  // The largest double written out in full: 309 digits, still finite.
  const maxDouble = `17976931348623157${'0'.repeat(292)}`;
  it.each(['-327.68', '80.00', '0', maxDouble])(
    'still reads the legacy string %s as a finite number',
    (text) => {
      const result = z2mStateSchema.safeParse({ battery: text });
      expect(result.success && Number.isFinite(result.data.battery)).toBe(true);
    },
  );

  it('refuses JSON 1e400 (Infinity once parsed) under its field', () => {
    const result = z2mStateSchema.safeParse(JSON.parse('{"temperature":1e400}'));
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(describeSchemaError(result.error)).toMatch(/^temperature: /);
  });

  it('takes null as unknown for every mapped field', () => {
    const fields = Object.keys(z2mStateSchema.shape);
    const result = z2mStateSchema.safeParse(Object.fromEntries(fields.map((f) => [f, null])));
    expect(result.success).toBe(true);
  });
});
