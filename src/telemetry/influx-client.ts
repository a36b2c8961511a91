import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { InfluxDB, type IPoolOptions } from 'influx';
import type { InfluxConfig } from './config.ts';

/**
 * The influx pool disables a failing host for a backoff delay with a timer of its own (not
 * cancellable, so it would outlive `stop()`) and retries inside the request. The writer has its
 * own retry loop and spool, so the pool is told never to back off (delay 0 keeps the host enabled,
 * influx 5.12 `Pool._disableHost`) and never to retry.
 */
const noBackoff: NonNullable<IPoolOptions['backoff']> = {
  getDelay: () => 0,
  next: () => noBackoff,
  reset: () => noBackoff,
};

export type InfluxAgent = HttpAgent | HttpsAgent;

export function createAgent(config: InfluxConfig): InfluxAgent {
  const https = new URL(config.url).protocol === 'https:';
  return https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
}

/** A client whose requests fail after `timeoutMs` without an answer, on the writer's own agent. */
export function createInfluxClient(config: InfluxConfig, agent: InfluxAgent, timeoutMs: number): InfluxDB {
  const url = new URL(config.url);
  const https = url.protocol === 'https:';
  return new InfluxDB({
    // URL keeps IPv6 literals in brackets; http.request wants the bare address.
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : https ? 443 : 80,
    protocol: https ? 'https' : 'http',
    path: url.pathname.replace(/\/+$/, ''),
    options: { agent },
    database: config.database,
    ...(config.username ? { username: config.username, password: config.password ?? '' } : {}),
    pool: { maxRetries: 0, requestTimeout: timeoutMs, backoff: noBackoff },
  });
}

/** What `InfluxDB#writePoints` sends with (influx 5.12 keeps its pool in `_pool`). */
interface RequestPool {
  discard(options: {
    method: 'POST';
    path: string;
    body: string;
    query: Record<string, string>;
    auth?: string;
  }): Promise<void>;
}

/**
 * Sends a body already in line protocol through the client's own pool, so the request is exactly
 * the one `writePoints` would make (path prefix, auth, timeout, errors), without its serializer.
 * Returns false, sending nothing, should a future influx version keep its pool elsewhere.
 */
export async function writeLines(client: InfluxDB, config: InfluxConfig, body: string): Promise<boolean> {
  const pool = (client as unknown as { _pool?: Partial<RequestPool> })._pool;
  if (typeof pool?.discard !== 'function') return false;
  const query: Record<string, string> = { db: config.database, precision: 'ms' };
  if (config.retentionPolicy) query.rp = config.retentionPolicy;
  await (pool as RequestPool).discard({
    method: 'POST',
    path: '/write',
    body,
    query,
    ...(config.username ? { auth: `${config.username}:${config.password ?? ''}` } : {}),
  });
  return true;
}

export type WriteFailure = 'retry' | 'reject' | 'database_missing';

/**
 * What to do with a batch InfluxDB did not take. 400 is a bad point (a field type conflict, which
 * InfluxDB 1.x decides per shard, or unparsable line protocol) and 413 a body over
 * `max-body-size`: resending the same batch can never succeed, so the caller splits it.
 * A missing database is created again (someone dropped it, or it could not be created at start).
 * Everything else (refused, timed out, 5xx, 401/403 until the config is fixed) is retried.
 */
export function classifyWriteError(err: unknown): WriteFailure {
  const status = (err as { res?: { statusCode?: number } }).res?.statusCode;
  const message = err instanceof Error ? err.message : String(err);
  if (status === 404 && message.includes('database not found')) return 'database_missing';
  if (status === 400 || status === 413) return 'reject';
  return 'retry';
}

export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.includes(code) ? `${code} ${err.message}` : err.message || err.name;
  }
  return String(err);
}
