import { z } from 'zod';
import { strictObject } from '../core/strict.ts';
import { TICKET_EVENT_TYPES } from '../domain/types.ts';

const webhookSchema = strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected lower-case letters, digits, "-" or "_"'),
  /** `generic`: our JSON; `wecom`: 企业微信 group robot; `dingtalk`: 钉钉 custom robot. */
  kind: z.enum(['generic', 'wecom', 'dingtalk']),
  url: z.url({ protocol: /^https?$/ }),
  /** DingTalk "加签" secret (starts with SEC); the request is then signed with a timestamp. */
  secret: z.string().min(1).optional(),
  /** Ticket event types to send; robots are rate-limited (20 messages a minute), so keep it short. */
  events: z
    .array(z.enum(TICKET_EVENT_TYPES))
    .default(['raised', 'sla_breached', 'reopened', 'escalated', 'detached']),
  /** Only tickets of these sites (all when absent). */
  sites: z.array(z.string()).optional(),
  timeoutMs: z.number().int().positive().default(5000),
  /** Attempts at a message the endpoint refuses outright (not a time-out, 5xx or rate limit). */
  maxAttempts: z.number().int().min(1).max(50).default(8),
  /** First retry delay; each further one doubles, up to `retryMaxMs`. */
  retryBaseMs: z.number().int().positive().default(1000),
  retryMaxMs: z
    .number()
    .int()
    .positive()
    .max(3_600_000)
    .default(5 * 60_000),
  /** Failing this long marks the endpoint dead in /api/health (it keeps its backlog and retrying). */
  deadAfterMinutes: z
    .number()
    .positive()
    .max(7 * 24 * 60)
    .default(30),
});

export const notifySchema = strictObject({
  /** Ticket changes are published to `<prefix>/<site>` at QoS 1; empty string turns it off. */
  mqttTopicPrefix: z.string().default('xiaoer/out/tickets'),
  /** Base URL for the ticket links in robot messages (`<url>/tickets/<id>`); default `http.publicUrl`. */
  consoleUrl: z.url().optional(),
  webhooks: z.array(webhookSchema).default([]),
}).prefault({});

export type NotifyConfig = z.infer<typeof notifySchema>;
export type WebhookConfig = z.infer<typeof webhookSchema>;
