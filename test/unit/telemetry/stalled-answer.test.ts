import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/core/clock.ts';
import { EventBus } from '../../../src/core/event-bus.ts';
import { influxSchema } from '../../../src/telemetry/config.ts';
import { TelemetryWriter } from '../../../src/telemetry/influx-writer.ts';
import { reading, silentLog } from '../../helpers/domain.ts';
import { waitFor } from '../../helpers/wait.ts';

describe('telemetry writer against a server that stalls mid-answer', () => {
  let server: Server | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('fails a CREATE DATABASE whose answer stops after its headers: the batch is spooled and stop() returns', async () => {
    // As influxd does when it is stopped mid-answer: headers out, the body never comes.
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    dir = mkdtempSync(path.join(tmpdir(), 'xiaoer-stall-'));
    const bus = new EventBus();
    const writer = new TelemetryWriter({
      config: influxSchema.parse({
        url: `http://127.0.0.1:${port}`,
        requestTimeoutMs: 300,
        flushIntervalMs: 50,
      }),
      dataDir: dir,
      bus,
      log: silentLog,
      clock: systemClock,
      assetKind: () => undefined,
    });
    await writer.start();
    bus.emit('readings', [reading('p', 'flow_lpm', 1, Date.now(), 'north')]);
    const stats = await waitFor(
      () => {
        const s = writer.stats();
        return s.lastError && s.spooledPoints === 1 ? s : undefined;
      },
      { what: 'the stalled request to count as failed and its point to be spooled' },
    );
    expect(stats.lastError).toContain('CREATE DATABASE got no complete answer within 300 ms');
    await writer.stop();
  });
});
