/**
 * LoRaWAN leak sensors as The Things Stack v3 delivers their uplinks (ApplicationUp JSON, "Data
 * Formats" in the lorawan-stack docs), bridged under the site prefix. The frames use the vendors'
 * byte layouts that adapters/decoders/ reads: Milesight WS303 (channels `01 75` battery,
 * `03 00` leakage status, fPort 85) and Dragino LWL03A (fPort 2, 11 bytes). Half of the WS303s
 * sit in an application with a payload formatter (`decoded_payload`), the rest rely on xiaoer
 * decoding `frm_payload` from `version_ids`, as a real mixed fleet does.
 */

import type { Frame, Publish } from './payloads.ts';
import { type SimDevice, TTN_APP } from './population.ts';

export function ws303Frame(battery: number, leak: boolean): Uint8Array {
  return Uint8Array.from([0x01, 0x75, battery & 0xff, 0x03, 0x00, leak ? 1 : 0]);
}

/** flags (bit2 periodic, bit1 alarm, bit0 leak), leak count u24, last leak minutes u24, unix time u32. */
export function lwl03aFrame(opts: { leak: boolean; periodic: boolean; events: number; unixSeconds: number }) {
  const b = new Uint8Array(11);
  b[0] = (opts.periodic ? 0x04 : 0) | (opts.leak ? 0x03 : 0);
  b[1] = (opts.events >> 16) & 0xff;
  b[2] = (opts.events >> 8) & 0xff;
  b[3] = opts.events & 0xff;
  b[6] = opts.leak ? 0 : 12; // duration of the last leak, minutes
  const t = opts.unixSeconds >>> 0;
  b[7] = (t >>> 24) & 0xff;
  b[8] = (t >>> 16) & 0xff;
  b[9] = (t >>> 8) & 0xff;
  b[10] = t & 0xff;
  return b;
}

function hasFormatter(device: SimDevice): boolean {
  const last = device.address.charCodeAt(device.address.length - 1);
  return device.model === 'ws303' && last % 2 === 0;
}

function application(device: Frame['device'], frame: Frame): Record<string, unknown> {
  const { v, c, wallMs, edge } = frame;
  if (device.model === 'ws303') {
    const bytes = ws303Frame(v.battery, v.leak);
    return {
      f_port: 85,
      frm_payload: Buffer.from(bytes).toString('base64'),
      ...(hasFormatter(device)
        ? { decoded_payload: { battery: v.battery, leakage_status: v.leak ? 'leak' : 'normal' } }
        : {}),
      version_ids: { brand_id: 'milesight-iot', model_id: 'ws303', band_id: 'CN_470_510' },
    };
  }
  if (edge && v.leak) c.leakEvents++;
  const bytes = lwl03aFrame({
    leak: v.leak,
    periodic: !edge,
    events: c.leakEvents,
    unixSeconds: Math.floor(wallMs / 1000),
  });
  return {
    f_port: 2,
    frm_payload: Buffer.from(bytes).toString('base64'),
    version_ids: { brand_id: 'dragino', model_id: 'lwl03a', band_id: 'CN_470_510' },
  };
}

/** One uplink of a WS303 or LWL03A; advances the device's frame counter. */
export function lorawanUplink(frame: Frame): Publish {
  const { device, v, c, wallMs } = frame;
  c.frames++;
  const [appId = TTN_APP] = TTN_APP.split('@');
  const received = new Date(wallMs).toISOString();
  const body = {
    end_device_ids: {
      device_id: device.address,
      application_ids: { application_id: appId },
      dev_eui: device.hardwareId,
    },
    correlation_ids: [`as:up:sim${c.frames.toString(16).padStart(8, '0')}`],
    received_at: received,
    uplink_message: {
      ...application(device, frame),
      f_cnt: c.frames,
      rx_metadata: [
        {
          gateway_ids: { gateway_id: `${device.site}-lora-gw-1` },
          rssi: v.rssi,
          channel_rssi: v.rssi,
          snr: Math.round((v.rssi + 115) * 0.5 * 10) / 10,
        },
      ],
      settings: {
        data_rate: { lora: { bandwidth: 125000, spreading_factor: 9, coding_rate: '4/5' } },
        frequency: '486500000',
      },
      received_at: received,
      consumed_airtime: '0.185344s',
    },
  };
  return {
    family: 'ttn',
    topic: `${device.site}/v3/${TTN_APP}/devices/${device.address}/up`,
    payload: JSON.stringify(body),
    qos: 1,
    retain: false,
  };
}
