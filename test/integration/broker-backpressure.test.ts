import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.ts';
import { waitFor } from '../helpers/wait.ts';

/**
 * The embedded broker's backpressure over real TCP: a gateway above its rate ceiling is read more
 * slowly (TCP holds the rest on its side), and nothing it sent is lost.
 */
describe('embedded broker: per-gateway rate ceiling', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it('reads a gateway sending faster than its ceiling at about the ceiling, and records every message', async () => {
    const rate = 1000;
    t = await startTestApp({
      override: (c) => {
        c.mqtt.flow = { ...c.mqtt.flow, gatewayMessagesPerSecond: rate, gatewayBurst: 200 };
      },
    });
    const app = t.app;
    const gw = await t.gateway('xincheng');
    const total = 2500;
    const payload = JSON.stringify({ water_leak: false, battery: 97, voltage: 3005, linkquality: 120 });
    const started = performance.now();
    // Written as fast as the client can; QoS 1, so each is acknowledged once recorded.
    await Promise.all(
      Array.from({ length: total }, () =>
        gw.publishAsync('xincheng/zigbee2mqtt/leak-b1-riser', payload, { qos: 1 }),
      ),
    );
    const elapsedMs = performance.now() - started;
    const health = (await app.health()) as {
      ingest: { accepted: number };
      mqtt: { flow: { holds: { gateway_rate: number }; heldMs: { gateway_rate: number } } };
    };
    expect(health.ingest.accepted).toBe(total);
    expect(health.mqtt.flow.holds.gateway_rate).toBeGreaterThan(0);
    // 2,300 over the burst at 1,000 a second: at least ~2.3 s, less what one read (up to 64 KiB,
    // a few hundred of these messages) lets through before the bucket is charged for it.
    expect(elapsedMs).toBeGreaterThan(1500);
    expect(health.mqtt.flow.heldMs.gateway_rate).toBeGreaterThan(1000);
  });

  it('does not slow a gateway that stays under its ceiling', async () => {
    t = await startTestApp();
    const app = t.app;
    const gw = await t.gateway('north');
    await Promise.all(
      Array.from({ length: 500 }, () =>
        gw.publishAsync('north/zigbee2mqtt/leak-b1-riser', '{"water_leak":false}', { qos: 1 }),
      ),
    );
    const health = await waitFor(async () => {
      const h = (await app.health()) as {
        ingest: { accepted: number };
        mqtt: { flow: { holds: { gateway_rate: number }; inFlight: number } };
      };
      return h.ingest.accepted === 500 ? h : undefined;
    });
    expect(health.mqtt.flow.holds.gateway_rate).toBe(0);
    expect(health.mqtt.flow.inFlight).toBe(0);
  });
});
