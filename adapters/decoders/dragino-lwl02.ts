import { need, u8, u16be, u24be } from './bytes.ts';

/**
 * Dragino LWL02 water leak sensor (the same board as the LDS02 door sensor; MOD selects the role).
 *
 * Layout from TheThingsNetwork/lorawan-devices `vendor/dragino/lwl02.js` and the LWL02 user
 * manual, fPort 10, 10 bytes:
 *   0-1   bit15 door open, bit14 water leak, bits13-0 battery in mV
 *   2     MOD: 1 door sensor, 2 water leak sensor, 3 door + leak
 *   3-5   MOD 1: door open events / MOD 2: leak events, u24 BE
 *   6-8   MOD 1: last open duration / MOD 2: last leak duration, minutes, u24 BE
 *   9     bit0 alarm (MOD 1 and 3)
 * e.g. `4B E2 02 00 00 08 00 00 01 00` is 3.042 V, MOD 2, leak, 8 events, last one 1 minute.
 *
 * Field names are the vendor decoder's (`BAT_V`, `WATER_LEAK_STATUS: 1 | 0`). In MOD 1 bit14 is
 * not a leak, so `WATER_LEAK_STATUS` is only set in MOD 2 and 3, as the vendor decoder does.
 */
export interface Lwl02Uplink {
  /** Battery, volts. */
  BAT_V?: number;
  MOD?: number;
  WATER_LEAK_STATUS?: 0 | 1;
  WATER_LEAK_TIMES?: number;
  LAST_WATER_LEAK_DURATION?: number;
  DOOR_OPEN_STATUS?: 0 | 1;
  DOOR_OPEN_TIMES?: number;
  LAST_DOOR_OPEN_DURATION?: number;
  ALARM?: 0 | 1;
}

const DATA_PORT = 10;

export function decodeLwl02(bytes: Uint8Array, fPort: number): Lwl02Uplink {
  // The vendor decoder answers any other port with `errors: ['unknown FPort']`: no state there.
  if (fPort !== DATA_PORT) return {};
  need(bytes, 0, 3, 'lwl02 battery and MOD');
  const status = u8(bytes, 0);
  const door = status & 0x80 ? 1 : 0;
  const leak = status & 0x40 ? 1 : 0;
  const out: Lwl02Uplink = { BAT_V: (u16be(bytes, 0) & 0x3fff) / 1000, MOD: u8(bytes, 2) };
  switch (out.MOD) {
    case 1:
      need(bytes, 0, 10, 'lwl02 MOD 1 frame');
      return {
        ...out,
        DOOR_OPEN_STATUS: door,
        DOOR_OPEN_TIMES: u24be(bytes, 3),
        LAST_DOOR_OPEN_DURATION: u24be(bytes, 6),
        ALARM: (u8(bytes, 9) & 0x01) as 0 | 1,
      };
    case 2:
      need(bytes, 0, 9, 'lwl02 MOD 2 frame');
      return {
        ...out,
        WATER_LEAK_STATUS: leak,
        WATER_LEAK_TIMES: u24be(bytes, 3),
        LAST_WATER_LEAK_DURATION: u24be(bytes, 6),
      };
    case 3:
      need(bytes, 0, 10, 'lwl02 MOD 3 frame');
      return {
        ...out,
        DOOR_OPEN_STATUS: door,
        WATER_LEAK_STATUS: leak,
        ALARM: (u8(bytes, 9) & 0x01) as 0 | 1,
      };
    default:
      return out;
  }
}
