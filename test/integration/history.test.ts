import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.ts';
import { XiaoerError } from '../../src/core/errors.ts';
import { EventBus } from '../../src/core/event-bus.ts';
import type { Reading } from '../../src/domain/types.ts';
import { type InfluxConfig, influxSchema } from '../../src/telemetry/config.ts';
import {
  type HistoryAsset,
  type HistoryRequest,
  influxNotConfigured,
  readHistory,
} from '../../src/telemetry/history.ts';
import { TelemetryWriter } from '../../src/telemetry/influx-writer.ts';
import { reading, silentLog } from '../helpers/domain.ts';
import { type RunningInfluxd, startInfluxd } from '../helpers/influxdb.ts';
import { freePort } from '../helpers/ports.ts';
import { waitFor } from '../helpers/wait.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 23, 23, 0); // the window crosses a shard boundary (Monday 00:00 UTC)
const POINTS = 2500; // more than the 2,000 points InfluxDB sends per series and chunk
const TO = T0 + POINTS * MIN;

/** Ids that need escaping in InfluxQL (a quote, a backslash) and in line protocol (space, comma). */
const ahu = { site: 'north', id: 'ahu-1' };
const quoted = { site: 'north', id: "o'brien 2,b\\c" };
const south = { site: 'south', id: 'ahu-1' };
const leak = { site: 'north', id: 'leak-1' };
const lock = { site: 'north', id: 'lock-1' };

/** Per asset, what is written: temperatures every minute; a leak sensor and a lock with their types. */
function generated(): Map<HistoryAsset, Reading[]> {
  const temps = (a: HistoryAsset, offset: number) =>
    Array.from({ length: POINTS }, (_, i) =>
      reading(a.id, 'temperature_c', 20 + offset + (i % 17) / 4, T0 + i * MIN, a.site),
    );
  return new Map<HistoryAsset, Reading[]>([
    [ahu, temps(ahu, 0)],
    [quoted, temps(quoted, 1)],
    [south, temps(south, 2)],
    [
      leak,
      Array.from({ length: 40 }, (_, i) => [
        reading(leak.id, 'water_leak', i % 3 === 0, T0 + i * 10 * MIN, leak.site),
        reading(leak.id, 'battery_pct', 90 - i, T0 + i * 10 * MIN + 5000, leak.site),
      ]).flat(),
    ],
    [
      lock,
      Array.from({ length: 30 }, (_, i) =>
        reading(
          lock.id,
          'lock_state',
          i % 2 ? 'locked' : 'say "unlocked", \\o/',
          T0 + i * 7 * MIN,
          lock.site,
        ),
      ),
    ],
  ]);
}

// Every request goes to a real influxd; on a 2-core machine running another suite its answers can
// take seconds, so vitest's time-out (vitest.config.ts) is a safety net: each step waits on what
// it needs.
describe('telemetry history from a real InfluxDB 1.x', () => {
  let influxd: RunningInfluxd;
  let config: InfluxConfig;
  let dataDir: string;
  const written = generated();
  const total = [...written.values()].reduce((n, rs) => n + rs.length, 0);

  beforeAll(async () => {
    influxd = await startInfluxd();
    config = influxSchema.parse({
      url: influxd.url,
      database: 'history',
      batchSize: 1000,
      flushIntervalMs: 50,
    });
    dataDir = mkdtempSync(path.join(tmpdir(), 'xiaoer-history-'));
    const bus = new EventBus();
    // The real writer, so that what is read back is what xiaoer stores.
    const writer = new TelemetryWriter({
      config,
      dataDir,
      bus,
      log: silentLog,
      clock: systemClock,
      assetKind: () => 'hvac',
    });
    await writer.start();
    try {
      bus.emit('readings', [...written.values()].flat());
      await waitFor(() => (writer.stats().writtenPoints === total ? true : undefined), {
        what: `${total} points written`,
        timeoutMs: 60_000,
        intervalMs: 50,
      });
    } finally {
      await writer.stop();
    }
  }, 90_000);

  afterAll(async () => {
    await influxd?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function read(
    req: Partial<HistoryRequest> & Pick<HistoryRequest, 'assets' | 'metrics'>,
    cfg = config,
  ) {
    const got: [HistoryAsset, Reading[]][] = [];
    const result = await readHistory(cfg, { from: T0, to: TO, maxReadings: 100_000, ...req }, (asset, rs) => {
      got.push([asset, rs]);
    });
    return { result, got };
  }

  const expected = (a: HistoryAsset, metrics?: string[]) =>
    (written.get(a) ?? []).filter((r) => !metrics || metrics.includes(r.metric)).sort((x, y) => x.ts - y.ts);

  it('streams one metric per asset, every point in time order, for the assets asked for only', async () => {
    const { result, got } = await read({ assets: [ahu, quoted, south], metrics: ['temperature_c'] });
    expect(result).toEqual({ readings: 3 * POINTS, assets: 3 });
    expect(got.map(([a]) => a)).toHaveLength(3);
    for (const a of [ahu, quoted, south]) {
      const rs = got.find(([x]) => x === a)?.[1];
      expect(rs, `${a.site}/${a.id}`).toEqual(expected(a));
    }
  });

  it('keeps booleans and strings, and merges several metrics of an asset by time', async () => {
    const { result, got } = await read({
      assets: [leak, lock],
      metrics: ['water_leak', 'battery_pct', 'lock_state'],
    });
    expect(result).toEqual({ readings: 110, assets: 2 });
    expect(got).toEqual([
      [leak, expected(leak)],
      [lock, expected(lock)],
    ]);
    expect(got[1]?.[1][0]?.value).toBe('say "unlocked", \\o/');
    // Every measurement: any sign of life (no_data rules).
    const any = await read({ assets: [leak], metrics: 'any' });
    expect(any.got).toEqual([[leak, expected(leak)]]);
  });

  it('reads only the window: from included, to excluded', async () => {
    const { got } = await read({
      assets: [ahu],
      metrics: ['temperature_c'],
      from: T0 + MIN,
      to: T0 + 4 * MIN,
    });
    expect(got[0]?.[1].map((r) => r.ts)).toEqual([T0 + MIN, T0 + 2 * MIN, T0 + 3 * MIN]);
  });

  it('stops with history_too_large past maxReadings', async () => {
    const err = await read({
      assets: [ahu, south],
      metrics: ['temperature_c'],
      maxReadings: POINTS + 10,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'history_too_large', httpStatus: 422 });
    expect((err as Error).message).toMatch(
      /more than 2,510 readings \(2 assets over 1.7 days\): choose a shorter window or fewer assets/,
    );
  });

  it('names a database that does not exist', async () => {
    const err = await read(
      { assets: [ahu], metrics: ['temperature_c'] },
      { ...config, database: 'nope' },
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'influx_database_not_found' });
    expect((err as Error).message).toBe(
      `InfluxDB at ${influxd.url} has no database "nope" (influx.database in the config): ` +
        'no telemetry has been written there',
    );
  });

  it('says which server is unreachable, and when none is configured', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const err = await read({ assets: [ahu], metrics: ['temperature_c'] }, { ...config, url }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(XiaoerError);
    expect(err).toMatchObject({ code: 'influx_unreachable', httpStatus: 503 });
    expect((err as Error).message).toBe(
      `InfluxDB at ${url} is unreachable (ECONNREFUSED): telemetry history cannot be read`,
    );
    await expect(
      readHistory(undefined, { assets: [], metrics: 'any', from: 0, to: 1, maxReadings: 1 }, () => {}),
    ).rejects.toMatchObject({ code: 'influx_not_configured', message: influxNotConfigured().message });
  });

  it('gives up on a server that does not answer in time, and stops when the caller aborts', async () => {
    // Accepts the request and never answers: a hung server, not a dead one.
    const hung: Server = createServer(() => {});
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`;
      const slow = await read(
        { assets: [ahu], metrics: ['temperature_c'], timeoutMs: 200 },
        { ...config, url },
      ).catch((e: unknown) => e);
      expect(slow).toMatchObject({ code: 'influx_timeout', httpStatus: 504 });
      expect((slow as Error).message).toBe(
        `InfluxDB at ${url} did not finish sending the history within 0.2 s`,
      );

      const controller = new AbortController();
      const pending = read(
        { assets: [ahu], metrics: ['temperature_c'], signal: controller.signal },
        { ...config, url },
      );
      controller.abort();
      await expect(pending).rejects.toMatchObject({ code: 'history_aborted' });
    } finally {
      hung.closeAllConnections();
      await new Promise((resolve) => hung.close(resolve));
    }
  });
});
