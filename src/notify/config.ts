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
  maxAttempts: z.number().int().min(1).max(50).default(8),
  /** First retry delay; each further one doubles, up to 5 minutes. */
  retryBaseMs: z.number().int().positive().default(1000),
  /** Deliveries waiting per endpoint before the oldest is dropped (and counted). */
  queueLimit: z.number().int().positive().default(1000),
});

export const notifySchema = strictObject({
  /** Ticket changes are published to `<prefix>/<site>` at QoS 1; empty string turns it off. */
  mqttTopicPrefix: z.string().default('xiaoer/out/tickets'),
  /** Base URL of the web console, for links in robot messages. */
  consoleUrl: z.url().optional(),
  webhooks: z.array(webhookSchema).default([]),
}).prefault({});

export type NotifyConfig = z.infer<typeof notifySchema>;
export type WebhookConfig = z.infer<typeof webhookSchema>;
