/**
 * Command-line flags of `npm run simulate` and `npm run demo`: parsed, checked and turned into
 * options, with one clear message per mistake (thrown as UsageError). Pure, for tests.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { CATEGORIES, type Category, DEFAULT_COUNTS, SITES } from './population.ts';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface CommonOptions {
  seed: string;
  speed: number;
  faultsPerHour: number;
  counts: Record<Category, number>;
  sites: string[];
  /** Stop after this many seconds; undefined: run until Ctrl-C. */
  durationSeconds?: number;
  maintainers: boolean;
  maintainersPerSite: number;
  lateShare: number;
}

export interface SimulateOptions extends CommonOptions {
  mqttUrl: string;
  apiUrl: string;
  adminPassword?: string;
  /** Start one simulated BMS per site on this port and the next ones. */
  bmsPort?: number;
  /** Write the matching xiaoer configuration to this file and exit. */
  writeConfig?: string;
}

export interface DemoOptions extends CommonOptions {
  bms: boolean;
  keepData: boolean;
  logLevel: string;
}

export type Parsed<T> = { help: true } | { help: false; options: T };

const COUNT_FLAGS: Record<Category, string> = {
  lock: 'locks',
  hvac: 'hvac',
  plumbing: 'plumbing',
  lighting: 'lighting',
  other: 'other',
};

const common = {
  seed: { type: 'string' },
  speed: { type: 'string' },
  'faults-per-hour': { type: 'string' },
  locks: { type: 'string' },
  hvac: { type: 'string' },
  plumbing: { type: 'string' },
  lighting: { type: 'string' },
  other: { type: 'string' },
  sites: { type: 'string' },
  duration: { type: 'string' },
  'maintainers-per-site': { type: 'string' },
  'late-share': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const COMMON_HELP = `
Population (per site; the xiaoer configuration must list the same devices, see --write-config):
  --locks <n>              smart locks (default ${DEFAULT_COUNTS.lock}): Zigbee2MQTT and native
  --hvac <n>               HVAC units (default ${DEFAULT_COUNTS.hvac}): Zigbee2MQTT thermostats, Tasmota sensors, native
  --plumbing <n>           plumbing sensors (default ${DEFAULT_COUNTS.plumbing}): Zigbee2MQTT, LoRaWAN WS303/LWL03A,
                           Shelly flood and pump relays, a Sparkplug B pump room, native pipe sensors
  --lighting <n>           lighting circuits on Tasmota (default ${DEFAULT_COUNTS.lighting})
  --other <n>              drinking-water boilers on Shelly (default ${DEFAULT_COUNTS.other})
  --sites <a,b>            sites to simulate (default all: ${SITES.map((s) => s.id).join(',')})

Time and faults:
  --seed <text>            replay the same messages and faults (default: random, printed at start)
  --speed <x>              simulated time runs x times faster than real time (0.1-1000)
  --faults-per-hour <n>    faults per simulated hour over all sites (0 for none)
  --duration <seconds>     stop after this long (default: until Ctrl-C)

Maintainers (through the HTTP API):
  --maintainers-per-site <n>  simulated maintainers per site (default 2)
  --late-share <0-1>       share of late arrivals, so SLA breaches appear (default 0.2)
  -h, --help               this help`;

export const SIMULATE_HELP = `Usage: npm run simulate -- [options]

Publishes over MQTT what the bureau's site gateways would (Zigbee2MQTT, Tasmota, Shelly, LoRaWAN,
Sparkplug B, native), injects faults in the bureau's observed mix, and optionally plays the
service desk and maintainers through the API, against a running xiaoer.

Connection:
  --mqtt-url <url>         xiaoer's MQTT broker (default mqtt://127.0.0.1:1883)
  --api-url <url>          xiaoer's HTTP API (default http://127.0.0.1:8080)
  --admin-password <pw>    admin password, to follow tickets and create maintainers
                           (default: the XIAOER_ADMIN_PASSWORD environment variable)
  --maintainers            play the desk and the maintainers (needs the admin password)
  --bms-port <port>        also run one simulated BMS (OPC UA) per site on this port and the next
  --write-config <file>    write the xiaoer configuration for this population and exit;
                           start xiaoer with it: npm start -- --config <file>
${COMMON_HELP}
  (defaults: --speed 1, --faults-per-hour 30)`;

export const DEMO_HELP = `Usage: npm run demo -- [options]

Starts xiaoer (data in ./data/demo, a fresh board each run), one simulated BMS per site, the
device simulator and the simulated maintainers, all in this process. Ctrl-C stops everything.
Ports: PORT (HTTP, default 8080) and MQTT_PORT (default 1883); admin password:
XIAOER_ADMIN_PASSWORD (default xiaoer-demo).

  --no-maintainers         do not play the desk and the maintainers
  --no-bms                 no simulated BMS (no AHU, chiller or pump faults)
  --keep-data              keep the tickets of the previous demo run
  --log-level <level>      xiaoer's log level (default info)
${COMMON_HELP}
  (defaults: --speed 10, --faults-per-hour 60; the SLA targets are divided by the speed)`;

function parse<T extends Record<string, { type: 'string' | 'boolean'; short?: string }>>(
  argv: string[],
  options: T,
) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional.*$/s, ''));
  }
}

export function number(
  flag: string,
  raw: string | undefined,
  def: number,
  min: number,
  max: number,
  integer = false,
): number {
  if (raw === undefined) return def;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    const what = integer ? 'a whole number' : 'a number';
    throw new UsageError(`--${flag}: expected ${what} from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}

function url(flag: string, raw: string, protocols: readonly string[]): string {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new UsageError(`--${flag}: not a URL: "${raw}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new UsageError(`--${flag}: expected ${protocols.map((p) => `${p}//`).join(' or ')}, got "${raw}"`);
  }
  return raw;
}

type CommonValues = {
  [K in keyof typeof common]?: (typeof common)[K]['type'] extends 'boolean' ? boolean : string;
};

function commonOptions(
  v: CommonValues,
  defaults: { speed: number; faultsPerHour: number },
  maintainers: boolean,
): CommonOptions {
  const counts = {} as Record<Category, number>;
  for (const c of CATEGORIES)
    counts[c] = number(
      COUNT_FLAGS[c],
      v[COUNT_FLAGS[c] as keyof CommonValues] as string | undefined,
      DEFAULT_COUNTS[c],
      0,
      2000,
      true,
    );
  const known = SITES.map((s) => s.id);
  const sites =
    v.sites === undefined
      ? known
      : v.sites
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
  const unknown = sites.filter((s) => !known.includes(s));
  if (sites.length === 0 || unknown.length > 0) {
    throw new UsageError(`--sites: unknown site "${unknown[0] ?? ''}" (known: ${known.join(', ')})`);
  }
  const duration = v.duration === undefined ? undefined : number('duration', v.duration, 0, 1, 7 * 86_400);
  return {
    seed: v.seed ?? randomBytes(3).toString('hex'),
    speed: number('speed', v.speed, defaults.speed, 0.1, 1000),
    faultsPerHour: number('faults-per-hour', v['faults-per-hour'], defaults.faultsPerHour, 0, 100_000),
    counts,
    sites: [...new Set(sites)],
    ...(duration !== undefined ? { durationSeconds: duration } : {}),
    maintainers,
    maintainersPerSite: number('maintainers-per-site', v['maintainers-per-site'], 2, 1, 50, true),
    lateShare: number('late-share', v['late-share'], 0.2, 0, 1),
  };
}

export function parseSimulateArgs(
  argv: string[],
  env: { XIAOER_ADMIN_PASSWORD?: string } = {},
): Parsed<SimulateOptions> {
  const v = parse(argv, {
    ...common,
    'mqtt-url': { type: 'string' },
    'api-url': { type: 'string' },
    'admin-password': { type: 'string' },
    maintainers: { type: 'boolean' },
    'bms-port': { type: 'string' },
    'write-config': { type: 'string' },
  });
  if (v.help) return { help: true };
  const adminPassword = v['admin-password'] ?? env.XIAOER_ADMIN_PASSWORD;
  const options: SimulateOptions = {
    ...commonOptions(v, { speed: 1, faultsPerHour: 30 }, v.maintainers === true),
    mqttUrl: url('mqtt-url', v['mqtt-url'] ?? 'mqtt://127.0.0.1:1883', ['mqtt:', 'mqtts:', 'ws:', 'wss:']),
    apiUrl: url('api-url', v['api-url'] ?? 'http://127.0.0.1:8080', ['http:', 'https:']),
    ...(adminPassword ? { adminPassword } : {}),
    ...(v['bms-port'] !== undefined
      ? { bmsPort: number('bms-port', v['bms-port'], 0, 1, 65_000, true) }
      : {}),
    ...(v['write-config'] !== undefined ? { writeConfig: v['write-config'] } : {}),
  };
  if (options.maintainers && !options.adminPassword) {
    throw new UsageError('--maintainers needs the admin password: --admin-password or XIAOER_ADMIN_PASSWORD');
  }
  return { help: false, options };
}

export function parseDemoArgs(argv: string[]): Parsed<DemoOptions> {
  const v = parse(argv, {
    ...common,
    'no-maintainers': { type: 'boolean' },
    'no-bms': { type: 'boolean' },
    'keep-data': { type: 'boolean' },
    'log-level': { type: 'string' },
  });
  if (v.help) return { help: true };
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  const logLevel = v['log-level'] ?? 'info';
  if (!levels.includes(logLevel))
    throw new UsageError(`--log-level: expected one of ${levels.join(', ')}, got "${logLevel}"`);
  return {
    help: false,
    options: {
      ...commonOptions(v, { speed: 10, faultsPerHour: 60 }, v['no-maintainers'] !== true),
      bms: v['no-bms'] !== true,
      keepData: v['keep-data'] === true,
      logLevel,
    },
  };
}
