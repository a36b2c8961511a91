import { z } from 'zod';
import { brokerLimitsShape } from '../../broker/config.ts';
import { callbacksSchema } from '../callbacks/config.ts';
import { strictObject } from '../core/strict.ts';
import { SITE_CODE } from '../domain/work-order.ts';
import { metricsSchema } from '../metrics/config.ts';
import { notifySchema } from '../notify/config.ts';
import { opcuaSchema } from '../opcua/config.ts';
import { reportsSchema } from '../reports/config.ts';
import { flappingSchema, ruleOverrideSchema, ruleSchema } from '../rules/config.ts';
import { shiftsSchema } from '../shifts/config.ts';
import { influxSchema } from '../telemetry/config.ts';
import { ticketsSchema } from '../tickets/config.ts';
import { tuningSchema } from '../tuning/config.ts';
import { crossCheck } from './cross-checks.ts';

export const idSchema = z
  .string()
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected lower-case letters, digits, "-" or "_" (used in MQTT topics)');

const port = z.number().int().min(0).max(65535);
// Bounded to 30 days: a typo of many digits would otherwise produce invalid dates.
const minutes = z.number().positive().max(43_200);

export const slaSchema = strictObject({
  arrivalMinutes: minutes.default(5),
  repairMinutes: minutes.default(60),
});

/**
 * A category's own targets, merged field by field over the global `sla` (no defaults here, or a
 * category that sets only `repairMinutes` would silently get a built-in arrival target).
 * `arrivalMinutes: null` drops the arrival clock: a request such as access-control activation
 * has a completion target but nobody has to be on site.
 */
const categorySlaSchema = strictObject({
  arrivalMinutes: minutes.nullable().optional(),
  repairMinutes: minutes.optional(),
});

export const CATEGORY_TYPES = ['repair', 'request'] as const;

const categorySchema = strictObject({
  name: z.string().min(1).max(100),
  /** `repair`: faults, raised by rules or by hand; `request`: services raised by hand at the desk only. */
  type: z.enum(CATEGORY_TYPES).default('repair'),
  sla: categorySlaSchema.optional(),
});

const deviceSchema = strictObject({
  /** The device's name on its own network, e.g. the Zigbee2MQTT friendly name. */
  id: z
    .string()
    .min(1)
    .max(128)
    .refine((s) => !/[+#/]/.test(s), 'must not contain "/", "+" or "#"'),
  kind: z.string().min(1).max(64),
  /** Fault category for its tickets; defaults to the kind. */
  category: z.string().optional(),
  name: z.string().max(200).optional(),
  location: z.string().max(200).optional(),
  /** Per-rule changes for this asset only, by rule id (thresholds, timings, or `disabled: true`). */
  rules: z.record(z.string(), ruleOverrideSchema).optional(),
});

/** `sites[].gateway.presence` when not given: the site's Zigbee2MQTT bridge. */
export const DEFAULT_GATEWAY_PRESENCE = 'zigbee2mqtt';

const gatewaySchema = strictObject({
  username: z.string().min(1).max(128),
  /** Plain text; keep the config file readable only by the service account. */
  password: z.string().min(1),
  /**
   * Which announcement on the site's topics says whether this gateway is up, the only way to know
   * with an external broker (`mqtt.url`): `zigbee2mqtt` (the default: the bridge's retained
   * `<site>/zigbee2mqtt/bridge/state`), `tasmota:<topic>` (a Tasmota gateway's last will
   * `<site>/tele/<topic>/LWT`, e.g. a ZbBridge), `sparkplug:<group>.<edge node>` (a Sparkplug edge
   * node's NBIRTH/NDEATH and its other messages), or `none` (nothing announces it: its presence is
   * not watched on an external broker). The embedded broker watches the gateway's connection;
   * there an announcement counts only while the gateway has no connection.
   */
  presence: z
    .string()
    .max(200)
    .regex(
      /^(zigbee2mqtt|none|tasmota:[^/+#\s]+|sparkplug:[^/+#\s]+\.[^/+#\s]+)$/,
      'expected "zigbee2mqtt", "tasmota:<device topic>", "sparkplug:<group>.<edge node>" or "none"',
    )
    .optional(),
});

const siteSchema = strictObject({
  id: idSchema,
  name: z.string().min(1).max(100),
  /** Begins its work-order numbers (`XC-20261201-007`); default: the id's first two letters, upper-cased. */
  code: z.string().regex(SITE_CODE, 'expected 2 to 4 upper-case letters, e.g. XC').optional(),
  gateway: gatewaySchema,
  devices: z.array(deviceSchema).default([]),
});

const subscriberSchema = strictObject({
  username: z.string().min(1).max(128),
  password: z.string().min(8),
  topics: z.array(z.string().min(1)).default(['xiaoer/out/#']),
});

const mqttSchema = strictObject({
  /** Embedded aedes broker; ignored when `url` points at an external broker. */
  host: z.string().default('0.0.0.0'),
  port: port.default(1883),
  url: z.url({ protocol: /^mqtts?$/ }).optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  /**
   * The external broker's session: this id, or `<clientId>-p<n>` per site partition in a cluster
   * (each partition's session is persistent, so its messages wait in the broker during fail-over).
   */
  clientId: z.string().min(1).max(200).default('xiaoer-ingest'),
  /** How long an external broker keeps xiaoer's session and queues its messages while away. */
  sessionExpirySeconds: z.number().int().positive().max(4_294_967_295).default(86_400),
  /** Messages from an external broker recorded at once per connection (PUBACKs still in order, after recording). */
  inFlight: z.number().int().min(1).max(65_535).default(64),
  /** Other systems that may subscribe to the embedded broker's outbound topics (never publish). */
  subscribers: z.array(subscriberSchema).default([]),
  /** Largest payload accepted by the ingest, in bytes; larger ones are dead-lettered. */
  maxPayloadBytes: z
    .number()
    .int()
    .positive()
    .default(256 * 1024),
  /** Largest MQTT packet the embedded broker reads at all; larger ones close the connection. */
  maxPacketBytes: z
    .number()
    .int()
    .positive()
    .max(256 * 1024 * 1024)
    .default(2 * 1024 * 1024),
  ...brokerLimitsShape,
});

const httpSchema = strictObject({
  host: z.string().default('0.0.0.0'),
  port: port.default(8080),
  /** OpenAPI pages at /docs; by default only when the API listens on loopback. */
  docs: z.boolean().optional(),
  /** Requests per address and window; more are answered 429. */
  rateLimit: strictObject({
    max: z.number().int().positive().default(600),
    windowSeconds: z.number().positive().max(3600).default(60),
  }).prefault({}),
  /** Live-feed (SSE) connections in all, and per user (a wall screen, a desk, a phone or two). */
  maxLiveClients: z.number().int().positive().max(100_000).default(500),
  maxLiveClientsPerUser: z.number().int().positive().max(1000).default(5),
  /**
   * The address people reach xiaoer at, e.g. `https://xiaoer.bureau.example`: printed on the QR
   * labels and linked from the robot messages (`<publicUrl>/tickets/<id>`).
   */
  publicUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** Serve the web console at `/` (built into dashboards/console/dist by `npm ci`). */
  console: z.boolean().default(true),
  /** Where the built console is; default: dashboards/console/dist of this installation. */
  consoleDir: z.string().min(1).optional(),
});

const ingestSchema = strictObject({
  /** Longest device id taken from a topic or payload; longer ones are dead-lettered (`id_too_long`). */
  maxDeviceIdLength: z.number().int().min(8).max(1024).default(128),
  /** Deepest JSON nesting a payload may have; deeper ones are dead-lettered (`invalid_payload`). */
  maxJsonDepth: z.number().int().min(4).max(256).default(32),
  /**
   * How far back a device may date what it reports, for alarms: a device clock may start an SLA
   * clock at most this long before xiaoer received the message (never later than receipt). Two
   * minutes leave most of the 5-minute arrival target to the desk even for a device that buffered.
   */
  maxBackdateSeconds: z
    .number()
    .min(0)
    .max(7 * 86_400)
    .default(120),
});

const maintenanceSchema = strictObject({
  /** Longest planned-work window: silencing a site for longer is not maintenance. */
  maxDurationHours: z
    .number()
    .positive()
    .max(30 * 24)
    .default(7 * 24),
  /** How far ahead a window may be planned. */
  maxLeadDays: z.number().positive().max(365).default(30),
});

export const configSchema = strictObject({
  dataDir: z.string().default('./data'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `pretty`: human-readable lines; `json`: one JSON object per line. Default: pretty on a terminal. */
  logFormat: z.enum(['pretty', 'json']).optional(),
  http: httpSchema.prefault({}),
  mqtt: mqttSchema.prefault({}),
  auth: strictObject({
    tokenTtlHours: z
      .number()
      .positive()
      .max(24 * 90)
      .default(12),
    /** Password for the `admin` user created on first start; generated and printed once if absent. */
    adminPassword: z.string().min(8).optional(),
  }).prefault({}),
  /** PostgreSQL for the tickets and everything else the store keeps; absent: SQLite in `dataDir`. */
  database: strictObject({
    url: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'expected a PostgreSQL URL: postgres://user:password@host:5432/db')
      .optional(),
    poolSize: z.number().int().min(2).max(200).default(10),
  }).prefault({}),
  /** Several instances on one PostgreSQL (with `database.url`): leader, site partitions, live changes. */
  cluster: strictObject({
    /** This instance's name (logs, health); default `<hostname>-<pid>`. */
    instanceId: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, `.`, `_` and `-`')
      .optional(),
    /**
     * Sites are hashed into this many partitions; each partition's messages are consumed by one
     * instance at a time (a PostgreSQL advisory lock), so an asset's rule state is never split.
     */
    partitions: z.number().int().min(1).max(1024).default(16),
    /**
     * `partitions`: one persistent MQTT session per partition, owned by one instance (any MQTT 5
     * broker). `shared`: every instance subscribes to `$share/<shareGroup>/...`; only with a broker
     * that sends one topic to one member (EMQX `hash_topic`), since rule state follows the asset.
     */
    ingest: z.enum(['partitions', 'shared']).default('partitions'),
    shareGroup: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[^/+#$]+$/, 'no `/`, `+`, `#` or `$`')
      .default('xiaoer'),
    /** How often an instance checks its locks and takes or hands over partitions. */
    checkSeconds: z.number().min(0.1).max(30).default(1),
    /**
     * PostgreSQL ends a lock connection silent this long (a host that died without closing it),
     * freeing its leader and partition locks; the instance gives them up itself well before.
     */
    leaseSeconds: z.number().min(2).max(300).default(10),
  }).prefault({}),
  store: strictObject({
    /** `full`: an acknowledged alert survives a power cut; `normal`: only a process crash. */
    synchronous: z.enum(['full', 'normal']).default('full'),
  }).prefault({}),
  ingest: ingestSchema.prefault({}),
  sla: slaSchema.prefault({}),
  /** Verification by the sensor, reopening, escalation and outage correlation. */
  tickets: ticketsSchema,
  maintenance: maintenanceSchema.prefault({}),
  /** Maintainers' shifts at the sites, and the escalation when nobody is on shift. */
  shifts: shiftsSchema,
  notify: notifySchema,
  /** Telemetry history in InfluxDB 1.x; absent: not kept (xiaoer still runs). */
  influx: influxSchema.optional(),
  /** Prometheus `/metrics` on its own port, and the ticket and SLA series in InfluxDB for Grafana. */
  metrics: metricsSchema.prefault({}),
  /** OPC UA servers (BMS / HVAC) to read; none by default. */
  opcua: opcuaSchema.prefault({}),
  categories: z.record(idSchema, categorySchema),
  sites: z.array(siteSchema).min(1),
  rules: z.array(ruleSchema).default([]),
  flapping: flappingSchema,
  /** Runtime changes of rules: approval of wide changes, the noise score. */
  tuning: tuningSchema,
  /** Reports: the time zone their periods are read in, and the scoring. */
  reports: reportsSchema,
  /** Satisfaction call-backs after a ticket closed. */
  callbacks: callbacksSchema,
})
  // Also when a section failed: every problem is reported in one run, not one layer at a time.
  .superRefine(crossCheck, { when: () => true });

export type Config = z.infer<typeof configSchema>;
export type { Condition, RuleConfig } from '../rules/config.ts';
export type SiteConfig = z.infer<typeof siteSchema>;
export type DeviceConfig = z.infer<typeof deviceSchema>;
export type CategoryConfig = z.infer<typeof categorySchema>;
