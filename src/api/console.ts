import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../core/logger.ts';
import { PROJECT_ROOT } from '../core/paths.ts';

/** Where `npm ci` builds the console (dashboards/console, its `prepare` script). */
export const DEFAULT_CONSOLE_DIR = path.join(PROJECT_ROOT, 'dashboards/console/dist');

/**
 * The console's Content-Security-Policy: everything from xiaoer itself, no inline script (the
 * build has none); inline styles are allowed because Element Plus sets them on elements.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self' data:",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

/** Hashed build output: a new build has new names, so a file may be cached for good. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** Paths the console never answers: the API and its docs keep their JSON and HTML. */
const NOT_CONSOLE = /^\/(api|docs)([/?#]|$)/;

/** Answers a request the routes did not take with the console's index.html; false if it is not one. */
export type ConsoleFallback = (req: FastifyRequest, reply: FastifyReply) => boolean;

function setHeaders(reply: FastifyReply, file: string): void {
  const assets = `${path.sep}assets${path.sep}`;
  void reply
    .header('content-security-policy', CONSOLE_CSP)
    .header('cache-control', file.includes(assets) ? IMMUTABLE : 'no-cache');
}

/**
 * Serves the built web console at `/` with its CSP: the files of the build, and for any other
 * page a browser asks for (a GET accepting text/html outside /api and /docs) its index.html, so
 * the console's own routes (`/tickets/12`, `/scan/asset/...`) load on a reload or from a link.
 * Without a build, a warning, and the API runs on alone.
 */
export async function registerConsole(
  app: FastifyInstance,
  opts: { dir: string; log: Logger },
): Promise<ConsoleFallback | undefined> {
  const index = path.join(opts.dir, 'index.html');
  if (!existsSync(index)) {
    opts.log.warn(
      { dir: opts.dir },
      'the web console is not built (run npm ci, or npm run build:console): serving the API only',
    );
    return undefined;
  }
  // One route per file of the build (no wildcard): every other path reaches the not-found
  // handler, which gives pages index.html and the API its JSON error.
  await app.register(fastifyStatic, {
    root: opts.dir,
    prefix: '/',
    wildcard: false,
    cacheControl: false,
    setHeaders,
  });
  return (req, reply) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (NOT_CONSOLE.test(req.url)) return false;
    if (!String(req.headers.accept ?? '').includes('text/html')) return false;
    void reply.sendFile('index.html');
    return true;
  };
}
