import { DecodeError, need, u8, u16be, u24be, u32be } from './bytes.ts';

/**
 * Dragino LWL03A rope-type water leak controller.
 *
 * Layout from dragino/dragino-end-node-decoder `LWL03A/LWL03A_v1.0TTN.txt` (the same code as
 * TheThingsNetwork/lorawan-devices `vendor/dragino/lwl03a.js`) and the LWL03A user manual:
 *   fPort 2, 11 bytes (any port but 3/4/5 in the vendor decoder):
 *     0     flags: bit2 periodic (TDC) uplink, bit1 leak alarm, bit0 water leak
 *     1-3   total leak events, u24 BE
 *     4-6   last leak duration in minutes, u24 BE
 *     7-10  device clock, Unix seconds, u32 BE
 *   fPort 5, 7 bytes, device status: model (0x14 = LWL03A), firmware(2), band, sub-band,
 *     battery in mV u16 BE
 *   fPort 3 (data log, sent on request) and 4 (configuration) carry no current state.
 * e.g. `01 00 00 0A 00 00 0A 63 5C D2 F2` on fPort 2 is a leak, 10 events, last one 10 minutes,
 * 2022-10-29 07:14:58 UTC (lwl03a-codec.yaml example).
 *
 * Field names and values are the vendor decoder's (`WATER_LEAK_STATUS: 'LEAK' | 'NO LEAK'`).
 */
export interface Lwl03aUplink {
  TDC?: 'YES' | 'NO';
  ALARM?: 'TRUE' | 'FALSE';
  WATER_LEAK_STATUS?: 'LEAK' | 'NO LEAK';
  WATER_LEAK_TIMES?: number;
  LAST_WATER_LEAK_DURATION?: number;
  /** The device's own clock, UTC `YYYY-MM-DD HH:MM:SS`; not used for reading times (unsynchronised). */
  TIME?: string;
  SENSOR_MODEL?: string;
  FIRMWARE_VERSION?: string;
  FREQUENCY_BAND?: string;
  /** Battery, volts. */
  BAT?: number;
}

// Index = the band byte of the fPort 5 status frame.
const BANDS = [
  undefined,
  'EU868',
  'US915',
  'IN865',
  'AU915',
  'KZ865',
  'RU864',
  'AS923',
  'AS923_1',
  'AS923_2',
  'AS923_3',
  'CN470',
  'EU433',
  'KR920',
  'MA869',
] as const;

export function decodeLwl03a(bytes: Uint8Array, fPort: number): Lwl03aUplink {
  if (fPort === 3 || fPort === 4) return {};
  if (fPort === 5) return deviceStatus(bytes);
  return leakStatus(bytes);
}

function leakStatus(bytes: Uint8Array): Lwl03aUplink {
  if (bytes.length !== 11) {
    throw new DecodeError(`lwl03a: a status frame has 11 bytes, this one ${bytes.length}`);
  }
  const flags = u8(bytes, 0);
  return {
    TDC: flags & 0x04 ? 'YES' : 'NO',
    ALARM: flags & 0x02 ? 'TRUE' : 'FALSE',
    WATER_LEAK_STATUS: flags & 0x01 ? 'LEAK' : 'NO LEAK',
    WATER_LEAK_TIMES: u24be(bytes, 1),
    LAST_WATER_LEAK_DURATION: u24be(bytes, 4),
    TIME: new Date(u32be(bytes, 7) * 1000).toISOString().slice(0, 19).replace('T', ' '),
  };
}

function deviceStatus(bytes: Uint8Array): Lwl03aUplink {
  need(bytes, 0, 7, 'lwl03a device status');
  const out: Lwl03aUplink = {
    FIRMWARE_VERSION: `${u8(bytes, 1) & 0x0f}.${(u8(bytes, 2) >> 4) & 0x0f}.${u8(bytes, 2) & 0x0f}`,
    BAT: u16be(bytes, 5) / 1000,
  };
  if (u8(bytes, 0) === 0x14) out.SENSOR_MODEL = 'LWL03A';
  const band = BANDS[u8(bytes, 3)];
  if (band) out.FREQUENCY_BAND = band;
  return out;
}
