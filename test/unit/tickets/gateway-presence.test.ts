/**
 * GatewayWatch driven by gateways' announcements (bus `gatewayPresence`: a Zigbee2MQTT bridge
 * state, a Tasmota last will, a Sparkplug birth or death), as with an external broker, and how
 * announcements combine with the embedded broker's connections.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { adapters } from '../../../adapters/index.ts';
import type { EventBus } from '../../../src/core/event-bus.ts';
import type { Ticket } from '../../../src/domain/types.ts';
import type { AlarmPipeline } from '../../../src/ingest/alarm-pipeline.ts';
import { Ingest } from '../../../src/ingest/ingest.ts';
import { GatewayWatch } from '../../../src/tickets/gateway-watch.ts';
import { silentLog, ticketHarness } from '../../helpers/domain.ts';
import { ManualScheduler } from '../../helpers/manual-scheduler.ts';

const T0 = Date.parse('2026-11-26T09:00:00Z');
const SEC = 1000;
const GRACE = 60 * SEC;

type Harness = Awaited<ReturnType<typeof ticketHarness>>;

describe('GatewayWatch and gateway announcements', () => {
  let scheduler: ManualScheduler;
  let h: Harness;
  const watches: GatewayWatch[] = [];
  afterEach(async () => {
    for (const w of watches.splice(0)) await w.stop();
    await h.store.close();
  });

  async function setUp(): Promise<void> {
    scheduler = new ManualScheduler(T0);
    h = await ticketHarness(':memory:', scheduler);
  }

  async function watch(opts: { brokerConnections?: boolean } = {}): Promise<GatewayWatch> {
    const w = new GatewayWatch({
      ...h,
      log: silentLog,
      graceSeconds: GRACE / SEC,
      brokerConnections: opts.brokerConnections ?? false,
    });
    watches.push(w);
    await w.start();
    return w;
  }

  /** What an adapter's announcement becomes on the bus (Ingest.record). */
  const announce = (bus: EventBus, site: string, gateway: string, online: boolean) =>
    bus.emit('gatewayPresence', { site, gateway, online, at: scheduler.now() });

  const outages = async (): Promise<Ticket[]> =>
    (await h.store.listTickets({})).filter((t) => t.fault === 'gateway_offline');
  const stateOf = (w: GatewayWatch, site: string) => w.statuses().find((g) => g.site === site)?.state;

  it('commissions the gateway on its first online, raises the outage after the grace period, clears it on return', async () => {
    await setUp();
    const commissioned: string[] = [];
    h.bus.on('gatewayCommissioned', (site) => commissioned.push(site));
    const w = await watch();
    expect(stateOf(w, 'xincheng')).toBe('not_commissioned');

    announce(h.bus, 'xincheng', 'zigbee2mqtt', true);
    await scheduler.advance(0);
    expect(commissioned).toEqual(['xincheng']);
    expect(stateOf(w, 'xincheng')).toBe('connected');
    expect(w.isCommissioned('xincheng')).toBe(true);
    expect(await h.store.listGateways()).toEqual([
      { site: 'xincheng', username: 'xincheng-gw', firstConnectedAt: T0, lastConnectedAt: T0 },
    ]);

    await scheduler.advance(10 * SEC);
    const lostAt = scheduler.now();
    announce(h.bus, 'xincheng', 'zigbee2mqtt', false);
    await scheduler.advance(GRACE - 1);
    expect(await outages()).toEqual([]);
    expect(stateOf(w, 'xincheng')).toBe('offline');
    await scheduler.advance(1);
    const [outage] = await outages();
    expect(outage).toMatchObject({
      site: 'xincheng',
      assetId: 'xincheng-gw',
      meaning: 'outage',
      alarmActive: true,
      detectedAt: lostAt,
    });

    announce(h.bus, 'xincheng', 'zigbee2mqtt', true);
    await scheduler.advance(0);
    expect((await outages())[0]).toMatchObject({ id: outage?.id, alarmActive: false });
    expect(commissioned).toEqual(['xincheng']);
  });

  it('a bridge back within the grace period is no outage', async () => {
    await setUp();
    const w = await watch();
    announce(h.bus, 'north', 'zigbee2mqtt', true);
    announce(h.bus, 'north', 'zigbee2mqtt', false);
    await scheduler.advance(GRACE / 2);
    announce(h.bus, 'north', 'zigbee2mqtt', true);
    await scheduler.advance(3 * GRACE);
    expect(await outages()).toEqual([]);
    expect(stateOf(w, 'north')).toBe('connected');
  });

  it("counts only the announcer the site's config names", async () => {
    await setUp();
    const east = h.config.sites.find((s) => s.id === 'east');
    if (!east) throw new Error('example config without east');
    east.gateway.presence = 'tasmota:zb-bridge';
    const w = await watch();
    // Another Tasmota device's last will, the Zigbee2MQTT bridge (not east's gateway here), and
    // an unknown site change nothing.
    announce(h.bus, 'east', 'tasmota:pump-b1-circ', true);
    announce(h.bus, 'east', 'zigbee2mqtt', true);
    announce(h.bus, 'nowhere', 'zigbee2mqtt', true);
    await scheduler.advance(0);
    expect(stateOf(w, 'east')).toBe('not_commissioned');

    announce(h.bus, 'east', 'tasmota:zb-bridge', true);
    announce(h.bus, 'east', 'tasmota:pump-b1-circ', false);
    await scheduler.advance(0);
    expect(stateOf(w, 'east')).toBe('connected');
    announce(h.bus, 'east', 'tasmota:zb-bridge', false);
    await scheduler.advance(GRACE);
    expect((await outages()).map((t) => t.assetId)).toEqual(['east-gw']);
  });

  it('an offline from a gateway never seen up is not an outage (not commissioned)', async () => {
    await setUp();
    const w = await watch();
    announce(h.bus, 'north', 'zigbee2mqtt', false);
    await scheduler.advance(3 * GRACE);
    expect(await outages()).toEqual([]);
    expect(stateOf(w, 'north')).toBe('not_commissioned');
    expect(await h.store.listGateways()).toEqual([]);
  });

  it('after a restart, the retained online is no news and the retained offline starts the grace period', async () => {
    await setUp();
    const first = await watch();
    announce(h.bus, 'xincheng', 'zigbee2mqtt', true);
    announce(h.bus, 'north', 'zigbee2mqtt', true);
    await scheduler.advance(0);
    await first.stop();
    const recorded = await h.store.listGateways();

    await scheduler.advance(10 * 60 * SEC);
    const again = await watch();
    // Recorded up, and nothing said otherwise yet: still up, nothing pending.
    expect(stateOf(again, 'xincheng')).toBe('connected');
    expect(scheduler.pending).toBe(0);
    // Right after subscribing, the broker hands over the retained states.
    announce(h.bus, 'xincheng', 'zigbee2mqtt', true);
    announce(h.bus, 'north', 'zigbee2mqtt', false);
    await scheduler.advance(0);
    // The online wrote nothing (no new lastConnectedAt): it changed nothing.
    const xincheng = (await h.store.listGateways()).find((g) => g.site === 'xincheng');
    expect(xincheng).toEqual(recorded.find((g) => g.site === 'xincheng'));
    await scheduler.advance(GRACE);
    expect((await outages()).map((t) => t.assetId)).toEqual(['north-gw']);
  });

  it('a gateway recorded down when xiaoer stopped has the grace period at start', async () => {
    await setUp();
    const first = await watch();
    announce(h.bus, 'xincheng', 'zigbee2mqtt', true);
    await scheduler.advance(SEC);
    announce(h.bus, 'xincheng', 'zigbee2mqtt', false);
    await scheduler.advance(SEC);
    await first.stop();

    const again = await watch();
    expect(stateOf(again, 'xincheng')).toBe('offline');
    // Its retained offline again is the same absence, not a new one.
    announce(h.bus, 'xincheng', 'zigbee2mqtt', false);
    await scheduler.advance(GRACE);
    expect((await outages()).map((t) => t.assetId)).toEqual(['xincheng-gw']);
    // The open outage is still down at the next start, until the bridge is back.
    await again.stop();
    const third = await watch();
    await scheduler.advance(3 * GRACE);
    expect(await outages()).toHaveLength(1);
    announce(h.bus, 'xincheng', 'zigbee2mqtt', true);
    await scheduler.advance(0);
    expect((await outages())[0]?.alarmActive).toBe(false);
    expect(stateOf(third, 'xincheng')).toBe('connected');
  });

  it('with an external broker, a site whose gateway announces nothing (`presence: none`) is not watched', async () => {
    await setUp();
    const north = h.config.sites.find((s) => s.id === 'north');
    if (!north) throw new Error('example config without north');
    north.gateway.presence = 'none';
    const w = await watch();
    expect(w.statuses().map((g) => g.site)).toEqual(['xincheng', 'east']);
    const embedded = await watch({ brokerConnections: true });
    expect(embedded.statuses().map((g) => g.site)).toEqual(['xincheng', 'north', 'east']);
  });

  describe('on the embedded broker, the connection decides', () => {
    it('an online announced over the connection does not keep the gateway up once it is gone', async () => {
      await setUp();
      const w = await watch({ brokerConnections: true });
      w.connected('xincheng', 'xincheng-gw');
      announce(h.bus, 'xincheng', 'zigbee2mqtt', true);
      await scheduler.advance(SEC);
      const lostAt = scheduler.now();
      w.disconnected('xincheng', 'xincheng-gw');
      // Down with the connection, whether or not its will (below) ever gets through.
      expect(stateOf(w, 'xincheng')).toBe('offline');
      await scheduler.advance(SEC);
      // The broker publishes the bridge's will after the connection dropped: the same loss.
      announce(h.bus, 'xincheng', 'zigbee2mqtt', false);
      await scheduler.advance(GRACE - SEC);
      const [outage] = await outages();
      expect(outage).toMatchObject({ assetId: 'xincheng-gw', detectedAt: lostAt, alarmActive: true });
      w.connected('xincheng', 'xincheng-gw');
      await scheduler.advance(0);
      expect((await outages())[0]?.alarmActive).toBe(false);
    });

    it('an offline announced while the gateway is connected changes nothing', async () => {
      await setUp();
      const w = await watch({ brokerConnections: true });
      w.connected('north', 'north-gw');
      announce(h.bus, 'north', 'zigbee2mqtt', false);
      await scheduler.advance(3 * GRACE);
      expect(await outages()).toEqual([]);
      expect(stateOf(w, 'north')).toBe('connected');
    });
  });
});

describe('Ingest passes an announcement on', () => {
  it('puts a bridge state on the bus as gatewayPresence, with the site and the receipt time', async () => {
    const scheduler = new ManualScheduler(T0);
    const h = await ticketHarness(':memory:', scheduler);
    const heard: unknown[] = [];
    h.bus.on('gatewayPresence', (p) => heard.push(p));
    const recorded: unknown[] = [];
    const pipeline = {
      record: async (n: unknown) => {
        recorded.push(n);
      },
      start() {},
      stop: async () => {},
      stats: { unconfirmedReadings: 0, silenced: 0, alarms: 0, evaluations: 0 },
    } as unknown as AlarmPipeline;
    const ingest = new Ingest(adapters, {
      pipeline,
      store: h.store,
      bus: h.bus,
      scheduler,
      log: silentLog,
      limits: { maxPayloadBytes: 256 * 1024, maxDeviceIdLength: 128, maxJsonDepth: 32 },
      isSite: (site) => h.directory.site(site) !== undefined,
    });
    const payload = (text: string) => new TextEncoder().encode(text);
    await ingest.accept({
      topic: 'north/zigbee2mqtt/bridge/state',
      payload: payload('{"state":"offline"}'),
      qos: 1,
    });
    await ingest.accept({
      topic: 'north/zigbee2mqtt/bridge/info',
      payload: payload('{"version":"2.1.0"}'),
      qos: 1,
    });
    await ingest.accept({ topic: 'east/tele/zb-bridge/LWT', payload: payload('Online'), qos: 1 });
    expect(heard).toEqual([
      { site: 'north', gateway: 'zigbee2mqtt', online: false, at: T0 },
      { site: 'east', gateway: 'tasmota:zb-bridge', online: true, at: T0 },
    ]);
    // bridge/info stays unrouted: no dead letter, nothing recorded.
    expect(ingest.stats).toMatchObject({ received: 3, unrouted: 1, accepted: 2, deadLettered: {} });
    expect(await h.store.countDeadLetters()).toBe(0);
    await h.store.close();
  });
});
