import { z } from 'zod';
import { strictObject } from '../core/strict.ts';

/** Same rule as site ids in src/config/schema.ts: ids end up in topics, URLs and log keys. */
const id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected lower-case letters, digits, "-" or "_" (used in MQTT topics)');

/**
 * The string form of a NodeId (OPC UA Part 6, 5.3.1.10): `ns=<index>;` then `i=` numeric, `s=` string,
 * `g=` GUID or `b=` opaque (base64). Checked here so a typo stops start-up instead of silently never
 * reporting. `nsu=` (namespace URI) is not accepted: node-opcua would need the server's namespace
 * array to resolve it.
 */
const NODE_ID =
  /^(?:ns=\d+;)?(?:i=\d+|s=.+|g=[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|b=[A-Za-z0-9+/]+=*)$/;

const nodeSchema = strictObject({
  nodeId: z
    .string()
    .regex(NODE_ID, 'expected an OPC UA NodeId such as "ns=1;s=AHU1.FanRunning" or "ns=2;i=1001"'),
  /** The asset (as in `sites[].devices[].id`) the value belongs to. */
  assetId: z
    .string()
    .min(1)
    .refine((s) => !/[+#/]/.test(s), 'must not contain "/", "+" or "#"'),
  /** Canonical metric name, e.g. `supply_air_temperature_c`, `fan_running`, `filter_alarm`. */
  metric: z.string().regex(/^[a-z][a-z0-9_]*$/, 'expected a snake_case metric name'),
  unit: z.string().min(1).optional(),
  /** How often the server samples the value; defaults to the endpoint's publishing interval. */
  samplingIntervalMs: z.number().int().min(0).optional(),
  /** Absolute deadband (OPC UA Part 4, DataChangeFilter): smaller changes are not reported. Numbers only. */
  deadband: z.number().positive().optional(),
});

const endpointSchema = strictObject({
  id,
  /** The site the endpoint's assets belong to (a `sites[].id`). */
  site: id,
  url: z.string().regex(/^opc\.tcp:\/\/[^/\s]+/, 'expected an opc.tcp://host:port/... URL'),
  username: z.string().min(1).optional(),
  /** Plain text, like the gateway passwords; with security mode None it crosses the network unencrypted. */
  password: z.string().optional(),
  publishingIntervalMs: z.number().int().min(50).default(1000),
  nodes: z.array(nodeSchema).min(1),
}).refine((e) => (e.username === undefined) === (e.password === undefined), {
  message: 'give both "username" and "password", or neither (anonymous)',
  path: ['password'],
});

export const opcuaSchema = strictObject({
  /** Wait between reconnection attempts: doubles from min to max, back to min once connected. */
  reconnect: strictObject({
    minDelayMs: z.number().int().min(10).default(1000),
    maxDelayMs: z.number().int().min(10).default(30_000),
  })
    .prefault({})
    .refine((r) => r.minDelayMs <= r.maxDelayMs, { message: 'minDelayMs must not exceed maxDelayMs' }),
  /** Session keep-alive: how soon a server that stops answering (but keeps the socket) is noticed. */
  keepAliveIntervalMs: z.number().int().min(100).default(5000),
  /** An attempt (connect, session, subscription) taking longer than this is abandoned and retried. */
  connectTimeoutMs: z.number().int().min(100).default(15_000),
  endpoints: z.array(endpointSchema).default([]),
}).superRefine((cfg, ctx) => {
  const endpointIds = new Set<string>();
  cfg.endpoints.forEach((endpoint, e) => {
    if (endpointIds.has(endpoint.id))
      ctx.addIssue({
        code: 'custom',
        message: `duplicate endpoint id "${endpoint.id}"`,
        path: ['endpoints', e, 'id'],
      });
    endpointIds.add(endpoint.id);
    const mapped = new Set<string>();
    endpoint.nodes.forEach((node, n) => {
      const key = `${node.assetId}\u0000${node.metric}`;
      // Two nodes feeding one asset metric would make the reading flap between them.
      if (mapped.has(key))
        ctx.addIssue({
          code: 'custom',
          message: `asset "${node.assetId}" metric "${node.metric}" is mapped twice`,
          path: ['endpoints', e, 'nodes', n, 'metric'],
        });
      mapped.add(key);
    });
  });
});

export type OpcUaConfig = z.infer<typeof opcuaSchema>;
export type OpcUaEndpoint = OpcUaConfig['endpoints'][number];
export type OpcUaNode = OpcUaEndpoint['nodes'][number];

/**
 * Cross-checks against the rest of the config (the lead's `configSchema.superRefine` calls this):
 * every endpoint's site must be configured. Paths are relative to `opcua`.
 */
export function opcuaSiteIssues(
  cfg: OpcUaConfig,
  siteIds: ReadonlySet<string>,
): { path: (string | number)[]; message: string }[] {
  return cfg.endpoints.flatMap((endpoint, e) =>
    siteIds.has(endpoint.site)
      ? []
      : [
          {
            path: ['endpoints', e, 'site'],
            message: `unknown site "${endpoint.site}" (known: ${[...siteIds].join(', ')})`,
          },
        ],
  );
}
