import { z } from 'zod';
import { brokerLimitsShape } from '../../broker/config.ts';
import { notifySchema } from '../notify/config.ts';
import { opcuaSchema, opcuaSiteIssues } from '../opcua/config.ts';
import { flappingSchema, ruleOverrideSchema, ruleSchema } from '../rules/config.ts';
import { influxSchema } from '../telemetry/config.ts';
import { ticketsSchema } from '../tickets/config.ts';

const id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected lower-case letters, digits, "-" or "_" (used in MQTT topics)');

const port = z.number().int().min(0).max(65535);

export const slaSchema = z.object({
  // Bounded to 30 days: a typo of many digits would otherwise produce invalid dates.
  arrivalMinutes: z.number().positive().max(43_200).default(5),
  repairMinutes: z.number().positive().max(43_200).default(60),
});

const categorySchema = z.object({
  name: z.string().min(1),
  sla: slaSchema.partial().optional(),
});

const deviceSchema = z.object({
  /** The device's name on its own network, e.g. the Zigbee2MQTT friendly name. */
  id: z
    .string()
    .min(1)
    .refine((s) => !/[+#/]/.test(s), 'must not contain "/", "+" or "#"'),
  kind: z.string().min(1),
  /** Fault category for its tickets; defaults to the kind. */
  category: z.string().optional(),
  name: z.string().optional(),
  location: z.string().optional(),
  /** Per-rule changes for this asset only, by rule id (thresholds, timings, or `disabled: true`). */
  rules: z.record(z.string(), ruleOverrideSchema).optional(),
});

const gatewaySchema = z.object({
  username: z.string().min(1),
  /** Plain text; keep the config file readable only by the service account. */
  password: z.string().min(1),
});

const siteSchema = z.object({
  id,
  name: z.string().min(1),
  gateway: gatewaySchema,
  devices: z.array(deviceSchema).default([]),
});

export const configSchema = z
  .object({
    dataDir: z.string().default('./data'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    http: z.object({ host: z.string().default('0.0.0.0'), port: port.default(8080) }).prefault({}),
    mqtt: z
      .object({
        /** Embedded aedes broker; ignored when `url` points at an external broker. */
        host: z.string().default('0.0.0.0'),
        port: port.default(1883),
        url: z.url({ protocol: /^mqtts?$/ }).optional(),
        username: z.string().optional(),
        password: z.string().optional(),
        clientId: z.string().default('xiaoer-ingest'),
        /** Other systems that may subscribe to the embedded broker's outbound topics (never publish). */
        subscribers: z
          .array(
            z.object({
              username: z.string().min(1),
              password: z.string().min(8),
              topics: z.array(z.string().min(1)).default(['xiaoer/out/#']),
            }),
          )
          .default([]),
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
      })
      .prefault({}),
    auth: z
      .object({
        tokenTtlHours: z
          .number()
          .positive()
          .max(24 * 90)
          .default(12),
        /** Password for the `admin` user created on first start; generated and printed once if absent. */
        adminPassword: z.string().min(8).optional(),
      })
      .prefault({}),
    store: z
      .object({
        /** `full`: an acknowledged alert survives a power cut; `normal`: only a process crash. */
        synchronous: z.enum(['full', 'normal']).default('full'),
      })
      .prefault({}),
    sla: slaSchema.prefault({}),
    /** Verification by the sensor, reopening, escalation and outage correlation. */
    tickets: ticketsSchema,
    notify: notifySchema,
    /** Telemetry history in InfluxDB 1.x; absent: not kept (xiaoer still runs). */
    influx: influxSchema.optional(),
    /** OPC UA servers (BMS / HVAC) to read; none by default. */
    opcua: opcuaSchema.prefault({}),
    categories: z.record(id, categorySchema),
    sites: z.array(siteSchema).min(1),
    rules: z.array(ruleSchema).default([]),
    flapping: flappingSchema,
  })
  .superRefine((cfg, ctx) => {
    const seen = (kind: string) => {
      const set = new Set<string>();
      return (value: string, path: (string | number)[]) => {
        if (set.has(value)) ctx.addIssue({ code: 'custom', message: `duplicate ${kind} "${value}"`, path });
        set.add(value);
      };
    };
    const siteIds = seen('site id');
    const gatewayUsers = seen('MQTT username');
    const categories = new Set(Object.keys(cfg.categories));
    const checkCategory = (category: string, path: (string | number)[]) => {
      if (!categories.has(category))
        ctx.addIssue({
          code: 'custom',
          message: `unknown category "${category}" (known: ${[...categories].join(', ')})`,
          path,
        });
    };
    cfg.sites.forEach((site, s) => {
      siteIds(site.id, ['sites', s, 'id']);
      gatewayUsers(site.gateway.username, ['sites', s, 'gateway', 'username']);
      const deviceIds = seen(`device id in site ${site.id}`);
      site.devices.forEach((device, d) => {
        deviceIds(device.id, ['sites', s, 'devices', d, 'id']);
        checkCategory(device.category ?? device.kind, [
          'sites',
          s,
          'devices',
          d,
          device.category ? 'category' : 'kind',
        ]);
      });
    });
    if (!cfg.mqtt.url && (cfg.mqtt.username || cfg.mqtt.password)) {
      ctx.addIssue({
        code: 'custom',
        message:
          'username/password are for an external broker (mqtt.url); the embedded one uses site gateways',
        path: ['mqtt', cfg.mqtt.username ? 'username' : 'password'],
      });
    }
    cfg.mqtt.subscribers.forEach((sub, i) => {
      gatewayUsers(sub.username, ['mqtt', 'subscribers', i, 'username']);
    });
    const webhookIds = seen('webhook id');
    cfg.notify.webhooks.forEach((hook, i) => {
      webhookIds(hook.id, ['notify', 'webhooks', i, 'id']);
    });
    for (const issue of opcuaSiteIssues(cfg.opcua, new Set(cfg.sites.map((s) => s.id)))) {
      ctx.addIssue({ code: 'custom', message: issue.message, path: ['opcua', ...issue.path] });
    }
    const outageCategory = cfg.tickets.correlation.category;
    if (outageCategory) checkCategory(outageCategory, ['tickets', 'correlation', 'category']);
    const ruleIds = seen('rule id');
    // One open ticket per asset and fault: two rules raising the same fault on one kind would
    // share a ticket and fight over clearing it.
    const faultsByKind = seen('fault for asset kind');
    const knownKinds = new Set([...categories, ...cfg.sites.flatMap((s) => s.devices.map((d) => d.kind))]);
    cfg.rules.forEach((rule, r) => {
      ruleIds(rule.id, ['rules', r, 'id']);
      rule.kinds.forEach((kind, k) => {
        faultsByKind(`${rule.fault}" on "${kind}`, ['rules', r, 'fault']);
        if (!knownKinds.has(kind)) {
          ctx.addIssue({
            code: 'custom',
            message: `no device or category has kind "${kind}" (a typo would silently disable the rule)`,
            path: ['rules', r, 'kinds', k],
          });
        }
      });
      if (rule.category) checkCategory(rule.category, ['rules', r, 'category']);
    });
  });

export type Config = z.infer<typeof configSchema>;
export type { Condition, RuleConfig } from '../rules/config.ts';
export type SiteConfig = z.infer<typeof siteSchema>;
export type DeviceConfig = z.infer<typeof deviceSchema>;
