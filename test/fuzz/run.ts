import { describeFaults, watchProcessFaults } from '../helpers/process-faults.ts';
import { startTestApp, type TestApp } from '../helpers/test-app.ts';
import { waitFor } from '../helpers/wait.ts';
import { type CampaignTally, runCampaign } from './campaign.ts';
import { SENTINEL } from './topics.ts';

/**
 * One fuzz run against a real xiaoer App in this process (embedded broker on an ephemeral port,
 * SQLite in a temporary directory): the campaign, then whether the App survived it and still
 * does its job. Shared by test/integration/fuzz-mqtt.test.ts and `npm run soak`.
 */
export interface FuzzRunOptions {
  seed: number;
  frames: number;
  /** Connections open at once (default 32; the per-address cap of 256 is never near). */
  concurrency?: number;
  /** How long the broker may leave a connection unanswered before it counts as hung. */
  hangMs?: number;
  /** A progress line now and then (the soak prints them). */
  onProgress?(line: string): void;
}

export interface FuzzReport {
  seed: number;
  seconds: number;
  campaign: CampaignTally;
  /** Uncaught exceptions and unhandled rejections in this process during the run. */
  crashes: number;
  crashDetail: string;
  /** `GET /api/health` answered 200 `{status: "ok"}` after the campaign. */
  healthy: boolean;
  deadLetters: { total: number; byReason: Record<string, number> };
  ingest: { received: number; accepted: number };
  refused: { connections: number; logins: number };
  rssMb: { before: number; peak: number; after: number };
  /** V8 heap in use: RSS keeps pages the allocator does not return, the heap shows what is held. */
  heapMb: { before: number; after: number };
  gc: boolean;
  /** A ticket on the sentinel asset before the check: then the check would prove nothing. */
  sentinelTicketBefore: boolean;
  leakTicket: boolean;
  leakError?: string;
}

const MB = 1024 * 1024;

interface HealthBody {
  status?: string;
  ingest?: { received: number; accepted: number; deadLettered: Record<string, number> };
  mqtt?: { refused?: { connections: number; logins: number } };
}

/** RSS and heap after a full collection when `--expose-gc` made one available. */
function memoryMb(): { rss: number; heap: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss / MB, heap: m.heapUsed / MB };
}

export async function fuzzTheApp(opts: FuzzRunOptions): Promise<FuzzReport> {
  const faults = watchProcessFaults();
  const started = performance.now();
  let t: TestApp | undefined;
  try {
    t = await startTestApp();
    const app = t;
    const admin = await app.adminToken();
    const port = app.app.ports.mqtt;
    if (port === undefined) throw new Error('the test App has no embedded broker');
    const before = memoryMb();
    let peak = before.rss;
    let lastLine = started;
    const campaign = await runCampaign({
      port,
      seed: opts.seed,
      frames: opts.frames,
      concurrency: opts.concurrency ?? 32,
      hangMs: opts.hangMs ?? 20_000,
      progressEveryMs: 1000,
      onProgress: (tally) => {
        peak = Math.max(peak, process.memoryUsage().rss / MB);
        const now = performance.now();
        if (now - lastLine < 5000) return;
        lastLine = now;
        const s = (now - started) / 1000;
        opts.onProgress?.(
          `${tally.frames}/${opts.frames} frames, ${tally.connections} connections, ${Math.round(tally.frames / s)} frames/s, RSS ${peak.toFixed(0)} MB peak`,
        );
      },
    });
    const health = await app.request<HealthBody>('GET', '/api/health', { token: admin });
    const stored = await app.request<{ total: number }>('GET', '/api/dead-letters?limit=1', { token: admin });
    const sentinelTicketBefore = (await sentinelTickets(app, admin)) > 0;
    const leak = await leakBecomesTicket(app, admin);
    const after = memoryMb();
    return {
      seed: opts.seed,
      seconds: (performance.now() - started) / 1000,
      campaign,
      crashes: faults.count,
      crashDetail: describeFaults(faults),
      healthy: health.status === 200 && health.body.status === 'ok',
      deadLetters: { total: stored.body.total, byReason: health.body.ingest?.deadLettered ?? {} },
      ingest: { received: health.body.ingest?.received ?? 0, accepted: health.body.ingest?.accepted ?? 0 },
      refused: health.body.mqtt?.refused ?? { connections: 0, logins: 0 },
      rssMb: { before: before.rss, peak: Math.max(peak, after.rss), after: after.rss },
      heapMb: { before: before.heap, after: after.heap },
      gc: typeof (globalThis as { gc?: unknown }).gc === 'function',
      sentinelTicketBefore,
      ...leak,
    };
  } finally {
    await t?.stop();
    faults.stop();
  }
}

async function sentinelTickets(t: TestApp, token: string): Promise<number> {
  const res = await t.request<{ tickets: { fault: string }[] }>(
    'GET',
    `/api/tickets?site=${SENTINEL.site}&assetId=${SENTINEL.assetId}`,
    { token },
  );
  return res.body.tickets.filter((x) => x.fault === 'leak').length;
}

/** A gateway's ordinary leak message at QoS 1, from an address the fuzz never used. */
async function leakBecomesTicket(
  t: TestApp,
  token: string,
): Promise<{ leakTicket: boolean; leakError?: string }> {
  try {
    const gw = await t.gateway(SENTINEL.site);
    await gw.publishAsync(`${SENTINEL.site}/zigbee2mqtt/${SENTINEL.assetId}`, '{"water_leak":true}', {
      qos: 1,
    });
    await waitFor(async () => ((await sentinelTickets(t, token)) > 0 ? true : undefined), {
      timeoutMs: 15_000,
      intervalMs: 100,
      what: 'the leak ticket',
    });
    return { leakTicket: true };
  } catch (err) {
    return { leakTicket: false, leakError: String(err) };
  }
}

const counts = (r: Record<string, number>) =>
  Object.entries(r)
    .sort(([, a], [, b]) => b - a)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');

/** The figures on one line, for `npm test` output and the soak. */
export function summaryLine(r: FuzzReport): string {
  const c = r.campaign;
  return [
    `MQTT fuzz seed=${r.seed}:`,
    `${c.frames} frames (${(c.bytes / MB).toFixed(1)} MB) over ${c.connections} connections`,
    `(closed by broker ${c.closedByBroker}, no CONNACK ${c.withoutConnack}, connect errors ${c.connectErrors}, hung ${c.hung.length};`,
    `CONNACK ${counts(c.connacks)}; broker refused ${r.refused.connections} connections, ${r.refused.logins} logins);`,
    `ingest received ${r.ingest.received}, accepted ${r.ingest.accepted};`,
    `dead letters ${r.deadLetters.total} stored (${counts(r.deadLetters.byReason)});`,
    `crashes ${r.crashes}; health ${r.healthy ? 'ok' : 'FAILED'};`,
    `RSS ${r.rssMb.before.toFixed(0)} -> ${r.rssMb.after.toFixed(0)} MB (peak ${r.rssMb.peak.toFixed(0)}),`,
    `heap ${r.heapMb.before.toFixed(0)} -> ${r.heapMb.after.toFixed(0)} MB${r.gc ? ' after gc' : ''};`,
    `leak ticket ${r.leakTicket ? 'yes' : `NO (${r.leakError})`}; ${r.seconds.toFixed(1)} s`,
  ].join(' ');
}
