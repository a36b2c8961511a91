import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { XiaoerError } from '../../core/errors.ts';
import type { ApiDeps } from '../build-api.ts';
import { ticketEventView, ticketView } from '../views.ts';

const HEARTBEAT_MS = 15_000;
const MAX_CLIENTS = 500;
/** A client that lets this much pile up unread is too slow to follow live; it is dropped. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * The live feed for the service desk: Server-Sent Events, one `ticket` event per ticket change.
 * Browsers' EventSource cannot set headers, so the token may also come as `?token=`.
 */
export const liveRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/live',
      {
        schema: {
          tags: ['live'],
          description:
            'Server-Sent Events: `event: ticket` with `{ ticket, event }` for every ticket change.',
          querystring: z.object({ token: z.string().optional(), site: z.string().optional() }),
        },
      },
      async (req, reply) => {
        const header = req.query.token ? `Bearer ${req.query.token}` : req.headers.authorization;
        await deps.auth.authenticate(header);
        if (deps.liveClients.size >= MAX_CLIENTS) {
          throw new XiaoerError('too_many_clients', 'the live feed is full; try again later', {
            httpStatus: 503,
          });
        }
        const site = req.query.site;
        reply.hijack();
        const res = reply.raw;
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
        const unsubscribe = deps.bus.on('ticketChanged', (ticket, event) => {
          if (site && ticket.site !== site) return;
          const data = JSON.stringify({ ticket: ticketView(ticket), event: ticketEventView(event) });
          send(`id: ${event.id}\nevent: ticket\ndata: ${data}\n\n`);
        });
        // The heartbeat also re-checks the token, so a logout or expiry ends the stream.
        const heartbeat = setInterval(() => {
          deps.auth.authenticate(header).then(
            () => send(': ping\n\n'),
            () => res.end(),
          );
        }, HEARTBEAT_MS);
        const close = () => {
          clearInterval(heartbeat);
          unsubscribe();
          deps.liveClients.delete(res);
        };
        deps.liveClients.add(res);
        req.raw.once('close', close);
        res.once('close', close);
      },
    );
  };
