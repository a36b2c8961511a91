import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../core/errors.ts';
import { type Config, configSchema } from './schema.ts';

/** The environment variables xiaoer reads. Nothing outside this module reads `process.env`. */
export interface ConfigEnv {
  XIAOER_CONFIG?: string;
  XIAOER_ADMIN_PASSWORD?: string;
  MQTT_PORT?: string;
  MQTT_URL?: string;
  /** A PostgreSQL URL: the ticket store for several instances (`database.url`). */
  DATABASE_URL?: string;
  /** This instance's name in a cluster (`cluster.instanceId`). */
  XIAOER_INSTANCE_ID?: string;
  PORT?: string;
  DATA_DIR?: string;
  LOG_LEVEL?: string;
  LOG_FORMAT?: string;
}

export const DEFAULT_CONFIG_PATH = 'config/example.yaml';

/** `sites[1].devices[3].id`, the form every config error uses. */
export function formatPath(issuePath: readonly PropertyKey[]): string {
  let out = '';
  for (const part of issuePath) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(root)';
}

/**
 * `rules[3].above: ... (rule "office-overheat")`: a path names the ids of the list entries it goes
 * through, so an error in the fortieth rule or a device of the third site can be found by name.
 */
export function formatIssues(issues: readonly z.core.$ZodIssue[], raw?: unknown): string[] {
  return issues.map((i) => {
    const owners = ownersOf(i.path, raw);
    return `${formatPath(i.path)}: ${i.message}${owners.length > 0 ? ` (${owners.join(', ')})` : ''}`;
  });
}

const SINGULAR: Readonly<Record<string, string>> = {
  sites: 'site',
  devices: 'device',
  rules: 'rule',
  endpoints: 'endpoint',
  webhooks: 'webhook',
  subscribers: 'subscriber',
};

function ownersOf(issuePath: readonly PropertyKey[], raw: unknown): string[] {
  const owners: string[] = [];
  let node = raw;
  let list = '';
  for (const part of issuePath) {
    if (node === null || typeof node !== 'object') break;
    node = (node as Record<PropertyKey, unknown>)[part as string];
    if (typeof part === 'number' && Object.hasOwn(SINGULAR, list)) {
      const entry = node as { id?: unknown; username?: unknown } | undefined;
      const name = typeof entry?.id === 'string' ? entry.id : entry?.username;
      if (typeof name === 'string') owners.push(`${SINGULAR[list]} "${name.slice(0, 64)}"`);
    }
    list = String(part);
  }
  return owners;
}

function envNumber(env: ConfigEnv, name: keyof ConfigEnv, errors: string[]): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    errors.push(`${name}: expected a port number 0-65535, got "${raw}"`);
    return undefined;
  }
  return n;
}

/** Environment settings win over the file: they are how an operator moves ports without editing it. */
function applyEnv(raw: Record<string, unknown>, env: ConfigEnv): string[] {
  const errors: string[] = [];
  const section = (key: string): Record<string, unknown> => {
    const current = raw[key];
    if (current && typeof current === 'object' && !Array.isArray(current))
      return current as Record<string, unknown>;
    const created: Record<string, unknown> = {};
    raw[key] = created;
    return created;
  };
  const mqttPort = envNumber(env, 'MQTT_PORT', errors);
  if (mqttPort !== undefined) section('mqtt').port = mqttPort;
  if (env.MQTT_URL) section('mqtt').url = env.MQTT_URL;
  const httpPort = envNumber(env, 'PORT', errors);
  if (httpPort !== undefined) section('http').port = httpPort;
  if (env.DATABASE_URL) section('database').url = env.DATABASE_URL;
  if (env.XIAOER_INSTANCE_ID) section('cluster').instanceId = env.XIAOER_INSTANCE_ID;
  if (env.DATA_DIR) raw.dataDir = env.DATA_DIR;
  if (env.LOG_LEVEL) raw.logLevel = env.LOG_LEVEL;
  if (env.LOG_FORMAT) raw.logFormat = env.LOG_FORMAT;
  if (env.XIAOER_ADMIN_PASSWORD) section('auth').adminPassword = env.XIAOER_ADMIN_PASSWORD;
  return errors;
}

export function parseConfigText(text: string, source: string, env: ConfigEnv = {}): Config {
  let raw: unknown;
  if (source.endsWith('.json')) {
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(source, [`(file): not valid JSON: ${(err as Error).message}`]);
    }
  } else {
    const doc = parseDocument(text, { prettyErrors: true });
    if (doc.errors.length > 0) {
      throw new ConfigError(
        source,
        doc.errors.map(
          (e) => `(file) line ${(e.linePos?.[0]?.line ?? 0).toString()}: ${e.message.split('\n')[0]}`,
        ),
      );
    }
    raw = doc.toJS();
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(source, ['(root): expected a mapping of settings']);
  }
  const envErrors = applyEnv(raw as Record<string, unknown>, env);
  const parsed = configSchema.safeParse(raw);
  const issues = [...envErrors, ...(parsed.success ? [] : formatIssues(parsed.error.issues, raw))];
  if (issues.length > 0 || !parsed.success) throw new ConfigError(source, issues);
  return parsed.data;
}

export interface LoadedConfig {
  config: Config;
  source: string;
}

/** Reads the file named by `--config`, else `XIAOER_CONFIG`, else the shipped example. */
export function loadConfig(argPath: string | undefined, env: ConfigEnv, cwd = process.cwd()): LoadedConfig {
  const source = path.resolve(cwd, argPath ?? env.XIAOER_CONFIG ?? DEFAULT_CONFIG_PATH);
  let text: string;
  try {
    text = readFileSync(source, 'utf8');
  } catch (err) {
    throw new ConfigError(source, [
      `(file): cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    ]);
  }
  const config = parseConfigText(text, source, env);
  config.dataDir = path.resolve(cwd, config.dataDir);
  return { config, source };
}
