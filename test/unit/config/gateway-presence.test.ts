import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/load.ts';
import { ConfigError } from '../../../src/core/errors.ts';

const withPresence = (presence: string) => `
categories: { plumbing: { name: Plumbing } }
sites:
  - id: xincheng
    name: Xincheng
    gateway: { username: xincheng-gw, password: pw, presence: ${JSON.stringify(presence)} }
`;

function issuesOf(text: string): string[] {
  try {
    parseConfigText(text, 'test.yaml', {});
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('sites[].gateway.presence', () => {
  it.each(['zigbee2mqtt', 'none', 'tasmota:zb-bridge', 'sparkplug:water.pumproom-gw'])(
    'accepts %s',
    (presence) => {
      const config = parseConfigText(withPresence(presence), 'test.yaml', {});
      expect(config.sites[0]?.gateway.presence).toBe(presence);
    },
  );

  it('is optional (the Zigbee2MQTT bridge by default)', () => {
    const config = parseConfigText(
      withPresence('zigbee2mqtt').replace(/, presence: "[^"]*"/, ''),
      'test.yaml',
      {},
    );
    expect(config.sites[0]?.gateway).toEqual({ username: 'xincheng-gw', password: 'pw' });
  });

  it.each([
    'tasmota',
    'tasmota:',
    'sparkplug:pumproom-gw',
    'shelly:pump-1',
    'tasmota:tele/zb-bridge',
    'zigbee2mqtt/bridge',
  ])('refuses %s, naming the field and the forms it takes', (presence) => {
    expect(issuesOf(withPresence(presence))).toEqual([
      expect.stringMatching(
        /^sites\[0\]\.gateway\.presence: expected "zigbee2mqtt", "tasmota:<device topic>", "sparkplug:<group>\.<edge node>" or "none" \(site "xincheng"\)$/,
      ),
    ]);
  });
});
