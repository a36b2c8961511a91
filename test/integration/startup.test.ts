import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loopbackConfig, spawnXiaoer } from '../helpers/xiaoer-process.ts';

describe('start-up from the command line', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'xiaoer-startup-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops on a bad config file and lists every problem with its path', async () => {
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

  it('exits with a message naming MQTT_PORT when the MQTT port is taken', async () => {
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

  it('prints a generated admin password once, on the first start only, and stops cleanly on SIGTERM', async () => {
    const dataDir = path.join(dir, 'data');
    const config = loopbackConfig(dir);
    const first = spawnXiaoer({ config, dataDir, env: { XIAOER_ADMIN_PASSWORD: '' } });
    const ports = await first.started;
    await new Promise((resolve) => setTimeout(resolve, 100));
    const password = /user "admin" was created with password\s+(\S+)/.exec(first.output())?.[1];
    expect(password).toBeDefined();
    const login = await fetch(`http://127.0.0.1:${ports.http}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    });
    expect(login.status).toBe(200);
    first.child.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });

    const second = spawnXiaoer({ config, dataDir, env: { XIAOER_ADMIN_PASSWORD: '' } });
    await second.started;
    second.child.kill('SIGTERM');
    await second.exited;
    expect(second.output()).not.toContain('was created with password');
  });
});
