import { z } from 'zod';
import { strictObject } from '../core/strict.ts';

/**
 * The `metrics` section: Prometheus metrics on a port of their own, and the ticket and SLA series
 * written to InfluxDB for Grafana. `/metrics` carries no login: it is meant for a scraper on the
 * same host or a private network, which is why it listens on loopback unless told otherwise.
 */
export const metricsSchema = strictObject({
  /** Port of the `/metrics` listener; absent: no Prometheus listener. */
  port: z.number().int().min(0).max(65535).optional(),
  host: z.string().min(1).default('127.0.0.1'),
  /** Ticket events, SLA outcomes and open-ticket snapshots to InfluxDB (when `influx` is set). */
  influxTickets: z.boolean().default(true),
  /** How often the open tickets per site and category are written to InfluxDB. */
  openTicketsEverySeconds: z.number().int().min(1).max(3600).default(60),
});

export type MetricsConfig = z.infer<typeof metricsSchema>;
