import { afterEach, describe, expect, it } from 'vitest';
import { type BrokerHarness, startBroker } from '../helpers/broker.ts';

const ERROR = 50; // pino's level number for `error`

describe('embedded broker: the example demo passwords at start-up', () => {
  let h: BrokerHarness | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  const demoWarnings = (harness: BrokerHarness) =>
    harness.logs.filter((l) => l.level >= ERROR && /demo password/.test(l.msg));

  it('warns once per gateway still on `<site>-demo` when the broker listens beyond loopback', async () => {
    h = await startBroker({
      host: '0.0.0.0',
      configure: (c) => {
        const xincheng = c.sites.find((s) => s.id === 'xincheng');
        if (xincheng) xincheng.gateway.password = 'a-long-random-secret';
      },
    });
    const warnings = demoWarnings(h);
    expect(warnings.map((l) => [l.site, l.gateway, l.host])).toEqual([
      ['north', 'north-gw', '0.0.0.0'],
      ['east', 'east-gw', '0.0.0.0'],
    ]);
    expect(warnings[0]?.msg).toMatch(
      /north-gw .* anyone can publish as site north; set sites\[\]\.gateway\.password/,
    );
    // The password itself is not in the log.
    expect(JSON.stringify(h.logs)).not.toContain('north-demo');
  });

  it('stays quiet when the broker listens on loopback only', async () => {
    h = await startBroker({ host: '127.0.0.1' });
    expect(demoWarnings(h)).toEqual([]);
  });
});
