import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import {
  CHROMIUM as DEBIAN_CHROMIUM,
  CHROMIUM_ARGS as REPORT_CHROMIUM_ARGS,
} from '../../src/reports/render/chromium.ts';
import { type RunningInfluxd, startInfluxd } from '../helpers/influxdb.ts';
import { ADMIN_PASSWORD, EXAMPLE_CONFIG } from '../helpers/test-app.ts';
import { spawnXiaoer, type XiaoerProcess } from '../helpers/xiaoer-process.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** Screenshots of every page, for a reviewer (git-ignored; a few are copied to docs/ for the README). */
export const SCREENSHOT_DIR = path.join(ROOT, 'test-output', 'screenshots');
/** Debian's Chromium, installed by scripts/ensure-services.sh: never a downloaded browser. */
export const CHROMIUM = process.env.CHROMIUM_BIN ?? DEBIAN_CHROMIUM;
export const USER_PASSWORD = 'console-test-password-1';

/** The example's sites' gateway accounts (config/example.yaml). */
const GATEWAYS: Record<string, { username: string; password: string }> = {
  xincheng: { username: 'xincheng-gw', password: 'xincheng-demo' },
  north: { username: 'north-gw', password: 'north-demo' },
  east: { username: 'east-gw', password: 'east-demo' },
};

/** The people the console tests log in as, created through the admin API. */
export const PEOPLE = {
  desk: { username: 'desk', displayName: '服务台小王', role: 'staff', sites: [] as string[] },
  wang: { username: 'wang', displayName: '王师傅', role: 'maintainer', sites: ['xincheng'] },
  li: { username: 'li', displayName: '李师傅', role: 'maintainer', sites: ['north'] },
} as const;

export interface ConsoleHarness {
  /** `http://127.0.0.1:<port>`: the console and the API. */
  baseUrl: string;
  xiaoer: XiaoerProcess;
  influx: RunningInfluxd;
  browser: Browser;
  /** A gateway's MQTT connection to the embedded broker (one per site, opened on first use). */
  gateway(site: string): Promise<MqttClient>;
  /** Publishes as the site's gateway at QoS 1 (PUBACK: recorded). */
  publish(site: string, topic: string, payload: unknown): Promise<void>;
  /** A fresh browser context (its own storage) and page. */
  newPage(opts?: { width?: number; height?: number; mobile?: boolean }): Promise<Page>;
  /** Logs in through the login page and waits for the landing page. */
  login(page: Page, username: string, password?: string): Promise<void>;
  /** Calls the API as a user (logged in once, token kept). */
  api<T = unknown>(username: string, method: string, apiPath: string, body?: unknown): Promise<T>;
  screenshot(page: Page, name: string): Promise<void>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  /** shifts.escalateWhenUnstaffed (the product's default is true). */
  escalateWhenUnstaffed?: boolean;
  /** tickets.verifyMinutes: how long a repaired sensor must stay clear (the product's default is 10). */
  verifyMinutes?: number;
}

/** The example config on loopback, with InfluxDB, shift escalation as asked and the console on. */
function harnessConfig(dir: string, influxUrl: string, opts: HarnessOptions): string {
  const file = path.join(dir, 'config.yaml');
  const text = readFileSync(EXAMPLE_CONFIG, 'utf8').replaceAll('host: 0.0.0.0', 'host: 127.0.0.1');
  const extra = [
    '',
    'influx:',
    `  url: ${influxUrl}`,
    '  database: xiaoer_console_e2e',
    'shifts:',
    `  escalateWhenUnstaffed: ${opts.escalateWhenUnstaffed ?? true}`,
    ...(opts.verifyMinutes === undefined ? [] : ['tickets:', `  verifyMinutes: ${opts.verifyMinutes}`]),
    '',
  ].join('\n');
  writeFileSync(file, `${text}\n${extra}`);
  return file;
}

/** Debian's Chromium's flags for this machine (src/reports/render/chromium.ts), and a sound without a gesture. */
export const CHROMIUM_ARGS = [
  ...REPORT_CHROMIUM_ARGS,
  // The board's new-fault sound plays without a user gesture on a wall screen.
  '--autoplay-policy=no-user-gesture-required',
];

/**
 * A running xiaoer (its own process, as `npm start` runs it) with InfluxDB, fed over MQTT by the
 * sites' gateways, and Debian's Chromium to drive the console. Users from PEOPLE exist.
 */
export async function startConsoleHarness(opts: HarnessOptions = {}): Promise<ConsoleHarness> {
  if (!existsSync(path.join(ROOT, 'dashboards/console/dist/index.html'))) {
    throw new Error('the console is not built: run `npm run build:console` (npm ci does it through prepare)');
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'xiaoer-console-'));
  const influx = await startInfluxd({ dir: path.join(dir, 'influx') });
  const config = harnessConfig(dir, influx.url, opts);
  const xiaoer = spawnXiaoer({ config, dataDir: path.join(dir, 'data') });
  const ports = await xiaoer.started;
  const baseUrl = `http://127.0.0.1:${ports.http}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const contexts: BrowserContext[] = [];
  const gateways = new Map<string, MqttClient>();
  const tokens = new Map<string, string>();

  const login = async (username: string, password: string): Promise<string> => {
    const res = await fetch(`${baseUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (!res.ok) throw new Error(`login ${username}: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { token: string }).token;
  };
  tokens.set('admin', await login('admin', ADMIN_PASSWORD));

  const api = async <T>(username: string, method: string, apiPath: string, body?: unknown): Promise<T> => {
    let token = tokens.get(username);
    if (!token) {
      token = await login(username, USER_PASSWORD);
      tokens.set(username, token);
    }
    const res = await fetch(`${baseUrl}/api${apiPath}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${apiPath} as ${username}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };

  for (const person of Object.values(PEOPLE)) {
    await api('admin', 'POST', '/users', {
      username: person.username,
      displayName: person.displayName,
      role: person.role,
      sites: person.sites,
      password: USER_PASSWORD,
    });
  }

  const gateway = async (site: string): Promise<MqttClient> => {
    const existing = gateways.get(site);
    if (existing) return existing;
    const account = GATEWAYS[site];
    if (!account) throw new Error(`no gateway account for site ${site}`);
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${ports.mqtt}`, {
      ...account,
      clientId: `${account.username}-e2e`,
      reconnectPeriod: 0,
    });
    gateways.set(site, client);
    return client;
  };

  mkdirSync(SCREENSHOT_DIR, { recursive: true });

  return {
    baseUrl,
    xiaoer,
    influx,
    browser,
    gateway,
    async publish(site, topic, payload) {
      const client = await gateway(site);
      await client.publishAsync(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), {
        qos: 1,
      });
    },
    async newPage({ width = 1440, height = 900, mobile = false } = {}) {
      const context = await browser.newContext({
        baseURL: baseUrl,
        viewport: { width, height },
        isMobile: mobile,
        hasTouch: mobile,
        deviceScaleFactor: mobile ? 2 : 1,
        locale: 'zh-CN',
        timezoneId: 'Asia/Shanghai',
      });
      contexts.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(30_000);
      return page;
    },
    async login(page, username, password = username === 'admin' ? ADMIN_PASSWORD : USER_PASSWORD) {
      if (!page.url().includes('/login')) await page.goto('/login');
      await fillInput(page, 'username', username);
      await fillInput(page, 'password', password);
      await page.getByTestId('login-submit').click();
      await page.waitForURL((url) => !url.pathname.startsWith('/login'));
    },
    api,
    async screenshot(page, name) {
      // A dialog fading in or out would be caught half-drawn: wait for the page's finite
      // animations and transitions (Element Plus fades) to end; endless ones (spinners) run on.
      await page.waitForFunction(() =>
        document
          .getAnimations()
          .every(
            (a) => a.playState !== 'running' || a.effect?.getTiming().iterations === Number.POSITIVE_INFINITY,
          ),
      );
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
    },
    async stop() {
      for (const client of gateways.values()) await client.endAsync().catch(() => {});
      for (const context of contexts) await context.close().catch(() => {});
      await browser.close().catch(() => {});
      xiaoer.child.kill('SIGTERM');
      await xiaoer.exited;
      await influx.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Fills an Element Plus input by its data-testid, wherever the attribute landed: el-input passes
 * it to the inner <input>, a wrapper keeps it on itself.
 */
export async function fillInput(page: Page, testId: string, value: string): Promise<void> {
  await page
    .locator(
      `input[data-testid="${testId}"], textarea[data-testid="${testId}"], [data-testid="${testId}"] input, [data-testid="${testId}"] textarea`,
    )
    .first()
    .fill(value);
}
