import { DecodeError, need, u8 } from './bytes.ts';

/**
 * Milesight WS303 mini leak detection sensor.
 *
 * Layout from Milesight-IoT/SensorDecoders `ws-series/ws303/README.md` and `ws303-decoder.js`:
 * the frame is a run of channels `ID(1) TYPE(1) DATA(n)`.
 *   01 75 battery(1)          battery, %
 *   03 00 leakage_status(1)   0 normal, 1 leak
 *   FF xx                     device attributes (versions, serial number, class, reset, status)
 *   FE/FF xx                  answers to downlink commands
 * e.g. `01 75 64 03 00 01` is battery 100 %, leak (README example; fPort 85).
 *
 * The output uses the vendor decoder's own field names, so an uplink the application's payload
 * formatter already decoded (`decoded_payload`) and one decoded here map to readings the same way.
 */
export interface Ws303Uplink {
  battery?: number;
  leakage_status?: 'normal' | 'leak' | 'unknown';
}

const ATTRIBUTE_LENGTHS: ReadonlyMap<number, number> = new Map([
  [0x01, 1], // ipso_version
  [0x09, 2], // hardware_version
  [0x0a, 2], // firmware_version
  [0xff, 2], // tsl_version
  [0x16, 8], // sn
  [0x0f, 1], // lorawan_class
  [0xfe, 1], // reset_event
  [0x0b, 1], // device_status
  // Answers to downlinks (handle_downlink_response in ws303-decoder.js).
  [0x03, 2], // report_interval
  [0x10, 1], // reboot
  [0x28, 1], // query_device_status
  [0x3d, 1], // stop_alarming
  [0x3e, 1], // buzzer_enable
  [0x7e, 5], // leakage_alarm_config
  [0x7f, 1], // find_device_enable
  [0x80, 2], // find_device_time
  [0x81, 2], // lora_report_settings
  [0x83, 3], // d2d_master_config
  [0x84, 1], // d2d_enable
]);

const LEAKAGE_STATUS = ['normal', 'leak'] as const;

export function decodeWs303(bytes: Uint8Array): Ws303Uplink {
  const out: Ws303Uplink = {};
  let i = 0;
  while (i < bytes.length) {
    need(bytes, i, 2, 'ws303 channel header');
    const id = u8(bytes, i);
    const type = u8(bytes, i + 1);
    i += 2;
    if (id === 0x01 && type === 0x75) {
      need(bytes, i, 1, 'ws303 battery');
      out.battery = u8(bytes, i);
      i += 1;
    } else if (id === 0x03 && type === 0x00) {
      need(bytes, i, 1, 'ws303 leakage_status');
      out.leakage_status = LEAKAGE_STATUS[u8(bytes, i)] ?? 'unknown';
      i += 1;
    } else if (id === 0xff || id === 0xfe) {
      const length = ATTRIBUTE_LENGTHS.get(type);
      if (length === undefined) {
        throw new DecodeError(`ws303: unknown channel ${hex(id)} ${hex(type)} at offset ${i - 2}`);
      }
      need(bytes, i, length, `ws303 channel ${hex(id)} ${hex(type)}`);
      i += length;
    } else {
      // The vendor decoder stops at an unknown channel and keeps what it has read so far.
      break;
    }
  }
  return out;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(2, '0')}`;
}
