import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../build-api.ts';
import { ticketEventView, ticketView } from '../views.ts';

const HEARTBEAT_MS = 15_000;

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
        const unsubscribe = deps.bus.on('ticketChanged', (ticket, event) => {
          if (site && ticket.site !== site) return;
          const data = JSON.stringify({ ticket: ticketView(ticket), event: ticketEventView(event) });
          res.write(`id: ${event.id}\nevent: ticket\ndata: ${data}\n\n`);
        });
        const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
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
