import { createHmac } from 'node:crypto';
import type { TicketDto, TicketEventDto } from '../tickets/ticket-dto.ts';
import type { WebhookConfig } from './config.ts';
import { ticketMarkdown, ticketMessage } from './format.ts';

export interface PreparedRequest {
  url: string;
  body: unknown;
}

/** Builds the request for one endpoint kind. `now` is the signing time (DingTalk 加签). */
export function prepareRequest(
  hook: WebhookConfig,
  ticket: TicketDto,
  event: TicketEventDto,
  now: number,
  consoleUrl?: string,
  hint?: string,
): PreparedRequest {
  if (hook.kind === 'generic') return { url: hook.url, body: ticketMessage(ticket, event) };
  const { title, text } = ticketMarkdown(ticket, event, consoleUrl, hint);
  if (hook.kind === 'wecom')
    return { url: hook.url, body: { msgtype: 'markdown', markdown: { content: text } } };
  return {
    url: signDingTalk(hook.url, hook.secret, now),
    body: { msgtype: 'markdown', markdown: { title, text } },
  };
}

/**
 * DingTalk custom robot signing: HMAC-SHA256 over `timestamp + "\n" + secret` keyed by the secret,
 * base64, URL-encoded, sent as `timestamp` and `sign` query parameters. The timestamp must be within
 * an hour of DingTalk's clock, so it is computed per attempt, not per message.
 */
export function signDingTalk(url: string, secret: string | undefined, now: number): string {
  if (!secret) return url;
  const sign = createHmac('sha256', secret).update(`${now}\n${secret}`).digest('base64');
  const u = new URL(url);
  u.searchParams.set('timestamp', String(now));
  u.searchParams.set('sign', sign);
  return u.toString();
}

export class DeliveryError extends Error {
  /** Worth another try later (timeouts, 5xx, rate limits) rather than a permanent refusal. */
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean) {
    super(message);
    this.retryable = retryable;
  }
}

// WeCom 45009 / DingTalk 130101: sending too fast; both robots allow 20 messages a minute.
const RATE_LIMIT_CODES = new Set([45009, 130101]);

/** Sends one prepared request. WeCom and DingTalk answer HTTP 200 with a non-zero errcode on failure. */
export async function send(hook: WebhookConfig, req: PreparedRequest): Promise<void> {
  let res: Response;
  try {
    res = await fetch(req.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(req.body),
      signal: AbortSignal.timeout(hook.timeoutMs),
    });
  } catch (err) {
    throw new DeliveryError(`request failed: ${(err as Error).message}`, true);
  }
  const text = await res.text().catch(() => '');
  if (!res.ok) {
    const retryable = res.status >= 500 || res.status === 429 || res.status === 408;
    throw new DeliveryError(`HTTP ${res.status}: ${text.slice(0, 200)}`, retryable);
  }
  if (hook.kind === 'generic') return;
  let errcode: unknown;
  try {
    errcode = (JSON.parse(text) as { errcode?: unknown }).errcode;
  } catch {
    throw new DeliveryError(`unexpected reply: ${text.slice(0, 200)}`, true);
  }
  if (errcode !== 0) {
    throw new DeliveryError(`robot refused: ${text.slice(0, 200)}`, RATE_LIMIT_CODES.has(Number(errcode)));
  }
}
