import { createServer, type Server } from 'node:http';
import { listen } from '../core/listen.ts';
import type { Logger } from '../core/logger.ts';
import type { Service } from '../core/service.ts';
import type { PrometheusMetrics } from './prometheus.ts';

/**
 * `GET /metrics` in the Prometheus text format on a listener of its own (`metrics.host`,
 * loopback by default, and `metrics.port`): a scraper needs no login that expires, and the
 * figures (sites, consumers, error counts) are not on the public API port.
 */
export class MetricsServer implements Service {
  readonly name = 'metrics';
  readonly #metrics: PrometheusMetrics;
  readonly #host: string;
  readonly #port: number;
  readonly #log: Logger;
  #server: Server | undefined;
  port = 0;

  constructor(deps: { metrics: PrometheusMetrics; host: string; port: number; log: Logger }) {
    this.#metrics = deps.metrics;
    this.#host = deps.host;
    this.#port = deps.port;
    this.#log = deps.log;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const path = req.url?.split('?')[0];
      if (req.method !== 'GET' || path !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
        return;
      }
      this.#metrics.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.#metrics.registry.contentType }).end(text),
        (err: unknown) => {
          this.#log.error({ err }, 'metrics could not be gathered');
          res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics could not be gathered\n');
        },
      );
    });
    this.#server = server;
    this.port = await listen(server, this.#host, this.#port, 'metrics', 'metrics.port');
    this.#metrics.start();
    this.#log.info({ url: `http://${this.#host}:${this.port}/metrics` }, 'Prometheus metrics listening');
  }

  async stop(): Promise<void> {
    this.#metrics.stop();
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // A scraper keeps its connection alive between scrapes; close() alone would wait for it.
    server.closeAllConnections();
    await closed;
  }
}
