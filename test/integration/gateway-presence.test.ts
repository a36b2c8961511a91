import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../src/app.ts';
import { createLogger } from '../../src/core/logger.ts';
import { ManualScheduler } from '../helpers/manual-scheduler.ts';
import { type RunningMosquitto, startMosquitto } from '../helpers/mosquitto.ts';
import { testConfig } from '../helpers/test-app.ts';
import { waitFor } from '../helpers/wait.ts';

/*
 * With an external broker xiaoer sees no gateway connections: a site's gateway is watched through
 * what it announces. Here a Zigbee2MQTT bridge on a real Mosquitto, with its last will on
 * `<site>/zigbee2mqtt/bridge/state` as Zigbee2MQTT sets it, and time driven by the App's scheduler.
 */

const GRACE_MS = 60_000;
const STATE_TOPIC = 'xincheng/zigbee2mqtt/bridge/state';
const ONLINE = JSON.stringify({ state: 'online' });
const OFFLINE = JSON.stringify({ state: 'offline' });

describe('gateway outages from announcements on an external broker (Mosquitto)', () => {
  let broker: RunningMosquitto;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'xiaoer-presence-'));
  const scheduler = new ManualScheduler(Date.now());
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const startApp = async (): Promise<App> => {
    const config = testConfig(dataDir, (c) => {
      c.mqtt.url = broker.url;
      c.mqtt.clientId = 'xiaoer-presence-test';
      c.tickets.correlation.gatewayGraceSeconds = GRACE_MS / 1000;
    });
    const app = new App({ config, log: createLogger('silent'), scheduler });
    await app.start();
    return app;
  };

  /** Zigbee2MQTT connecting: its will is the retained offline, then it says online (retained). */
  const bridgeUp = async (): Promise<MqttClient> => {
    const bridge = await mqtt.connectAsync(broker.url, {
      clientId: 'xincheng-zigbee2mqtt',
      reconnectPeriod: 0,
      will: { topic: STATE_TOPIC, payload: Buffer.from(OFFLINE), qos: 1, retain: true },
    });
    await bridge.publishAsync(STATE_TOPIC, ONLINE, { qos: 1, retain: true });
    return bridge;
  };

  const gatewayState = async (app: App) => {
    const { gateways } = (await app.health()) as { gateways: { site: string; state: string }[] };
    return gateways.find((g) => g.site === 'xincheng')?.state;
  };
  const untilState = (app: App, state: string) =>
    waitFor(async () => ((await gatewayState(app)) === state ? true : undefined), {
      what: `xincheng gateway ${state}`,
    });
  const outages = async (app: App) =>
    (await app.store.listTickets({})).filter((t) => t.fault === 'gateway_offline');

  it('a bridge gone (its will published) beyond the grace period raises gateway_offline; its return clears it', async () => {
    const app = await startApp();
    try {
      expect(app.ports.mqtt).toBeUndefined();
      expect(await gatewayState(app)).toBe('not_commissioned');
      const bridge = await bridgeUp();
      await untilState(app, 'connected');

      // The gateway loses power: no DISCONNECT, so Mosquitto publishes the retained will.
      await bridge.endAsync(true);
      await untilState(app, 'offline');
      await scheduler.advance(GRACE_MS - 1000);
      expect(await outages(app)).toEqual([]);
      await scheduler.advance(1000);
      const outage = await waitFor(async () => (await outages(app))[0], { what: 'gateway_offline ticket' });
      expect(outage).toMatchObject({ site: 'xincheng', assetId: 'xincheng-gw', alarmActive: true });

      const back = await bridgeUp();
      await waitFor(async () => ((await outages(app))[0]?.alarmActive === false ? true : undefined), {
        what: 'gateway alarm cleared',
      });
      expect(await gatewayState(app)).toBe('connected');
      await back.endAsync();
    } finally {
      await app.stop();
    }
  });

  it('after a restart the retained online raises nothing, and a retained offline starts the grace period', async () => {
    // The bridge from the test before left its retained online behind (a clean disconnect: no will).
    let app = await startApp();
    try {
      expect(await gatewayState(app)).toBe('connected');
      await scheduler.advance(3 * GRACE_MS);
      expect((await outages(app)).map((t) => t.alarmActive)).toEqual([false]);
      await app.stop();

      // While xiaoer is down the bridge dies; its will stays retained on the broker.
      const bridge = await bridgeUp();
      await bridge.endAsync(true);
      app = await startApp();
      await untilState(app, 'offline');
      await scheduler.advance(GRACE_MS);
      await waitFor(
        async () => ((await outages(app)).filter((t) => t.alarmActive).length === 1 ? true : undefined),
        { what: 'a second gateway_offline ticket' },
      );
    } finally {
      await app.stop();
    }
  });
});
