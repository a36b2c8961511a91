/**
 * The simulated devices of the bureau's three office sites: which device families each category
 * of equipment uses, how often each kind of device reports, and the ids xiaoer will see.
 *
 * The population depends only on the sites and counts (its random choices use a fixed seed, not
 * `--seed`), so a xiaoer configured by `demo-config.ts` for some counts and a simulator started
 * later with a different `--seed` still agree on every device id.
 */
import { Rng } from './rng.ts';

export type Category = 'lock' | 'hvac' | 'plumbing' | 'lighting' | 'other';
export const CATEGORIES: readonly Category[] = ['lock', 'hvac', 'plumbing', 'lighting', 'other'];

export type Family = 'zigbee2mqtt' | 'tasmota' | 'shelly' | 'ttn' | 'sparkplug' | 'native' | 'bms';

export type ModelId =
  | 'z2m-lock'
  | 'native-lock'
  | 'z2m-thermostat'
  | 'tasmota-sht3x'
  | 'tasmota-ds18b20'
  | 'native-fancoil'
  | 'z2m-leak'
  | 'ws303'
  | 'lwl03a'
  | 'shelly-flood'
  | 'shelly-pump'
  | 'native-pipe'
  | 'sp-booster'
  | 'sp-floor-leak'
  | 'sp-edge'
  | 'tasmota-lighting'
  | 'shelly-boiler'
  | 'bms-ahu'
  | 'bms-chiller'
  | 'bms-pump';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

type Place = 'office' | 'wet' | 'plant';

interface ModelSpec {
  category: Category;
  family: Family;
  /** Share of its category's devices (models of a category sum to 1); 0: not counted. */
  share: number;
  /** Typical interval between unsolicited reports of the real device (simulated time). */
  reportMs: number;
  label: string;
  place: Place;
  /** Id prefix (Zigbee2MQTT friendly names, native and LoRaWAN ids). */
  prefix: string;
}

/**
 * Reporting intervals are those of the devices as usually deployed: battery leak sensors check in
 * rarely and report a leak at once (Aqara about hourly, LoRaWAN every few hours), locks publish
 * their state whenever they are used, thermostats and mains-powered controllers about every minute,
 * Tasmota every TelePeriod (300 s by default), a Sparkplug edge node reports by exception every
 * few seconds.
 */
export const MODELS: Readonly<Record<ModelId, ModelSpec>> = {
  'z2m-lock': m('lock', 'zigbee2mqtt', 0.7, 4 * MINUTE, 'door lock (Zigbee)', 'office', 'lock'),
  'native-lock': m('lock', 'native', 0.3, MINUTE, 'networked door lock', 'office', 'lock'),
  'z2m-thermostat': m('hvac', 'zigbee2mqtt', 0.5, MINUTE, 'fan-coil thermostat (Zigbee)', 'office', 'thermo'),
  'tasmota-sht3x': m('hvac', 'tasmota', 0.15, 5 * MINUTE, 'room sensor (Tasmota SHT3X)', 'office', ''),
  'tasmota-ds18b20': m('hvac', 'tasmota', 0.15, 5 * MINUTE, 'room probe (Tasmota DS18B20)', 'office', ''),
  'native-fancoil': m('hvac', 'native', 0.2, MINUTE, 'fan-coil controller', 'office', 'fcu'),
  'z2m-leak': m('plumbing', 'zigbee2mqtt', 9 / 30, 50 * MINUTE, 'leak sensor (Zigbee)', 'wet', 'leak'),
  ws303: m('plumbing', 'ttn', 3 / 30, 6 * HOUR, 'leak sensor (LoRaWAN WS303)', 'wet', 'ws303'),
  lwl03a: m('plumbing', 'ttn', 3 / 30, 4 * HOUR, 'rope leak sensor (LoRaWAN LWL03A)', 'plant', 'lwl03a'),
  'shelly-flood': m('plumbing', 'shelly', 4 / 30, 6 * HOUR, 'flood sensor (Shelly Flood)', 'wet', ''),
  'shelly-pump': m('plumbing', 'shelly', 4 / 30, MINUTE, 'booster pump relay (Shelly 1PM)', 'plant', ''),
  'native-pipe': m('plumbing', 'native', 4 / 30, 30 * SECOND, 'pipe pressure and flow sensor', 'wet', 'pipe'),
  'sp-booster': m('plumbing', 'sparkplug', 2 / 30, 10 * SECOND, 'booster pump (pump-room PLC)', 'plant', ''),
  'sp-floor-leak': m('plumbing', 'sparkplug', 1 / 30, 10 * MINUTE, 'pump-room floor leak probe', 'plant', ''),
  'sp-edge': m('plumbing', 'sparkplug', 0, HOUR, 'pump-room edge node (Sparkplug B)', 'plant', ''),
  'tasmota-lighting': m('lighting', 'tasmota', 1, 5 * MINUTE, 'lighting circuit (Tasmota POW)', 'office', ''),
  'shelly-boiler': m(
    'other',
    'shelly',
    1,
    MINUTE,
    'drinking-water boiler 开水器 (Shelly Pro 1PM)',
    'office',
    '',
  ),
  'bms-ahu': m('hvac', 'bms', 0, 10 * SECOND, 'air handling unit (BMS)', 'plant', ''),
  'bms-chiller': m('hvac', 'bms', 0, 10 * SECOND, 'chiller (BMS)', 'plant', ''),
  'bms-pump': m('hvac', 'bms', 0, 10 * SECOND, 'chilled-water pump (BMS)', 'plant', ''),
};

function m(
  category: Category,
  family: Family,
  share: number,
  reportMs: number,
  label: string,
  place: Place,
  prefix: string,
): ModelSpec {
  return { category, family, share, reportMs, label, place, prefix };
}

export interface SiteSpec {
  id: string;
  name: string;
  /** Floors from the lowest basement up. */
  floors: readonly string[];
}

const floors = (basements: number, storeys: number) => [
  ...Array.from({ length: basements }, (_, i) => `B${basements - i}`),
  ...Array.from({ length: storeys }, (_, i) => `${i + 1}F`),
];

/** The bureau's three office sites, about 10 km apart (DOMAIN.md); logins as in config/example.yaml. */
export const SITES: readonly SiteSpec[] = [
  { id: 'xincheng', name: '新城大厦 Xincheng Tower', floors: floors(2, 22) },
  { id: 'north', name: 'North office site', floors: floors(1, 12) },
  { id: 'east', name: 'East office site', floors: floors(1, 8) },
];

export const gatewayLogin = (site: string) => ({ username: `${site}-gw`, password: `${site}-demo` });

/** Sparkplug ids: the pump room's PLC is edge node `pumproom` in group `pumps`. */
export const SPARKPLUG_GROUP = 'pumps';
export const SPARKPLUG_EDGE = 'pumproom';
export const SPARKPLUG_EDGE_ASSET = `${SPARKPLUG_GROUP}.${SPARKPLUG_EDGE}`;
/** The Things Stack application (`<application-id>@<tenant-id>`) the leak sensors are registered in. */
export const TTN_APP = 'leak-sensors@bureau';

export interface SimDevice {
  site: string;
  /** The asset id xiaoer derives from the device's messages, and the device id in its config. */
  id: string;
  model: ModelId;
  kind: Category;
  family: Family;
  name: string;
  location: string;
  /** The device's name on its own network: friendly name, Tasmota topic, Shelly id, DevEUI owner... */
  address: string;
  /** DS18B20 probe id, LoRaWAN DevEUI. */
  hardwareId?: string;
  reportMs: number;
}

export interface PopulationOptions {
  sites: readonly string[];
  counts: Readonly<Record<Category, number>>;
  /** Add the BMS assets read over OPC UA (two AHUs, a chiller, a chilled-water pump per site). */
  bms: boolean;
}

/** Per site: 40 smart locks, 20 HVAC units, 30 plumbing sensors, and some lighting and other circuits. */
export const DEFAULT_COUNTS: Readonly<Record<Category, number>> = {
  lock: 40,
  hvac: 20,
  plumbing: 30,
  lighting: 10,
  other: 6,
};

export const DEFAULT_POPULATION: PopulationOptions = {
  sites: SITES.map((s) => s.id),
  counts: DEFAULT_COUNTS,
  bms: false,
};

export interface Population {
  sites: { spec: SiteSpec; devices: SimDevice[] }[];
  devices: SimDevice[];
}

/** Splits `n` over weights by largest remainder, so the parts always add up to `n`. */
export function apportion(n: number, weights: readonly number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (total > 0 ? (n * w) / total : 0));
  const parts = exact.map(Math.floor);
  let left = n - parts.reduce((a, b) => a + b, 0);
  const order = exact
    .map((x, i) => [x - Math.floor(x), i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left <= 0) break;
    parts[i] = (parts[i] ?? 0) + 1;
    left--;
  }
  return parts;
}

export function buildPopulation(opts: PopulationOptions): Population {
  const sites = opts.sites.map((id) => {
    const spec = SITES.find((s) => s.id === id);
    if (!spec) throw new Error(`unknown site "${id}" (known: ${SITES.map((s) => s.id).join(', ')})`);
    return { spec, devices: siteDevices(spec, opts) };
  });
  return { sites, devices: sites.flatMap((s) => s.devices) };
}

function siteDevices(site: SiteSpec, opts: PopulationOptions): SimDevice[] {
  const namer = new Namer(site, new Rng(`xiaoer-population/${site.id}`));
  const devices: SimDevice[] = [];
  for (const category of CATEGORIES) {
    const models = (Object.keys(MODELS) as ModelId[]).filter(
      (id) => MODELS[id].category === category && MODELS[id].share > 0,
    );
    const counts = apportion(
      opts.counts[category],
      models.map((id) => MODELS[id].share),
    );
    models.forEach((model, i) => {
      for (let n = 0; n < (counts[i] ?? 0); n++) devices.push(namer.device(model));
    });
  }
  if (devices.some((d) => d.family === 'sparkplug')) devices.push(namer.device('sp-edge'));
  if (opts.bms) devices.push(...bmsDevices(site.id));
  return devices;
}

/** The BMS assets, as the simulated BMS (sim/bms-server.ts) names them. */
export const BMS_ASSETS: readonly { id: string; model: ModelId; name: string; location: string }[] = [
  { id: 'ahu-1', model: 'bms-ahu', name: 'Air handling unit 1', location: 'Roof plant room' },
  { id: 'ahu-2', model: 'bms-ahu', name: 'Air handling unit 2', location: 'Roof plant room' },
  { id: 'chiller-1', model: 'bms-chiller', name: 'Chiller 1', location: 'Basement plant room' },
  { id: 'pump-1', model: 'bms-pump', name: 'Chilled water pump 1', location: 'Basement plant room' },
];

function bmsDevices(site: string): SimDevice[] {
  return BMS_ASSETS.map((a) => ({
    site,
    id: a.id,
    model: a.model,
    kind: 'hvac',
    family: 'bms',
    name: a.name,
    location: a.location,
    address: a.id,
    reportMs: MODELS[a.model].reportMs,
  }));
}

const ROOMS: Readonly<Record<Place, readonly string[]>> = {
  office: ['east corridor', 'west corridor', 'open office', 'meeting room', 'archive room', 'lift lobby'],
  wet: ['toilets', 'pantry', 'water riser', 'tea room'],
  plant: ['pump room', 'plant room', 'water tank room'],
};

/** Gives each new device a floor, a location and the id its ecosystem would give it. */
class Namer {
  readonly #site: SiteSpec;
  readonly #rng: Rng;
  readonly #perFloor = new Map<string, number>();
  readonly #sparkplugDevices = new Map<string, number>();

  constructor(site: SiteSpec, rng: Rng) {
    this.#site = site;
    this.#rng = rng;
  }

  device(model: ModelId): SimDevice {
    const spec = MODELS[model];
    const floor = this.#floor(spec.place);
    const location = `${floor} ${this.#rng.pick(ROOMS[spec.place])}`;
    const { id, address, hardwareId } = this.#ids(model, floor);
    return {
      site: this.#site.id,
      id,
      model,
      kind: spec.category,
      family: spec.family,
      name: `${location} ${spec.label}`,
      location,
      address,
      ...(hardwareId ? { hardwareId } : {}),
      reportMs: spec.reportMs,
    };
  }

  #floor(place: Place): string {
    const all = this.#site.floors;
    const basements = all.filter((f) => f.startsWith('B'));
    if (place === 'plant') return basements[0] ?? all[0] ?? '1F';
    if (place === 'office') return this.#rng.pick(all.filter((f) => !f.startsWith('B')));
    return this.#rng.pick(all);
  }

  #numbered(prefix: string, floor: string): string {
    const key = `${prefix}-${floor.toLowerCase()}`;
    const n = (this.#perFloor.get(key) ?? 0) + 1;
    this.#perFloor.set(key, n);
    return `${key}-${String(n).padStart(2, '0')}`;
  }

  #ids(model: ModelId, floor: string): { id: string; address: string; hardwareId?: string } {
    const rng = this.#rng;
    switch (model) {
      // Tasmota's default topic is tasmota_%06X, the last three bytes of the MAC address.
      case 'tasmota-sht3x':
      case 'tasmota-lighting': {
        const topic = `tasmota_${rng.hex(6).toUpperCase()}`;
        return { id: topic, address: topic };
      }
      case 'tasmota-ds18b20': {
        // Each 1-wire probe is its own asset `<topic>-<Id>` (adapters/tasmota.ts).
        const topic = `tasmota_${rng.hex(6).toUpperCase()}`;
        const probe = `0${rng.hex(11).toUpperCase()}`;
        return { id: `${topic}-${probe}`, address: topic, hardwareId: probe };
      }
      // Shelly Gen2+ ids are `<model>-<MAC>`, also the default MQTT topic prefix.
      case 'shelly-flood':
        return same(`shellyfloodg4-${rng.hex(12)}`);
      case 'shelly-pump':
        return same(`shellyplus1pm-${rng.hex(12)}`);
      case 'shelly-boiler':
        return same(`shellypro1pm-${rng.hex(12)}`);
      case 'ws303':
        return { ...same(this.#numbered('ws303', floor)), hardwareId: `24E124${rng.hex(10).toUpperCase()}` };
      case 'lwl03a':
        return { ...same(this.#numbered('lwl03a', floor)), hardwareId: `A84041${rng.hex(10).toUpperCase()}` };
      case 'sp-edge':
        return { id: SPARKPLUG_EDGE_ASSET, address: SPARKPLUG_EDGE };
      case 'sp-booster':
      case 'sp-floor-leak': {
        const base = model === 'sp-booster' ? 'booster' : 'floor-leak';
        const n = (this.#sparkplugDevices.get(base) ?? 0) + 1;
        this.#sparkplugDevices.set(base, n);
        const name = `${base}-${n}`;
        return { id: `${SPARKPLUG_EDGE_ASSET}.${name}`, address: name };
      }
      default:
        return same(this.#numbered(MODELS[model].prefix || model, floor));
    }
  }
}

const same = (id: string) => ({ id, address: id });
