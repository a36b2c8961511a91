import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { seesSite } from '../../auth/site-scope.ts';
import { XiaoerError } from '../../core/errors.ts';
import type { LogEntry } from '../../events/event-log.ts';
import type { ApiDeps } from '../build-api.ts';
import { query } from '../views.ts';

const HEARTBEAT_MS = 15_000;
/** A client that lets this much pile up unread is too slow to follow live; it is dropped. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/** Open live-feed responses, in all and per user, so no one user can take every slot. */
export class LiveClients {
  readonly all = new Set<ServerResponse>();
  readonly #perUser = new Map<number, number>();

  constructor(
    readonly maxClients: number,
    readonly maxPerUser: number,
  ) {}

  /** Takes a slot for the user, or throws; the returned function gives it back (once). */
  admit(userId: number, res: ServerResponse): () => void {
    if ((this.#perUser.get(userId) ?? 0) >= this.maxPerUser) {
      throw new XiaoerError(
        'too_many_live_feeds',
        `at most ${this.maxPerUser} live feeds per user; close one (another tab or screen) first`,
        { httpStatus: 429 },
      );
    }
    if (this.all.size >= this.maxClients) {
      throw new XiaoerError('too_many_clients', 'the live feed is full; try again later', {
        httpStatus: 503,
      });
    }
    this.all.add(res);
    this.#perUser.set(userId, (this.#perUser.get(userId) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.all.delete(res);
      const left = (this.#perUser.get(userId) ?? 1) - 1;
      if (left > 0) this.#perUser.set(userId, left);
      else this.#perUser.delete(userId);
    };
  }
}

/** A client further behind than this is told to reload (`event: reset`) instead of replayed. */
const MAX_REPLAY = 10_000;

/**
 * The live feed for the service desk: Server-Sent Events, one `ticket` event per ticket change,
 * carrying the same ticket DTO as the REST API. Each event's `id` is its position in the ticket
 * event log, so a client reconnecting with `Last-Event-ID` (browsers send it by themselves) gets
 * exactly what it missed, then the changes as they happen. Browsers' EventSource cannot set
 * headers, so the token may also come as `?token=`.
 */
export const liveRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    /**
     * Each change rendered once for every feed: a desk with a wall screen per room has dozens of
     * feeds open, and building the DTO and its JSON per feed per change cost more than the change.
     * Keyed by the event object, which every follower of the log is handed as it is appended.
     */
    const rendered = new WeakMap<object, string>();
    const frame = ({ ticket, event }: LogEntry): string => {
      let text = rendered.get(event);
      if (text === undefined) {
        const data = JSON.stringify({
          ticket: deps.presenter.ticket(ticket),
          event: deps.presenter.event(event),
        });
        text = `id: ${event.id}\nevent: ticket\ndata: ${data}\n\n`;
        rendered.set(event, text);
      }
      return text;
    };
    app.get(
      '/live',
      {
        schema: {
          summary: 'Live feed of ticket changes (SSE)',
          description:
            'Server-Sent Events: `event: ticket` with `{ ticket, event }` for every ticket change at the sites the user sees; `id` is the log position. Send `Last-Event-ID` (or `?lastEventId=`) to resume without a gap. At most a few feeds per user.',
          tags: ['live'],
          querystring: query({
            token: z.string().max(200).optional(),
            site: z.string().max(64).optional(),
            lastEventId: z.coerce.number().int().min(0).optional(),
          }),
        },
      },
      async (req, reply) => {
        const header = req.query.token ? `Bearer ${req.query.token}` : req.headers.authorization;
        const user = await deps.auth.authenticate(header);
        const resumeHeader = req.headers['last-event-id'];
        const resumeFrom = parseResume(
          typeof resumeHeader === 'string' ? resumeHeader : undefined,
          req.query.lastEventId,
        );
        const head = await deps.eventLog.head();
        const res = reply.raw;
        const release = deps.liveClients.admit(user.id, res);
        const site = req.query.site;
        reply.hijack();
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          // Tell reverse proxies (nginx) not to buffer the stream.
          'x-accel-buffering': 'no',
        });
        res.write('retry: 3000\n\n');
        const send = (text: string) => {
          if (res.writableEnded || res.destroyed) return;
          if (res.writableLength > MAX_BUFFERED_BYTES) res.end();
          else res.write(text);
        };
        let from = resumeFrom ?? head;
        if (head - from > MAX_REPLAY) {
          send(`id: ${head}\nevent: reset\ndata: {"reason":"too far behind: reload the ticket list"}\n\n`);
          from = head;
        }
        const follower = deps.eventLog.follow(from, (entry) => {
          // A user scoped to sites hears only of theirs (the ids still say how far the log went).
          if ((site && entry.ticket.site !== site) || !seesSite(user, entry.ticket.site)) return;
          send(frame(entry));
        });
        follower.caughtUp.catch((err: unknown) => {
          req.log.error({ err }, 'live feed could not replay the log');
          res.end();
        });
        // The heartbeat also re-checks the token, so a logout, expiry or disabling ends the stream.
        const heartbeat = setInterval(() => {
          deps.auth.authenticate(header).then(
            () => send(': ping\n\n'),
            () => res.end(),
          );
        }, HEARTBEAT_MS);
        const close = () => {
          clearInterval(heartbeat);
          follower.stop();
          release();
        };
        req.raw.once('close', close);
        res.once('close', close);
      },
    );
  };

function parseResume(header: string | undefined, query: number | undefined): number | undefined {
  if (query !== undefined) return query;
  if (header === undefined || !/^\d{1,15}$/.test(header.trim())) return undefined;
  return Number(header.trim());
}
