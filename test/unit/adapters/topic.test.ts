import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type Adapter, defineAdapter } from '../../../adapters/define.ts';
import { adapters } from '../../../adapters/index.ts';
import { compileTopic } from '../../../adapters/topic.ts';
import { TopicRouter } from '../../../src/ingest/router.ts';

const STATE = '{site}/zigbee2mqtt/{device}';
const AVAILABILITY = '{site}/zigbee2mqtt/{device}/availability';

describe('compileTopic', () => {
  it('returns the named captures and keeps the source', () => {
    const pattern = compileTopic(AVAILABILITY);
    expect(pattern.source).toBe(AVAILABILITY);
    expect(pattern.match('xincheng/zigbee2mqtt/lock-3f-east/availability')).toEqual({
      site: 'xincheng',
      device: 'lock-3f-east',
    });
  });

  it('matches a pattern without captures literally, with no params', () => {
    expect(compileTopic('bridge/state').match('bridge/state')).toEqual({});
    expect(compileTopic('bridge/state').match('bridge/status')).toBeUndefined();
  });

  it('needs exactly as many levels as the pattern has', () => {
    const pattern = compileTopic(STATE);
    expect(pattern.match('xincheng/zigbee2mqtt')).toBeUndefined();
    expect(pattern.match('xincheng/zigbee2mqtt/leak-b1-riser/availability')).toBeUndefined();
    // A trailing slash adds an empty level (MQTT 3.1.1 §4.7.1.1: adjacent separators make a zero-length level).
    expect(pattern.match('xincheng/zigbee2mqtt/leak-b1-riser/')).toBeUndefined();
  });

  it('captures exactly one level, like `+`: a friendly name with a slash does not match', () => {
    expect(compileTopic(STATE).match('xincheng/zigbee2mqtt/b1/leak')).toBeUndefined();
  });

  it('rejects an empty level where a capture is expected', () => {
    const pattern = compileTopic(STATE);
    expect(pattern.match('/zigbee2mqtt/leak-b1-riser')).toBeUndefined();
    expect(pattern.match('xincheng/zigbee2mqtt/')).toBeUndefined();
    expect(compileTopic(AVAILABILITY).match('xincheng/zigbee2mqtt//availability')).toBeUndefined();
  });

  it('compares literal levels exactly, case included (topics are case-sensitive, MQTT 3.1.1 §4.7.3)', () => {
    const pattern = compileTopic(STATE);
    expect(pattern.match('xincheng/tasmota/leak-b1-riser')).toBeUndefined();
    expect(pattern.match('xincheng/Zigbee2MQTT/leak-b1-riser')).toBeUndefined();
  });

  it('turns every capture into a `+` in the subscription filter', () => {
    expect(compileTopic(STATE).filter).toBe('+/zigbee2mqtt/+');
    expect(compileTopic(AVAILABILITY).filter).toBe('+/zigbee2mqtt/+/availability');
    expect(compileTopic('gw/{site}/opcua/{device}/value').filter).toBe('gw/+/opcua/+/value');
    expect(compileTopic('bridge/state').filter).toBe('bridge/state');
  });

  it.each([
    ['{site}/zigbee2mqtt/#'],
    ['+/zigbee2mqtt/{device}'],
    ['{site}/zigbee2mqtt/{device}+'],
    ['{site}/zigbee2mqtt/dev{device}'],
    ['{site}/zigbee2mqtt/{}'],
    ['{site}/zigbee2mqtt/{Device}'],
    ['{site}/zigbee2mqtt/{1device}'],
    ['{site}/zigbee2mqtt/{device-id}'],
    ['{site}/zigbee2mqtt/{device'],
    ['{device}/zigbee2mqtt/{device}'],
  ])('throws on the bad pattern %s', (source) => {
    expect(() => compileTopic(source)).toThrow(source);
  });
});

function stubAdapter(id: string, routes: { topic: string; ignoreDevices?: string[] }[]): Adapter {
  return defineAdapter({
    id,
    description: `${id} (test stub)`,
    metrics: [],
    routes: routes.map((r) => ({
      ...r,
      payload: 'json' as const,
      schema: z.unknown(),
      toReadings: () => ({ readings: [], events: [] }),
    })),
  });
}

describe('TopicRouter', () => {
  const router = new TopicRouter(adapters);

  it('routes device state and availability to their Zigbee2MQTT routes', () => {
    const state = router.match('north/zigbee2mqtt/leak-b1-riser');
    expect(state).toMatchObject({ site: 'north', deviceId: 'leak-b1-riser' });
    expect(state?.route.adapterId).toBe('zigbee2mqtt');
    expect(state?.route.pattern.source).toBe(STATE);

    const availability = router.match('east/zigbee2mqtt/hvac-2f-office/availability');
    expect(availability).toMatchObject({ site: 'east', deviceId: 'hvac-2f-office' });
    expect(availability?.route.pattern.source).toBe(AVAILABILITY);
  });

  it('routes the bridge state (the site gateway announcing itself) to its own Zigbee2MQTT route', () => {
    const state = router.match('north/zigbee2mqtt/bridge/state');
    expect(state).toMatchObject({ site: 'north', deviceId: 'bridge' });
    expect(state?.route.adapterId).toBe('zigbee2mqtt');
    expect(state?.route.pattern.source).toBe('{site}/zigbee2mqtt/bridge/state');
  });

  it.each([
    'xincheng/zigbee2mqtt/bridge',
    'xincheng/zigbee2mqtt/bridge/info',
    'xincheng/zigbee2mqtt/bridge/devices',
    'xincheng/zigbee2mqtt/bridge/logging',
    'xincheng/zigbee2mqtt/bridge/event',
    'xincheng/zigbee2mqtt/bridge/config',
    'xincheng/zigbee2mqtt/bridge/groups',
    'xincheng/zigbee2mqtt/bridge/definitions',
    'xincheng/zigbee2mqtt/bridge/extensions',
    'xincheng/zigbee2mqtt/bridge/request/device/remove',
    'xincheng/zigbee2mqtt/bridge/response/device/remove',
  ])('leaves the Zigbee2MQTT bridge topic %s alone', (topic) => {
    expect(router.match(topic)).toBeUndefined();
  });

  it.each([
    'xincheng/zigbee2mqtt/lock-3f-east/set',
    'xincheng/zigbee2mqtt/lock-3f-east/get',
    'xincheng/zigbee2mqtt/lock-3f-east/set/state',
    'xincheng/zigbee2mqtt/hvac-2f-office/set/current_heating_setpoint',
  ])('does not claim the command or legacy sub-topic %s', (topic) => {
    expect(router.match(topic)).toBeUndefined();
  });

  it('does not claim topics outside the site prefix layout', () => {
    expect(router.match('zigbee2mqtt/leak-b1-riser')).toBeUndefined();
    expect(router.match('xincheng/tasmota/leak-b1-riser')).toBeUndefined();
    expect(router.match('$SYS/broker/uptime')).toBeUndefined();
  });

  it('lists one subscription filter per distinct route pattern', () => {
    expect(router.filters()).toEqual(
      expect.arrayContaining(['+/zigbee2mqtt/+', '+/zigbee2mqtt/+/availability']),
    );
    expect(new Set(router.filters()).size).toBe(router.filters().length);
    const twice = new TopicRouter([
      stubAdapter('a', [{ topic: STATE }]),
      stubAdapter('b', [{ topic: STATE }, { topic: '{site}/tasmota/{device}' }]),
    ]);
    expect(twice.filters()).toEqual(['+/zigbee2mqtt/+', '+/tasmota/+']);
    expect(new TopicRouter([]).filters()).toEqual([]);
  });

  it('gives a topic to the first adapter in registry order that claims it', () => {
    const first = stubAdapter('first', [{ topic: STATE, ignoreDevices: ['bridge'] }]);
    const second = stubAdapter('second', [{ topic: STATE }]);
    const ordered = new TopicRouter([first, second]);
    expect(ordered.match('north/zigbee2mqtt/leak-b1-riser')?.route.adapterId).toBe('first');
    // An ignored device is not claimed by that route, so a later route may still take it.
    expect(ordered.match('north/zigbee2mqtt/bridge')?.route.adapterId).toBe('second');
  });

  it('routes nothing without adapters', () => {
    expect(new TopicRouter([]).match('north/zigbee2mqtt/leak-b1-riser')).toBeUndefined();
  });
});
