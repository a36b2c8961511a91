import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD } from '../helpers/test-app.ts';
import { waitFor } from '../helpers/wait.ts';
import { loopbackConfig, spawnXiaoer, XIAOER_PROCESS_TEST_TIMEOUT_MS } from '../helpers/xiaoer-process.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** `npm run admin -- <args>` as an operator runs it on the server (same config, same data). */
function adminCli(args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/admin-cli.ts', ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env } },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

async function login(port: number, username: string, password: string | undefined): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  return res.status;
}

// Each test starts xiaoer as a process (some twice, or with the admin command beside it): no fixed
// budget fits a busy machine. Every step waits on an event, so the time-out is only a safety net.
describe('start-up from the command line', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'xiaoer-startup-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops on a bad config file and lists every problem with its path', {
    timeout: XIAOER_PROCESS_TEST_TIMEOUT_MS,
  }, async () => {
    const config = path.join(dir, 'bad.yaml');
    writeFileSync(
      config,
      'categories: {}\nsites:\n  - id: x\n    name: X\n    gateway: { username: u }\nmqtt: { maxPayloadBytes: lots }\n',
    );
    const p = spawnXiaoer({ config, dataDir: path.join(dir, 'data') });
    expect(await p.exited).toEqual({ code: 78, signal: null });
    expect(p.output()).toContain(`invalid configuration in ${config}:`);
    expect(p.output()).toContain(
      'sites[0].gateway.password: Invalid input: expected string, received undefined',
    );
    expect(p.output()).toContain('mqtt.maxPayloadBytes: Invalid input: expected number, received string');
  });

  it('exits with a message naming MQTT_PORT when the MQTT port is taken', {
    timeout: XIAOER_PROCESS_TEST_TIMEOUT_MS,
  }, async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const p = spawnXiaoer({
        config: loopbackConfig(dir),
        dataDir: path.join(dir, 'data'),
        env: { MQTT_PORT: String(port) },
      });
      expect((await p.exited).code).toBe(1);
      expect(p.output()).toContain(
        `MQTT port ${port} is already in use; choose another with MQTT_PORT (or mqtt.port)`,
      );
    } finally {
      blocker.close();
    }
  });

  it('prints a generated admin password once, on the first start only, and stops cleanly on SIGTERM', {
    timeout: XIAOER_PROCESS_TEST_TIMEOUT_MS,
  }, async () => {
    const dataDir = path.join(dir, 'data');
    const config = loopbackConfig(dir);
    // The first try fails (the MQTT port is taken): no admin is made, so no password is lost.
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = String((blocker.address() as { port: number }).port);
    const failed = spawnXiaoer({ config, dataDir, env: { XIAOER_ADMIN_PASSWORD: '', MQTT_PORT: taken } });
    expect((await failed.exited).code).toBe(1);
    blocker.close();
    expect(failed.output()).not.toContain('was created with password');

    const first = spawnXiaoer({ config, dataDir, env: { XIAOER_ADMIN_PASSWORD: '' } });
    const ports = await first.started;
    const password = await waitFor(
      () => /user "admin" was created with password\s+(\S+)/.exec(first.output())?.[1],
      { what: 'the generated password' },
    );
    expect(await login(ports.http, 'admin', password)).toBe(200);
    first.child.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });

    const second = spawnXiaoer({ config, dataDir, env: { XIAOER_ADMIN_PASSWORD: '' } });
    await second.started;
    second.child.kill('SIGTERM');
    await second.exited;
    expect(second.output()).not.toContain('was created with password');
  });
});

describe('the compiled JavaScript', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'xiaoer-compiled-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('is what npm start runs: built by npm ci (prepare), it serves the API and the console and stops on SIGTERM', {
    timeout: XIAOER_PROCESS_TEST_TIMEOUT_MS,
  }, async () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.start).toBe('node --enable-source-maps build/src/main.js');
    expect(pkg.scripts.prepare).toMatch(/^npm run build && /);
    expect(
      existsSync(path.join(ROOT, 'build/src/main.js')),
      'build/ is missing: run npm run build (npm ci and npm test do)',
    ).toBe(true);
    // Source maps beside the output: stack traces name the .ts lines.
    expect(existsSync(path.join(ROOT, 'build/src/main.js.map'))).toBe(true);

    const x = spawnXiaoer({ config: loopbackConfig(dir), dataDir: path.join(dir, 'data'), from: 'compiled' });
    const { http } = await x.started;
    const health = await fetch(`http://127.0.0.1:${http}/api/health`);
    expect(await health.json()).toEqual({ status: 'ok' });
    // The migrations (SQL in the source tree) ran: the admin could log in.
    expect(await login(http, 'admin', ADMIN_PASSWORD)).toBe(200);
    const page = await fetch(`http://127.0.0.1:${http}/board`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="app"></div>');
    x.child.kill('SIGTERM');
    expect((await x.exited).code).toBe(0);
  });
});

describe('operating it', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'xiaoer-ops-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('resets a lost password from the server shell with npm run admin', {
    timeout: XIAOER_PROCESS_TEST_TIMEOUT_MS,
  }, async () => {
    const dataDir = path.join(dir, 'data');
    const config = loopbackConfig(dir);
    const env = { DATA_DIR: dataDir, XIAOER_CONFIG: config };
    const running = spawnXiaoer({ config, dataDir, env: { XIAOER_ADMIN_PASSWORD: 'the-lost-password' } });
    const ports = await running.started;
    try {
      // While xiaoer runs: the store is shared safely (SQLite WAL).
      const reset = await adminCli(['reset-password', 'admin'], env);
      expect(reset.code).toBe(0);
      const newPassword = /new password: (\S+)/.exec(reset.out)?.[1];
      expect(newPassword).toBeDefined();
      expect(await login(ports.http, 'admin', 'the-lost-password')).toBe(401);
      expect(await login(ports.http, 'admin', newPassword)).toBe(200);
      const chosen = await adminCli(['reset-password', 'admin', '--password', 'chosen-by-me'], env);
      expect(chosen).toMatchObject({ code: 0, out: 'password of admin set\n' });
      expect(await login(ports.http, 'admin', 'chosen-by-me')).toBe(200);
      expect(await adminCli(['reset-password', 'nobody'], env)).toMatchObject({
        code: 1,
        out: expect.stringContaining('user nobody does not exist'),
      });
      expect((await adminCli(['list-users'], env)).out).toBe('admin\tadmin\tactive\n');
      expect((await adminCli(['frobnicate'], env)).code).toBe(64);
    } finally {
      running.child.kill('SIGTERM');
      await running.exited;
    }
  });

  it('logs readable lines when asked (LOG_FORMAT=pretty, the default on a terminal) and an access line per request at debug', {
    timeout: XIAOER_PROCESS_TEST_TIMEOUT_MS,
  }, async () => {
    const dataDir = path.join(dir, 'data');
    const p = spawnXiaoer({
      config: loopbackConfig(dir),
      dataDir,
      env: { LOG_FORMAT: 'pretty', LOG_LEVEL: 'debug' },
    });
    try {
      const http = await waitFor(
        () => {
          const m = /xiaoer started[^\n]*\n(?:[^\n]*\n)*?\s*http: "http:\/\/127\.0\.0\.1:(\d+)"/.exec(
            p.output(),
          );
          return m?.[1] ? Number(m[1]) : undefined;
        },
        { timeoutMs: 30_000, what: 'the pretty start-up line with the HTTP port' },
      );
      // Not JSON: a time, a level and the message, then the fields indented below.
      expect(p.output()).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] INFO: xiaoer started/m);
      expect(p.output()).not.toMatch(/^\{"level"/m);
      await fetch(`http://127.0.0.1:${http}/api/health?token=secret-token`);
      await waitFor(() => (p.output().includes('http request') ? true : undefined), {
        what: 'the access line',
      });
      const access = p.output().slice(p.output().indexOf('http request'));
      expect(access).toMatch(/url: "\/api\/health\?token=\[redacted\]"/);
      expect(access).toMatch(/status: 200/);
      expect(p.output()).not.toContain('secret-token');
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
    }
  });
});
