import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BrokerHarness, type LogLine, startBroker, whenClosed } from '../helpers/broker.ts';
import { tryConnect } from '../helpers/mqtt-wire.ts';
import { waitFor } from '../helpers/wait.ts';

const login = { username: 'xincheng-gw', password: Buffer.from('xincheng-demo') };

/** No logged field carries more than a clipped value (64 characters and a length note). */
const longestField = (line: LogLine) =>
  Math.max(...Object.values(line).map((v) => (typeof v === 'string' ? v.length : 0)));

describe('embedded broker: bounded identifiers', () => {
  let h: BrokerHarness;
  beforeEach(async () => {
    h = await startBroker();
  });
  afterEach(async () => {
    await h.stop();
  });

  it('refuses an over-long client id with "identifier rejected", logging only its start', async () => {
    const long = `DVES_${'7'.repeat(10_000)}`;
    const refused = await tryConnect(h.port, { ...login, clientId: long });
    expect(refused.returnCode).toBe(2);
    await refused.client.closed;
    const line = h.logs.find((l) => l.msg === 'MQTT login refused');
    expect(line).toMatchObject({ reason: 'client_id_too_long', address: '127.0.0.1' });
    expect(line?.clientId).toBe(`${long.slice(0, 64)}…(10005 chars)`);
    expect(longestField(line as LogLine)).toBeLessThan(100);

    // The limit is in bytes (UTF-8): 86 CJK characters are 258 bytes.
    expect((await tryConnect(h.port, { ...login, clientId: '水'.repeat(86) })).returnCode).toBe(2);
    const atLimit = await tryConnect(h.port, { ...login, clientId: 'x'.repeat(256) });
    expect(atLimit.returnCode).toBe(0);
    atLimit.client.socket.destroy();
  });

  it('refuses an over-long username as a bad login, logging only its start', async () => {
    const refused = await tryConnect(h.port, { ...login, username: 'u'.repeat(10_000), clientId: 'gw' });
    expect(refused.returnCode).toBe(4);
    await refused.client.closed;
    const line = h.logs.find((l) => l.msg === 'MQTT login refused');
    expect(line).toMatchObject({ reason: 'username_too_long', login: `${'u'.repeat(64)}…(10000 chars)` });
    expect(longestField(line as LogLine)).toBeLessThan(100);
  });

  it('refuses a publish on an over-long topic without an ack, closes the connection, logs it cut', async () => {
    const gw = await h.connect({ clientId: 'DVES_1A2B3C' });
    const closed = whenClosed(gw);
    const topic = `xincheng/tele/${'t'.repeat(600)}/SENSOR`;
    let acked = false;
    gw.publishAsync(topic, '{"Time":"2024-05-01T10:00:00"}', { qos: 1 }).then(
      () => {
        acked = true;
      },
      () => {},
    );
    await closed;
    expect(acked).toBe(false);
    expect(h.recorded).toEqual([]);
    const line = await waitFor(() => h.logs.find((l) => l.msg === 'publish refused'), {
      what: 'the log line',
    });
    expect(line).toMatchObject({ reason: 'topic_too_long', clientId: 'DVES_1A2B3C', login: 'xincheng-gw' });
    expect(line.topic).toBe(`${topic.slice(0, 64)}…(${topic.length} chars)`);

    // 512 bytes is still fine.
    const again = await h.connect({ clientId: 'DVES_1A2B3C' });
    const fits = `xincheng/tele/${'t'.repeat(512 - 'xincheng/tele//SENSOR'.length)}/SENSOR`;
    expect(Buffer.byteLength(fits)).toBe(512);
    await again.publishAsync(fits, '{}', { qos: 1 });
    expect(h.recorded.map((m) => m.topic)).toEqual([fits]);
  });

  it('refuses a subscription to an over-long filter', async () => {
    const gw = await h.connect();
    await expect(gw.subscribeAsync(`xincheng/${'f'.repeat(600)}/#`, { qos: 1 })).rejects.toThrow(
      /Subscribe error/,
    );
    expect(h.logs.find((l) => l.msg === 'subscription refused')).toMatchObject({ reason: 'topic_too_long' });
  });
});
