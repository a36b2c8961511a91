import type { Config, DeviceConfig } from '../src/config/schema.ts';

/**
 * A deterministic fleet of Zigbee2MQTT devices, computed the same way by the load generator
 * (topics and payloads) and by the process under test (its configuration), so neither has to
 * ship the other thousands of device names.
 */

/** The example configuration's sites; each has the gateway login `<site>-gw` / `<site>-demo`. */
export const BENCH_SITES = ['xincheng', 'north', 'east'] as const;

export type Profile = 'leak' | 'lock' | 'trv' | 'climate';
const NORMAL_PROFILES: readonly Profile[] = ['leak', 'lock', 'trv', 'climate'];

export interface FleetSpec {
  sites: readonly string[];
  /** Devices that report normal values (every asset kind), spread over the sites. */
  normal: number;
  /** Leak sensors that report only leaks: each fault lands on an asset with no open ticket. */
  faultPool: number;
  /** Leak sensors with an open ticket seeded before start (open tickets with live SLA clocks). */
  seeded: number;
}

export interface Device {
  site: string;
  id: string;
  profile: Profile;
  /** Its index within its group on its site; varies the payload values. */
  n: number;
}

export interface SiteFleet {
  normal: Device[];
  fault: Device[];
  seeded: Device[];
}

/** Site `index`'s part of `total` when it is spread as evenly as possible over `parts` sites. */
export function share(total: number, parts: number, index: number): number {
  return Math.floor(total / parts) + (index < total % parts ? 1 : 0);
}

const pad = (n: number) => n.toString().padStart(6, '0');

export function siteFleet(spec: FleetSpec, site: string): SiteFleet {
  const index = spec.sites.indexOf(site);
  if (index < 0) throw new Error(`site ${site} is not in the fleet`);
  const parts = spec.sites.length;
  const group = (count: number, make: (n: number) => Device) =>
    Array.from({ length: count }, (_, n) => make(n));
  return {
    normal: group(share(spec.normal, parts, index), (n) => {
      const profile = NORMAL_PROFILES[n % NORMAL_PROFILES.length] as Profile;
      return { site, id: `${profile}-n${pad(n)}`, profile, n };
    }),
    fault: group(share(spec.faultPool, parts, index), (n) => ({
      site,
      id: `leak-f${pad(n)}`,
      profile: 'leak',
      n,
    })),
    seeded: group(share(spec.seeded, parts, index), (n) => ({
      site,
      id: `leak-s${pad(n)}`,
      profile: 'leak',
      n,
    })),
  };
}

export function deviceCount(spec: FleetSpec): number {
  return spec.normal + spec.faultPool + spec.seeded;
}

const KIND: Record<Profile, string> = { leak: 'plumbing', lock: 'lock', trv: 'hvac', climate: 'hvac' };

export function topicOf(device: Device): string {
  return `${device.site}/zigbee2mqtt/${device.id}`;
}

/** A value in [base, base + range) that differs between devices but not between runs. */
const vary = (n: number, base: number, range: number) => base + ((n * 7919) % range);

/**
 * Zigbee2MQTT state messages as the devices' converters publish them (every exposed field, not
 * only the ones xiaoer maps), from the device pages at zigbee2mqtt.io/devices/: Aqara SJCGQ11LM
 * (leak), Yale YRD226HA2619 (lock), Danfoss 014G2461 (radiator thermostat), Aqara WSDCGQ11LM
 * (temperature/humidity/pressure). Values stay clear of every example rule's limits.
 */
export function normalPayload(device: Device): string {
  const { n } = device;
  const battery = vary(n, 55, 45);
  const linkquality = vary(n, 40, 180);
  switch (device.profile) {
    case 'leak':
      return leakPayload(n, false);
    case 'lock':
      return JSON.stringify({
        auto_relock: true,
        battery,
        linkquality,
        lock_state: 'locked',
        sound_volume: 'silent_mode',
        state: 'LOCK',
      });
    case 'trv':
      return JSON.stringify({
        battery,
        keypad_lockout: 'unlock',
        linkquality,
        local_temperature: vary(n, 190, 40) / 10,
        occupied_heating_setpoint: 21,
        pi_heating_demand: vary(n, 0, 60),
        running_state: 'idle',
        system_mode: 'heat',
      });
    case 'climate':
      return JSON.stringify({
        battery,
        humidity: vary(n, 3500, 2500) / 100,
        linkquality,
        pressure: vary(n, 10_050, 150) / 10,
        temperature: vary(n, 1950, 450) / 100,
        voltage: vary(n, 2900, 200),
      });
  }
}

export function leakPayload(n: number, leak: boolean): string {
  return JSON.stringify({
    battery: vary(n, 55, 45),
    battery_low: false,
    device_temperature: vary(n, 18, 10),
    linkquality: vary(n, 40, 180),
    power_outage_count: vary(n, 0, 9),
    tamper: false,
    voltage: vary(n, 2900, 200),
    water_leak: leak,
  });
}

function toDeviceConfig(device: Device): DeviceConfig {
  return { id: device.id, kind: KIND[device.profile], name: `bench ${device.profile} ${device.n}` };
}

/**
 * Puts the fleet into a configuration parsed from the example (its rules, categories and gateway
 * logins stay); sites outside the fleet keep no devices. Mutating a parsed config skips validating
 * 100,000 device entries, which the fleet is correct by construction for.
 */
export function applyFleet(config: Config, spec: FleetSpec): void {
  for (const site of config.sites) {
    if (!spec.sites.includes(site.id)) {
      site.devices = [];
      continue;
    }
    const fleet = siteFleet(spec, site.id);
    site.devices = [...fleet.normal, ...fleet.fault, ...fleet.seeded].map(toDeviceConfig);
  }
}
