import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/core/clock.ts';
import { EventBus } from '../../../src/core/event-bus.ts';
import type { Reading } from '../../../src/domain/types.ts';
import { type InfluxConfig, influxSchema } from '../../../src/telemetry/config.ts';
import { TelemetryWriter } from '../../../src/telemetry/influx-writer.ts';
import { reading, silentLog } from '../../helpers/domain.ts';
import { freePort } from '../../helpers/ports.ts';
import { waitFor } from '../../helpers/wait.ts';

const T0 = Date.UTC(2025, 0, 6, 8, 0, 0);
const sequence = (from: number, count: number): Reading[] =>
  Array.from({ length: count }, (_, i) => reading('pump-1', 'flow_lpm', from + i, T0 + from + i, 'north'));

/** The values of the points in a spool directory, in the order they would be sent. */
function spooledValues(dir: string): number[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => readFileSync(path.join(dir, name), 'utf8').split('\n').filter(Boolean))
    .map((line) => (JSON.parse(line) as { v: number }).v);
}

describe('TelemetryWriter (no real InfluxDB)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()?.();
  });

  function harness(settings: Partial<InfluxConfig>, givenDir?: string) {
    const dataDir = givenDir ?? mkdtempSync(path.join(tmpdir(), 'xiaoer-writer-'));
    if (!givenDir) cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const writer = new TelemetryWriter({
      config: influxSchema.parse(settings),
      dataDir,
      bus: new EventBus(),
      log: silentLog,
      clock: systemClock,
      assetKind: () => undefined,
    });
    cleanups.push(() => writer.stop());
    return { writer, dataDir, spoolDir: path.join(dataDir, 'telemetry-spool') };
  }

  /** A stand-in InfluxDB answering every write with 204; it notes how many points each carried. */
  async function fakeInflux(): Promise<{ url: string; writes: number[] }> {
    const writes: number[] = [];
    const server: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => {
        body += d.toString();
      });
      req.on('end', () => {
        if (req.url?.startsWith('/write')) {
          writes.push(body.split('\n').filter(Boolean).length);
          res.writeHead(204).end();
        } else res.writeHead(200, { 'content-type': 'application/json' }).end('{"results":[{}]}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, writes };
  }

  /**
   * A stand-in InfluxDB that holds every write until the test lets it through, so that the test,
   * not the speed of the machine, decides what arrives while a write is under way.
   */
  async function gatedInflux(): Promise<{ url: string; held: { values: number[]; release(): void }[] }> {
    const held: { values: number[]; release(): void }[] = [];
    const server: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => {
        body += d.toString();
      });
      req.on('end', () => {
        if (!req.url?.startsWith('/write'))
          return res.writeHead(200, { 'content-type': 'application/json' }).end('{"results":[{}]}');
        const values = [...body.matchAll(/ value=(\S+) /g)].map((m) => Number(m[1]));
        held.push({ values, release: () => res.writeHead(204).end() });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, held };
  }

  it('bounds the points held in memory, reports them as pending (queued appends too), drops the oldest', async () => {
    const deadUrl = `http://127.0.0.1:${await freePort()}`;
    const { writer, spoolDir } = harness({
      url: deadUrl,
      batchSize: 500,
      maxPendingPoints: 5000,
      flushIntervalMs: 60_000,
    });
    await writer.start();
    // One synchronous burst: nothing can reach InfluxDB or the disk before it ends, so everything
    // is in memory: batches waiting for a write and appends waiting for the disk.
    for (let i = 0; i < 20; i++) writer.write(sequence(i * 1000, 1000));
    const burst = writer.stats();
    // Past the bound it sheds down to 90% of it at once, so that shedding is cheap per reading.
    expect(burst.pendingPoints).toBeLessThanOrEqual(5000);
    expect(burst.pendingPoints).toBeGreaterThanOrEqual(4500);
    expect(burst).toMatchObject({ droppedPoints: 20_000 - burst.pendingPoints, spooledPoints: 0 });

    const kept = burst.pendingPoints;
    await waitFor(() => (writer.stats().pendingPoints === 0 ? true : undefined), { what: 'all on disk' });
    expect(writer.stats()).toMatchObject({
      spooledPoints: kept,
      droppedPoints: 20_000 - kept,
      writtenPoints: 0,
    });
    await writer.stop();
    // The survivors are the newest, in arrival order.
    expect(spooledValues(spoolDir)).toEqual(sequence(20_000 - kept, kept).map((r) => r.value));
  });

  it('while InfluxDB keeps up, batches skip the disk; a backlog goes out in 2 concurrent writes of up to 4 batches', async () => {
    const influx = await fakeInflux();
    const { writer, spoolDir } = harness({ url: influx.url, batchSize: 100, flushIntervalMs: 60_000 });
    await writer.start();
    // Three batches at once: behind, the sender sends them together, split over two requests.
    writer.write(sequence(0, 100));
    writer.write(sequence(100, 200));
    await waitFor(() => (writer.stats().writtenPoints === 300 ? true : undefined), { what: '300 written' });
    expect(influx.writes).toEqual([150, 150]);
    expect(readdirSync(spoolDir)).toEqual([]);

    influx.writes.length = 0;
    writer.write(sequence(300, 1000));
    await waitFor(() => (writer.stats().writtenPoints === 1300 ? true : undefined), { what: '1300 written' });
    // More than a round (2 × 4 batches) waiting goes to the spool, which is sent in such rounds.
    expect(influx.writes).toEqual([400, 400, 100, 100]);
    expect(writer.stats()).toMatchObject({ pendingPoints: 0, spooledPoints: 0, droppedPoints: 0 });
  });

  it('drains a spool backlog with input still coming: new batches wait in memory, not on disk, and go out after it in order', async () => {
    // A backlog of 1,000 points left on disk by a writer that could not reach InfluxDB.
    const down = harness({ url: `http://127.0.0.1:${await freePort()}`, batchSize: 100 });
    await down.writer.start();
    down.writer.write(sequence(0, 1000));
    await waitFor(() => (down.writer.stats().spooledPoints === 1000 ? true : undefined), { what: 'backlog' });
    await down.writer.stop();

    const influx = await gatedInflux();
    const { writer, spoolDir } = harness(
      { url: influx.url, batchSize: 100, flushIntervalMs: 60_000 },
      down.dataDir,
    );
    const heldWrites = (n: number) =>
      waitFor(() => (influx.held.length === n ? true : undefined), { what: `${n} writes at InfluxDB` });
    /** The values of the writes from `from` on, the two concurrent requests of a round in order. */
    const sent = (from: number) =>
      influx.held
        .slice(from)
        .map((w) => w.values)
        .sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0))
        .flat();
    const release = (from: number) => {
      for (const w of influx.held.slice(from)) w.release();
    };
    await writer.start();
    // The spool goes first, a round (2 requests of up to 4 batches) at a time.
    await heldWrites(2);
    writer.write(sequence(1000, 300));
    expect(writer.stats()).toMatchObject({ pendingPoints: 300 });
    release(0);
    // The rest of the spool; the 300 that came meanwhile are not in it: they waited in memory.
    await heldWrites(4);
    expect(sent(0)).toEqual(sequence(0, 1000).map((r) => r.value));
    writer.write(sequence(1300, 300));
    release(2);
    // The spool read to its end, the batches in memory go straight out, oldest first.
    await heldWrites(6);
    expect(sent(4)).toEqual(sequence(1000, 600).map((r) => r.value));
    expect(writer.stats()).toMatchObject({ spooledPoints: 0, pendingPoints: 600 });
    release(4);
    await waitFor(() => (writer.stats().writtenPoints === 1600 ? true : undefined), { what: '1600 written' });
    await writer.stop();
    expect(writer.stats()).toMatchObject({ pendingPoints: 0, spooledPoints: 0, droppedPoints: 0 });
    expect(readdirSync(spoolDir)).toEqual([]);
  });
});
