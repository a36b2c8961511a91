import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { TicketDto, TicketEventDto } from '../tickets/ticket-dto.ts';
import type { WebhookConfig } from './config.ts';
import { DeliveryError, prepareRequest, send } from './webhook-sender.ts';

interface Delivery {
  ticket: TicketDto;
  event: TicketEventDto;
  attempts: number;
}

export interface WebhookStats {
  id: string;
  kind: string;
  queued: number;
  delivered: number;
  failed: number;
  dropped: number;
  retries: number;
  lastError?: string;
  lastErrorAt?: number;
  lastDeliveredAt?: number;
}

const MAX_BACKOFF_MS = 5 * 60_000;

/**
 * One endpoint's deliveries, sent one at a time in order, retried with exponential backoff.
 * The queue is bounded and `enqueue` never waits, so a dead endpoint cannot slow ticket processing.
 */
export class WebhookQueue {
  readonly #hook: WebhookConfig;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #consoleUrl: string | undefined;
  readonly #queue: Delivery[] = [];
  readonly stats: WebhookStats;
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  #sending: Promise<void> | undefined;

  constructor(hook: WebhookConfig, deps: { clock: Clock; log: Logger; consoleUrl?: string }) {
    this.#hook = hook;
    this.#clock = deps.clock;
    this.#log = deps.log;
    this.#consoleUrl = deps.consoleUrl;
    this.stats = { id: hook.id, kind: hook.kind, queued: 0, delivered: 0, failed: 0, dropped: 0, retries: 0 };
  }

  wants(ticket: TicketDto, event: TicketEventDto): boolean {
    return (
      this.#hook.events.includes(event.type) && (!this.#hook.sites || this.#hook.sites.includes(ticket.site))
    );
  }

  enqueue(ticket: TicketDto, event: TicketEventDto): void {
    if (this.#queue.length >= this.#hook.queueLimit) {
      this.#queue.shift();
      this.stats.dropped++;
    }
    this.#queue.push({ ticket, event, attempts: 0 });
    this.stats.queued = this.#queue.length;
    this.#kick(0);
  }

  start(): void {
    this.#running = true;
    this.#kick(0);
  }

  /** Stops retrying; what is still queued is reported, not sent (the log says how many). */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#sending;
    if (this.#queue.length > 0) {
      this.#log.warn(
        { webhook: this.#hook.id, undelivered: this.#queue.length },
        'webhook deliveries left unsent',
      );
    }
  }

  #kick(delayMs: number): void {
    if (!this.#running || this.#timer || this.#sending || this.#queue.length === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#sending = this.#sendHead().then((nextDelayMs) => {
        this.#sending = undefined;
        this.#kick(nextDelayMs);
      });
    }, delayMs);
  }

  /** Sends the oldest delivery once; resolves with the delay before the next attempt. Never rejects. */
  async #sendHead(): Promise<number> {
    const head = this.#queue[0];
    if (!head) return 0;
    head.attempts++;
    try {
      const req = prepareRequest(this.#hook, head.ticket, head.event, this.#clock.now(), this.#consoleUrl);
      await send(this.#hook, req);
      this.#queue.shift();
      this.stats.delivered++;
      this.stats.lastDeliveredAt = this.#clock.now();
      this.stats.queued = this.#queue.length;
      return 0;
    } catch (err) {
      const retryable = !(err instanceof DeliveryError) || err.retryable;
      this.stats.lastError = (err as Error).message;
      this.stats.lastErrorAt = this.#clock.now();
      if (!retryable || head.attempts >= this.#hook.maxAttempts) {
        this.#queue.shift();
        this.stats.failed++;
        this.stats.queued = this.#queue.length;
        this.#log.error(
          {
            webhook: this.#hook.id,
            ticketId: head.ticket.id,
            attempts: head.attempts,
            err: this.stats.lastError,
          },
          'webhook delivery given up',
        );
        return 0;
      }
      this.stats.retries++;
      const backoff = Math.min(this.#hook.retryBaseMs * 2 ** (head.attempts - 1), MAX_BACKOFF_MS);
      this.#log.warn(
        { webhook: this.#hook.id, attempt: head.attempts, backoffMs: backoff, err: this.stats.lastError },
        'webhook delivery failed; will retry',
      );
      return backoff;
    }
  }
}
