import { z } from 'zod';
import { strictObject } from '../src/core/strict.ts';

const count = (max: number) => z.number().int().min(1).max(max);
const ms = (min: number, max: number) => z.number().int().min(min).max(max);

/** Failed MQTT logins, per (username, address) and per address; see broker/login-throttle.ts. */
export const loginThrottleSchema = strictObject({
  /** Failed logins a (username, address) pair may make before it has to wait: typos are free. */
  freeFailures: count(100).default(5),
  /** The first wait after those; it doubles with each further failure, so guessing slows to a crawl. */
  backoffMs: ms(100, 3_600_000).default(1000),
  /** The longest wait, so a gateway with a once-wrong password is back within minutes once fixed. */
  maxBackoffMs: ms(1000, 86_400_000).default(300_000),
  /** Failures from one address over any usernames that shut the address out (password spraying). */
  addressFailures: count(100_000).default(30),
  /** How long an address is shut out, and the window its failures are counted in. */
  addressBlockMs: ms(1000, 86_400_000).default(600_000),
  /** Pairs and addresses remembered (each); the oldest are forgotten first, so memory stays bounded. */
  maxTracked: count(1_000_000).default(10_000),
  /** At most one refusal log line per address per interval; the rest are counted in the next line. */
  logIntervalMs: ms(100, 3_600_000).default(60_000),
});

export type LoginThrottleSettings = z.infer<typeof loginThrottleSchema>;

/** Backpressure on device connections; see broker/flow-control.ts. */
export const flowSchema = strictObject({
  /**
   * Messages a second one gateway login may send, over all its connections; above it, xiaoer
   * stops reading from them until the rate is back under the ceiling. A site of a few thousand
   * devices sends hundreds a second; the ceiling is for a gateway gone wrong (a retry loop).
   */
  gatewayMessagesPerSecond: count(10_000_000).default(5000),
  /** Messages a gateway may send at once above its rate (a gateway reconnecting with a backlog). */
  gatewayBurst: count(100_000_000).default(20_000),
  /** Messages being recorded at once, over every connection; above it, reading waits. */
  maxInFlight: count(1_000_000).default(5000),
  /** Reading waits while the event loop runs later than this, so timers and the API keep their turn. */
  maxLoopDelayMs: ms(10, 10_000).default(100),
  /**
   * Reading waits while the telemetry writer is behind with InfluxDB answering, so readings are
   * written rather than shed; false sheds telemetry first and never slows the alarms for it.
   */
  holdForTelemetry: z.boolean().default(true),
});

export type FlowSettings = z.infer<typeof flowSchema>;

/**
 * Limits of the embedded broker, merged into the `mqtt` section of the config (see
 * src/config/schema.ts). Each field is a zod schema with its default.
 */
export const brokerLimitsShape = {
  /** A client must complete its CONNECT within this time, or it is disconnected (slow-loris sockets). */
  connectTimeoutMs: ms(500, 60_000).default(5000),
  /** Largest first packet (the CONNECT, read before any login): bounds what an anonymous socket holds. */
  maxConnectBytes: z
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024)
    .default(16 * 1024),
  /** Open connections in total; more are closed at accept, before any byte is read. */
  maxConnections: count(1_000_000).default(2000),
  /** Open connections from one address (IPv6: one /64); a site's NAT may carry many devices. */
  maxConnectionsPerAddress: count(1_000_000).default(256),
  /** Longest topic or subscription filter, in UTF-8 bytes; real device topics stay well under 200. */
  maxTopicBytes: count(65_535).default(512),
  /** Deepest topic: a Sparkplug device under a site prefix has 6 levels; aedes' ceiling is 100. */
  maxTopicLevels: count(100).default(16),
  /** Longest client id, in UTF-8 bytes; at least 23, which every server must accept [MQTT-3.1.3-5]. */
  maxClientIdBytes: z.number().int().min(23).max(65_535).default(256),
  /** Longest username, in UTF-8 bytes; longer ones are refused before any lookup. */
  maxUsernameBytes: count(65_535).default(128),
  loginThrottle: loginThrottleSchema.prefault({}),
  flow: flowSchema.prefault({}),
} satisfies z.ZodRawShape;

export type BrokerLimits = z.infer<z.ZodObject<typeof brokerLimitsShape>>;
