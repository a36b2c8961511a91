/**
 * Follows xiaoer's tickets the way a service-desk screen would: the live feed (`GET /api/live`,
 * Server-Sent Events, one `event: ticket` per change) plus a catch-up list of open tickets on
 * every (re)connection, so nothing raised while disconnected is missed.
 */
import type { ApiClient, TicketEventView, TicketView } from './api-client.ts';

export interface FeedStats {
  ticketsSeen: number;
  open: number;
  breaches: number;
}

export interface TicketFeedOptions {
  api: ApiClient;
  token: string;
  /** A new token when the old one expired (tokens live `auth.tokenTtlHours`, 12 h by default). */
  renewToken?(): Promise<string>;
  /** Every change seen; `event` is undefined for tickets found by the catch-up list. */
  onTicket?(ticket: TicketView, event: TicketEventView | undefined): void;
  onWarning?(message: string): void;
}

const RETRY_MS = 2000;

export class TicketFeed {
  readonly #opts: TicketFeedOptions;
  readonly #status = new Map<number, string>();
  #breaches = 0;
  #token: string;
  #abort: AbortController | undefined;
  #running: Promise<void> | undefined;

  constructor(opts: TicketFeedOptions) {
    this.#opts = opts;
    this.#token = opts.token;
  }

  get stats(): FeedStats {
    let open = 0;
    for (const s of this.#status.values()) if (s !== 'closed') open++;
    return { ticketsSeen: this.#status.size, open, breaches: this.#breaches };
  }

  start(): void {
    if (this.#running !== undefined) return;
    this.#abort = new AbortController();
    this.#running = this.#loop(this.#abort.signal);
  }

  async stop(): Promise<void> {
    this.#abort?.abort();
    await this.#running;
    this.#running = undefined;
  }

  async #loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.#follow(signal);
      } catch (err) {
        if (signal.aborted) return;
        this.#opts.onWarning?.(`live feed: ${(err as Error).message}; reconnecting`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, RETRY_MS);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async #follow(signal: AbortSignal): Promise<void> {
    const { api } = this.#opts;
    const token = this.#token;
    const res = await fetch(`${api.baseUrl}/api/live`, {
      headers: { authorization: `Bearer ${token}` },
      signal,
    });
    if (res.status === 401 && this.#opts.renewToken) {
      this.#token = await this.#opts.renewToken();
      throw new Error('token expired; logged in again');
    }
    if (!res.ok || !res.body) throw new Error(`GET /api/live answered ${res.status}`);
    await this.#catchUp();
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        this.#onBlock(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
  }

  async #catchUp(): Promise<void> {
    const { tickets } = await this.#opts.api.request<{ tickets: TicketView[] }>(
      'GET',
      '/api/tickets?open=true&limit=1000',
      { token: this.#token },
    );
    for (const t of tickets) this.#seen(t, undefined);
  }

  /** One SSE message: `event:` and `data:` lines (comments such as `: ping` are skipped). */
  #onBlock(block: string): void {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
    }
    if (event !== 'ticket' || data.length === 0) return;
    const { ticket, event: change } = JSON.parse(data.join('\n')) as {
      ticket: TicketView;
      event: TicketEventView;
    };
    if (change.type === 'sla_breached') this.#breaches++;
    this.#seen(ticket, change);
  }

  #seen(ticket: TicketView, event: TicketEventView | undefined): void {
    if (!event && this.#status.has(ticket.id)) return;
    this.#status.set(ticket.id, ticket.status);
    this.#opts.onTicket?.(ticket, event);
  }
}
