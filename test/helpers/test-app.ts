import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { App } from '../../src/app.ts';
import { parseConfigText } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { createLogger } from '../../src/core/logger.ts';
import { PROJECT_ROOT } from '../../src/core/paths.ts';

// From the project root, so that the bench's compiled copy (build-bench/) finds it too.
export const EXAMPLE_CONFIG = path.join(PROJECT_ROOT, 'config/example.yaml');
export const ADMIN_PASSWORD = 'test-admin-password';

/** The shipped example, on ephemeral loopback ports and a fresh temporary data directory. */
export function testConfig(dataDir: string, override: (c: Config) => void = () => {}): Config {
  const config = parseConfigText(readFileSync(EXAMPLE_CONFIG, 'utf8'), EXAMPLE_CONFIG, {
    XIAOER_ADMIN_PASSWORD: ADMIN_PASSWORD,
  });
  config.dataDir = dataDir;
  config.http = { ...config.http, host: '127.0.0.1', port: 0 };
  config.mqtt.host = '127.0.0.1';
  config.mqtt.port = 0;
  config.logLevel = 'silent';
  // Nobody checks in in most tests: their tickets would escalate at once (console-api.test.ts turns it on).
  config.shifts = { ...config.shifts, escalateWhenUnstaffed: false };
  override(config);
  return config;
}

export interface TestApp {
  app: App;
  baseUrl: string;
  mqttUrl: string;
  dataDir: string;
  request<T = Record<string, unknown>>(
    method: string,
    url: string,
    opts?: { token?: string; body?: unknown },
  ): Promise<{ status: number; body: T }>;
  login(username: string, password: string): Promise<string>;
  /** The admin's token (logged in once). */
  adminToken(): Promise<string>;
  /** Creates a user through the API as admin and returns its token. */
  userToken(username: string, role: 'staff' | 'maintainer' | 'admin'): Promise<string>;
  gateway(site: string, password?: string): Promise<MqttClient>;
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

export async function startTestApp(
  opts: { dataDir?: string; override?: (c: Config) => void; mqttUrl?: string } = {},
): Promise<TestApp> {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(tmpdir(), 'xiaoer-test-'));
  const config = testConfig(dataDir, opts.override);
  const app = new App({ config, log: createLogger(config.logLevel) });
  await app.start();
  const baseUrl = `http://127.0.0.1:${app.ports.http}`;
  const mqttUrl = opts.mqttUrl ?? `mqtt://127.0.0.1:${app.ports.mqtt}`;
  const clients: MqttClient[] = [];

  const request: TestApp['request'] = async (method, url, { token, body } = {}) => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${baseUrl}${url}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : {} };
  };
  const login = async (username: string, password: string) => {
    const res = await request<{ token: string }>('POST', '/api/auth/login', { body: { username, password } });
    if (res.status !== 200) throw new Error(`login ${username} failed: ${JSON.stringify(res.body)}`);
    return res.body.token;
  };
  let adminToken: string | undefined;
  return {
    app,
    baseUrl,
    mqttUrl,
    dataDir,
    request,
    login,
    async adminToken() {
      adminToken ??= await login('admin', ADMIN_PASSWORD);
      return adminToken;
    },
    async userToken(username, role) {
      adminToken ??= await login('admin', ADMIN_PASSWORD);
      const password = `${username}-password`;
      const res = await request('POST', '/api/users', {
        token: adminToken,
        body: { username, displayName: username, role, password },
      });
      if (res.status !== 201 && res.status !== 409)
        throw new Error(`create user: ${JSON.stringify(res.body)}`);
      return login(username, password);
    },
    async gateway(site, password = `${site}-demo`) {
      const client = await mqtt.connectAsync(mqttUrl, {
        username: `${site}-gw`,
        password,
        clientId: `${site}-gw-test-${Math.random().toString(16).slice(2, 8)}`,
        reconnectPeriod: 0,
      });
      clients.push(client);
      return client;
    },
    async stop({ keepData = false } = {}) {
      await Promise.all(clients.map((c) => c.endAsync(true)));
      await app.stop();
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
