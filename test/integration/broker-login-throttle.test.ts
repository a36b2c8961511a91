import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BrokerHarness, startBroker } from '../helpers/broker.ts';
import { tryConnect } from '../helpers/mqtt-wire.ts';

// All of 127.0.0.0/8 is loopback on Linux: each source address is another "host".
const GUESSER = '127.0.0.2';
const SPRAYER = '127.0.0.3';

describe('embedded broker: MQTT password guessing is throttled', () => {
  let h: BrokerHarness;
  beforeEach(async () => {
    h = await startBroker({
      limits: { loginThrottle: { freeFailures: 3, backoffMs: 60_000, addressFailures: 20 } },
    });
  });
  afterEach(async () => {
    await h.stop();
  });

  const attempt = async (username: string, password: string, from: string) => {
    const { returnCode, client } = await tryConnect(
      h.port,
      { username, password: Buffer.from(password), clientId: 'DVES_1A2B3C' },
      from,
    );
    client.socket.destroy();
    return returnCode;
  };

  it('refuses a guessing client without checking its passwords, while the real gateway still connects', async () => {
    const codes: (number | 'closed')[] = [];
    for (let i = 0; i < 30; i++) codes.push(await attempt('xincheng-gw', `guess-${i}`, GUESSER));
    // Three wrong passwords, then "server unavailable": the password is no longer even checked...
    expect(codes).toEqual([4, 4, 4, ...Array(27).fill(3)]);
    // ... so guessing it right changes nothing.
    expect(await attempt('xincheng-gw', 'xincheng-demo', GUESSER)).toBe(3);

    // The real gateway at its own address logs in and is heard.
    const gw = await h.connect({ clientId: 'xincheng-z2m' });
    await gw.publishAsync('xincheng/zigbee2mqtt/leak-b1-riser', '{"water_leak":false}', { qos: 1 });
    expect(h.recorded.map((m) => m.topic)).toEqual(['xincheng/zigbee2mqtt/leak-b1-riser']);
    expect(h.broker.refusals.logins).toBe(31);

    // 31 refusals, one log line (the rest are counted in the next one), with no password in it.
    const lines = h.logs.filter((l) => l.msg === 'MQTT login refused');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ address: GUESSER, login: 'xincheng-gw', reason: 'bad_credentials' });
    expect(JSON.stringify(h.logs)).not.toMatch(/guess-|xincheng-demo/);
  });

  it('shuts out an address that sprays many usernames, not the gateway elsewhere', async () => {
    for (let i = 0; i < 20; i++) expect(await attempt(`user-${i}`, 'password', SPRAYER)).toBe(4);
    expect(await attempt('xincheng-gw', 'xincheng-demo', SPRAYER)).toBe(3);
    expect((await h.connect({ clientId: 'xincheng-z2m' })).connected).toBe(true);
  });
});
