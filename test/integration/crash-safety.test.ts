import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD } from '../helpers/test-app.ts';
import {
  loopbackConfig,
  spawnXiaoer,
  XIAOER_PROCESS_TEST_TIMEOUT_MS,
  type XiaoerProcess,
} from '../helpers/xiaoer-process.ts';

/** GET `path` as the admin (logged in for each call: the process may be a new one). */
async function getAt<T>(httpPort: number, path: string): Promise<T> {
  const base = `http://127.0.0.1:${httpPort}`;
  const login = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  const { token } = (await login.json()) as { token: string };
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return (await res.json()) as T;
}

async function ticketsAt(httpPort: number): Promise<{ id: number; fault: string; assetId: string }[]> {
  return (
    await getAt<{ tickets: { id: number; fault: string; assetId: string }[] }>(httpPort, '/api/tickets')
  ).tickets;
}

async function ingestStatsAt(httpPort: number): Promise<{ accepted: number; deadLettered: object }> {
  return (await getAt<{ ingest: { accepted: number; deadLettered: object } }>(httpPort, '/api/health'))
    .ingest;
}

describe('crash safety of an acknowledged QoS 1 alert', () => {
  let dir: string;
  let running: XiaoerProcess[] = [];
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'xiaoer-crash-'));
    running = [];
  });
  afterEach(async () => {
    for (const p of running)
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(running.map((p) => p.exited));
    rmSync(dir, { recursive: true, force: true });
  });

  const start = () => {
    const p = spawnXiaoer({ config: loopbackConfig(dir), dataDir: path.join(dir, 'data') });
    running.push(p);
    return p;
  };

  // Two starts of xiaoer as a process and a graceful stop: no fixed budget fits a busy machine.
  // Every step waits on an event (a log line, a PUBACK, an exit), so this is only a safety net.
  it('survives SIGKILL right after the PUBACK: one ticket after restart, none added by redelivery', {
    timeout: XIAOER_PROCESS_TEST_TIMEOUT_MS,
  }, async () => {
    const first = start();
    const { mqtt: mqttPort } = await first.started;
    const gw = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
      username: 'xincheng-gw',
      password: 'xincheng-demo',
      clientId: 'xincheng-gw',
      reconnectPeriod: 0,
    });
    const payload = JSON.stringify({ water_leak: true, battery: 88, linkquality: 96 });
    await new Promise<void>((resolve, reject) => {
      gw.publish('xincheng/zigbee2mqtt/leak-b1-riser', payload, { qos: 1 }, (err) => {
        // The PUBACK is in: kill at once, before anything else can run in xiaoer.
        first.child.kill('SIGKILL');
        if (err) reject(err);
        else resolve();
      });
    });
    expect(await first.exited).toMatchObject({ signal: 'SIGKILL' });
    await gw.endAsync(true);

    const second = start();
    const { http, mqtt: port2 } = await second.started;
    const afterRestart = await ticketsAt(http);
    expect(afterRestart).toMatchObject([{ assetId: 'leak-b1-riser', fault: 'leak' }]);

    // The gateway, unsure, sends the same alert again: still one ticket.
    const again = await mqtt.connectAsync(`mqtt://127.0.0.1:${port2}`, {
      clientId: 'xincheng-gw-2',
      username: 'xincheng-gw',
      password: 'xincheng-demo',
      reconnectPeriod: 0,
    });
    // Its PUBACK means "recorded" (broker/embedded-broker.ts): the repeat has been through the
    // rules and the store by now, so no ticket can still be on its way.
    await again.publishAsync('xincheng/zigbee2mqtt/leak-b1-riser', payload, { qos: 1 });
    await again.endAsync();
    expect(await ingestStatsAt(http)).toMatchObject({ accepted: 1, deadLettered: {} });
    expect(await ticketsAt(http)).toHaveLength(1);
    second.child.kill('SIGTERM');
    expect(await second.exited).toMatchObject({ code: 0 });
  });
});
