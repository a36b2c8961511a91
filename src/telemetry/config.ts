import { z } from 'zod';
import { strictObject } from '../core/strict.ts';

const MiB = 1024 * 1024;

/**
 * The `influx` section. Absent means telemetry is not configured (the rest of xiaoer does not
 * need InfluxDB); the lead mounts it as `influx: influxSchema.optional()`.
 */
export const influxSchema = strictObject({
  /** InfluxDB 1.x HTTP API, e.g. `http://127.0.0.1:8086` (a path prefix behind a proxy is kept). */
  url: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8086'),
  database: z.string().min(1).default('xiaoer'),
  username: z.string().min(1).optional(),
  /** Plain text, like the gateway passwords; never logged. */
  password: z.string().optional(),
  /** Writes go to the database's default retention policy unless this names another. */
  retentionPolicy: z.string().min(1).optional(),
  /** Points per write request; a batch is also cut every `flushIntervalMs`. */
  batchSize: z.number().int().min(1).max(100_000).default(5000),
  /** Also the longest time a reading waits in memory, i.e. what a crash can lose. */
  flushIntervalMs: z.number().int().min(10).default(1000),
  /** Upper bound of the on-disk spool used while InfluxDB is unreachable; the oldest points go first. */
  bufferMaxBytes: z
    .number()
    .int()
    .min(1024)
    .default(256 * MiB),
  /**
   * Upper bound of the points held in memory on their way to InfluxDB or the spool (the batch
   * being filled, batches waiting for a write, the write under way, appends waiting for the
   * disk). Past it the oldest waiting points are dropped and counted, as the spool does. Default
   * max(200,000, 8 × batchSize): about 30 MB, seconds of input even at 50,000 readings/s.
   */
  maxPendingPoints: z.number().int().min(1).optional(),
  /** A write with no answer for this long counts as failed and its batch is spooled. */
  requestTimeoutMs: z.number().int().min(100).default(5000),
});

export type InfluxConfig = z.infer<typeof influxSchema>;
