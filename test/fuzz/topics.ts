import type { SeedMessage } from './fixtures.ts';
import { invalidUtf8 } from './payloads.ts';
import type { Rng } from './random.ts';

/** The sites of config/example.yaml; each gateway logs in as `<site>-gw` with `<site>-demo`. */
export const SITES = ['xincheng', 'north', 'east'] as const;
export type Site = (typeof SITES)[number];

/**
 * The one asset the fuzz never reports on: after the run, a normal leak on it must raise a ticket,
 * and that ticket can then only come from the check's own message.
 */
export const SENTINEL = { site: 'xincheng', assetId: 'leak-b1-riser' } as const;

const DEVICES = ['leak-b1-riser', 'lock-3f-east', 'hvac-2f-office', 'ahu-1', 'pump-1'];

/** A device level: the fixture's own, a configured one, or something no device is called. */
function deviceName(rng: Rng, own: string, tame: boolean): string {
  if (tame)
    return rng.weighted<() => string>([
      [() => own, 70],
      [() => rng.pick(DEVICES), 20],
      [() => `fuzz-${rng.int(0, 500)}`, 10],
    ])();
  return rng.weighted<() => string>([
    [() => own, 60],
    [() => rng.pick(DEVICES), 15],
    [() => `fuzz-${rng.int(0, 500)}`, 10],
    [() => 'd'.repeat(rng.int(120, 400)), 3], // past the ingest's 128-character device ids
    [() => 'd'.repeat(rng.int(500, 700)), 0.5], // and the broker's 512-byte topics
    [() => rng.pick(['水表-1', 'ＦＵＬＬ', 'a b', 'a.b', '..', 'leak-b1-riser ', 'LEAK-B1-RISER', '$x']), 3],
    [() => '', 1],
    [() => rng.pick(['+', '#']), 0.5],
    [() => '\u0000', 0.5],
  ])();
}

/** Which level of a topic tail names the device, per adapter family (see adapters/*.ts). */
function deviceLevel(seed: SeedMessage): number | undefined {
  const levels = seed.topicTail.split('/');
  switch (seed.adapter) {
    case 'zigbee2mqtt':
    case 'tasmota':
      return 1;
    case 'shelly':
      return 0;
    case 'ttn':
      return 3;
    case 'native':
      return 2;
    case 'sparkplug':
      return levels.length - 1;
    default:
      return undefined;
  }
}

/**
 * `<site>/<the seed's tail>`, with its device level now and then renamed; `tame` keeps to names
 * the broker accepts (no wildcard, U+0000 or oversized level that ends the session).
 */
export function adapterTopic(rng: Rng, site: string, seed: SeedMessage, tame = false): string {
  const levels = seed.topicTail.split('/');
  const at = deviceLevel(seed);
  if (at !== undefined && levels[at] !== undefined) levels[at] = deviceName(rng, levels[at], tame);
  return spareSentinel(`${site}/${levels.join('/')}`);
}

/** Keeps the fuzz off the sentinel asset: any level naming it under its site is renamed. */
export function spareSentinel(topic: string): string {
  if (!topic.startsWith(`${SENTINEL.site}/`)) return topic;
  return topic
    .split('/')
    .map((level, i) => (i > 0 && level === SENTINEL.assetId ? `${level}-fuzz` : level))
    .join('/');
}

/** Topics a gateway may not publish on, or that no adapter routes. */
export function oddTopic(rng: Rng, site: string): string | Buffer {
  const other = rng.pick(SITES.filter((s) => s !== site));
  return rng.pick<() => string | Buffer>([
    () => '',
    () => '/',
    () => site,
    () => `${site}/`,
    () => `${site}//zigbee2mqtt`,
    () => `${site}/#`,
    () => `${site}/+/SENSOR`,
    () => '#',
    () => '$SYS/broker/uptime',
    () => `$share/g/${site}/x`,
    () => `${other}/zigbee2mqtt/leak-b1-riser`,
    () => `south/zigbee2mqtt/leak-b1-riser`,
    () => `${site.toUpperCase()}/zigbee2mqtt/x`,
    () => `${site}/${'a/'.repeat(rng.int(14, 120))}z`, // past 16 levels
    () => `${site}/${'t'.repeat(rng.int(500, 3000))}`, // past 512 bytes
    () => `${site}/zigbee2mqtt/\u0000`,
    () => `${site}/zigbee2mqtt/\uffff`,
    () => Buffer.concat([Buffer.from(`${site}/zigbee2mqtt/`), invalidUtf8(rng)]),
    () => `${site}/spBv1.0/water/${rng.pick(['NCMD', 'DCMD', 'STATE', 'nbirth', 'NDATA'])}/edge/dev/extra`,
    () => `${site}/zigbee2mqtt/bridge/state`,
    () => `${site}/xiaoer/${rng.pick(['lock', 'toaster', ''])}/d1/${rng.pick(['state', 'cmd', ''])}`,
  ])();
}

/** A subscription filter: mostly well-formed (the ACL decides), now and then not [MQTT-4.7.1]. */
export function filterFor(rng: Rng, site: string): string | Buffer {
  return rng.chance(0.8) ? wellFormedFilter(rng, site) : malformedFilter(rng, site);
}

function wellFormedFilter(rng: Rng, site: string): string {
  return rng.pick([
    `${site}/#`,
    `${site}/+/+`,
    `${site}/zigbee2mqtt/+`,
    `${site}/spBv1.0/+/NDATA/#`,
    '#',
    '+/#',
    '$SYS/#',
    `$share/g/${site}/#`,
    'xiaoer/out/#',
    `${rng.pick(SITES)}/#`,
    `${site}/水/#`,
  ]);
}

/** Wildcards out of place, empty, too deep or too long, U+0000, not UTF-8. */
function malformedFilter(rng: Rng, site: string): string | Buffer {
  return rng.pick<() => string | Buffer>([
    () => `${site}/a/#/b`,
    () => `${site}/a+/b`,
    () => '',
    () => `${site}/${'+/'.repeat(rng.int(15, 110))}#`,
    () => `${site}/${'f'.repeat(rng.int(500, 2000))}`,
    () => `${site}/\u0000/#`,
    () => Buffer.concat([Buffer.from(`${site}/`), invalidUtf8(rng), Buffer.from('/#')]),
  ])();
}
