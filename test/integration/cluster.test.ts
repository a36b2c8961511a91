import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { partitionOf } from '../../src/cluster/coordinator.ts';
import { type ReceivedRequest, startReceiver } from '../helpers/http-receiver.ts';
import { type RunningMosquitto, startMosquitto } from '../helpers/mosquitto.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { readSse, type SseStream } from '../helpers/sse.ts';
import { ADMIN_PASSWORD, EXAMPLE_CONFIG } from '../helpers/test-app.ts';
import { waitFor } from '../helpers/wait.ts';
import {
  spawnXiaoer,
  XIAOER_PROCESS_TEST_TIMEOUT_MS,
  type XiaoerProcess,
} from '../helpers/xiaoer-process.ts';

const SITES = ['xincheng', 'north', 'east'] as const;
/** Leak sensors per site; each reports a leak once, part-way through the stream. */
const SENSORS = 12;
const ROUNDS = 40;
/** Short SLA targets, so that breaches fall due (and on the leader's fail-over) within the test. */
const ARRIVAL_S = 6;
const REPAIR_S = 15;

interface Health {
  cluster: { leader: boolean; partitions: number[]; members: number } | null;
}

/**
 * Several xiaoer processes on one PostgreSQL and one Mosquitto: sites are partitioned between
 * them, one leads (SLA deadlines, notifications), and one is killed with SIGKILL mid-stream and
 * started again. Nothing may be lost, doubled, or breached twice.
 */
describe('a cluster of three xiaoer processes', () => {
  let broker: RunningMosquitto;
  let db: TestDatabase;
  let dir: string;
  let webhook: { url: string; received: ReceivedRequest[]; close(): Promise<void> };
  /** What MQTT-out published, as `<event id>` per message. */
  const published: number[] = [];
  let outbound: mqtt.MqttClient | undefined;
  let config: string;
  const procs = new Map<string, XiaoerProcess>();
  const ports = new Map<string, number>();

  const start = async (id: string) => {
    const proc = spawnXiaoer({
      config,
      dataDir: path.join(dir, id),
      from: 'compiled',
      env: { XIAOER_INSTANCE_ID: id, DATABASE_URL: db.url, MQTT_URL: broker.url },
    });
    procs.set(id, proc);
    ports.set(id, (await proc.started).http);
  };

  const tokens = new Map<string, string>();
  const token = async (id: string) => {
    const cached = tokens.get(id);
    if (cached) return cached;
    const res = await fetch(`http://127.0.0.1:${ports.get(id)}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    const { token: t } = (await res.json()) as { token: string };
    tokens.set(id, t);
    return t;
  };

  const health = async (id: string): Promise<Health | undefined> => {
    try {
      const res = await fetch(`http://127.0.0.1:${ports.get(id)}/api/health`, {
        headers: { authorization: `Bearer ${await token(id)}` },
      });
      return res.ok ? ((await res.json()) as Health) : undefined;
    } catch {
      return undefined;
    }
  };

  beforeAll(async () => {
    [broker, db, webhook] = await Promise.all([
      startMosquitto({ extraConfig: ['max_queued_messages 100000', 'max_inflight_messages 50'] }),
      createTestDatabase(),
      startReceiver(() => ({ status: 200, body: { ok: true } })),
    ]);
    outbound = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    outbound.on('message', (_topic, payload) => {
      published.push((JSON.parse(payload.toString()) as { event: { id: number } }).event.id);
    });
    await outbound.subscribeAsync('xiaoer/out/tickets/#', { qos: 1 });
    dir = mkdtempSync(path.join(tmpdir(), 'xiaoer-cluster-'));
    const doc = parse(readFileSync(EXAMPLE_CONFIG, 'utf8').replaceAll('host: 0.0.0.0', 'host: 127.0.0.1'));
    for (const site of doc.sites as { id: string; devices: { id: string; kind: string }[] }[]) {
      for (let i = 0; i < SENSORS; i++) site.devices.push({ id: `leak-${i}`, kind: 'plumbing' });
    }
    doc.sla = { arrivalMinutes: ARRIVAL_S / 60, repairMinutes: REPAIR_S / 60 };
    doc.shifts = { ...(doc.shifts ?? {}), escalateWhenUnstaffed: false };
    doc.cluster = { checkSeconds: 0.25, leaseSeconds: 6 };
    doc.mqtt = { ...(doc.mqtt ?? {}), inFlight: 32 };
    doc.notify = {
      webhooks: [{ id: 'desk', kind: 'generic', url: webhook.url, events: ['raised', 'sla_breached'] }],
    };
    config = path.join(dir, 'config.yaml');
    writeFileSync(config, stringify(doc));
  }, XIAOER_PROCESS_TEST_TIMEOUT_MS);

  afterAll(async () => {
    for (const proc of procs.values()) {
      proc.child.kill('SIGTERM');
      await proc.exited;
    }
    await outbound?.endAsync();
    await webhook?.close();
    await broker?.stop();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, XIAOER_PROCESS_TEST_TIMEOUT_MS);

  it(
    'loses no ticket, doubles none and fires each breach once when an instance is killed mid-stream',
    async () => {
      // The three sites fall in three partitions, one per instance once all three run.
      expect(new Set(SITES.map((s) => partitionOf(s, 16))).size).toBe(3);
      // All three at once on an empty database: one migrates and creates the admin, none fails.
      await Promise.all([start('a'), start('b'), start('c')]);
      const spread = async () => {
        const all = await Promise.all([...procs.keys()].map(async (id) => [id, await health(id)] as const));
        const owned = all.flatMap(([, h]) => h?.cluster?.partitions ?? []);
        const leaders = all.filter(([, h]) => h?.cluster?.leader).map(([id]) => id);
        return owned.length === 3 &&
          all.every(([, h]) => h?.cluster?.partitions.length === 1) &&
          leaders.length === 1
          ? leaders[0]
          : undefined;
      };
      const leader = await waitFor(spread, { timeoutMs: 60_000, what: 'one partition each and one leader' });

      // Every instance's live feed sees every raise, wherever it was recorded.
      const feeds = new Map<string, SseStream>();
      for (const id of procs.keys())
        feeds.set(id, await readSse(`http://127.0.0.1:${ports.get(id)}/api/live?token=${await token(id)}`));

      const devices = await Promise.all(
        SITES.map(() => mqtt.connectAsync(broker.url, { reconnectPeriod: 0 })),
      );
      const faulted = new Set<string>();
      let failover: Promise<{ to: string; ms: number }> | undefined;
      for (let round = 0; round < ROUNDS; round++) {
        await Promise.all(
          SITES.map(async (site, s) => {
            const client = devices[s] as mqtt.MqttClient;
            for (let i = 0; i < SENSORS; i++) {
              // Sensor i leaks from round 2 + 3i on, and keeps reporting it.
              const leak = round >= 2 + ((3 * i) % (ROUNDS - 4));
              if (leak) faulted.add(`${site}/leak-${i}`);
              await client.publishAsync(
                `${site}/zigbee2mqtt/leak-${i}`,
                JSON.stringify({ water_leak: leak }),
                {
                  qos: 1,
                },
              );
            }
          }),
        );
        if (round === Math.floor(ROUNDS / 3)) {
          // The leader dies without a word: no DISCONNECT, no unlock, messages half recorded.
          procs.get(leader)?.child.kill('SIGKILL');
          await procs.get(leader)?.exited;
          const killedAt = Date.now();
          procs.delete(leader);
          failover = waitFor(
            async () => {
              for (const id of procs.keys())
                if ((await health(id))?.cluster?.leader) return { to: id, ms: Date.now() - killedAt };
              return undefined;
            },
            { timeoutMs: 30_000, intervalMs: 50, what: 'a new leader after the kill' },
          );
        }
        if (round === Math.floor((2 * ROUNDS) / 3)) await start(leader);
      }
      await Promise.all(devices.map((d) => d.endAsync()));
      const taken = await failover;
      process.stdout.write(
        `scheduler fail-over: ${taken?.to} led ${taken?.ms} ms after the leader was killed\n`,
      );
      // The lock went with the killed connection; the next check (every 250 ms) takes it.
      expect(taken?.ms).toBeLessThan(5000);

      const pool = new pg.Pool({ connectionString: db.url, max: 2 });
      try {
        // Every leak became exactly one ticket.
        const tickets = await waitFor(
          async () => {
            const { rows } = await pool.query<{ site: string; asset_id: string; n: string }>(
              `SELECT site, asset_id, count(*) AS n FROM tickets WHERE fault = 'leak' GROUP BY site, asset_id`,
            );
            return rows.length >= faulted.size ? rows : undefined;
          },
          { timeoutMs: 60_000, what: `${faulted.size} leak tickets` },
        );
        const lost = [...faulted].filter((k) => !tickets.some((r) => `${r.site}/${r.asset_id}` === k));
        const duplicated = tickets.filter((r) => Number(r.n) > 1);
        expect({ lost, duplicated, extra: tickets.length - faulted.size }).toEqual({
          lost: [],
          duplicated: [],
          extra: 0,
        });

        // Both clocks of every ticket breach (nobody comes), each breach recorded once.
        const breaches = await waitFor(
          async () => {
            const { rows } = await pool.query<{ ticket_id: number; clock: string; n: string }>(
              `SELECT e.ticket_id, e.detail::json->>'clock' AS clock, count(*) AS n
                 FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
                WHERE e.type = 'sla_breached' AND t.fault = 'leak'
                GROUP BY e.ticket_id, e.detail::json->>'clock'`,
            );
            return rows.length >= 2 * faulted.size ? rows : undefined;
          },
          { timeoutMs: 90_000, what: 'both breaches of every ticket' },
        );
        expect(breaches.filter((r) => Number(r.n) !== 1)).toEqual([]);
        expect(breaches).toHaveLength(2 * faulted.size);
        // The notification consumers ran on one instance at a time: every raise and breach went
        // out, and at most the one entry in flight when the leader died went out twice.
        const { rows: notable } = await pool.query<{ id: number; type: string }>(
          `SELECT id, type FROM ticket_events WHERE type IN ('raised', 'sla_breached')`,
        );
        const { rows: all } = await pool.query<{ id: number }>('SELECT id FROM ticket_events');
        const hooked = await waitFor(
          () => {
            const ids = webhook.received.map((r) => (r.body as { event: { id: number } }).event.id);
            // BIGINT ids come back from pg as strings.
            return notable.every((e) => ids.includes(Number(e.id))) ? ids : undefined;
          },
          {
            timeoutMs: 30_000,
            what: `every raise and breach at the webhook (${notable.length} of them; ${webhook.received.length} received)`,
          },
        );
        expect(hooked.length - new Set(hooked).size).toBeLessThanOrEqual(1);
        await waitFor(() => (all.every((e) => published.includes(Number(e.id))) ? true : undefined), {
          timeoutMs: 30_000,
          what: 'every ticket change on MQTT-out',
        });
        expect(published.length - new Set(published).size).toBeLessThanOrEqual(1);
        process.stdout.write(
          `cluster: ${faulted.size} leaks, ${tickets.length} tickets, ${breaches.length} breaches, none lost or doubled; ` +
            `webhook ${hooked.length} deliveries of ${new Set(hooked).size} events, MQTT-out ${published.length} of ${new Set(published).size}\n`,
        );
      } finally {
        await pool.end();
      }

      // The feeds of the two instances that lived saw every raise, wherever it was recorded.
      for (const [id, feed] of feeds) {
        feed.close();
        if (id === leader) continue;
        const raised = new Set(
          feed.events
            .filter((e) => e.event === 'ticket')
            .map(
              (e) => JSON.parse(e.data) as { ticket: { id: number; fault: string }; event: { type: string } },
            )
            .filter((e) => e.event.type === 'raised' && e.ticket.fault === 'leak')
            .map((e) => e.ticket.id),
        );
        expect(raised.size, `raises seen on ${id}`).toBe(faulted.size);
      }
    },
    XIAOER_PROCESS_TEST_TIMEOUT_MS * 3,
  );

  it(
    "lets the admin command work on the cluster's PostgreSQL, not on a SQLite file of its own",
    async () => {
      const dataDir = path.join(dir, 'admin-cli');
      const out = await new Promise<string>((resolve, reject) =>
        execFile(
          process.execPath,
          ['--import', 'tsx', 'src/admin-cli.ts', '--config', config, 'list-users'],
          {
            cwd: path.resolve(import.meta.dirname, '../..'),
            env: {
              PATH: process.env.PATH ?? '',
              HOME: process.env.HOME ?? '',
              DATA_DIR: dataDir,
              DATABASE_URL: db.url,
            },
          },
          (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout)),
        ),
      );
      expect(out).toBe('admin\tadmin\tactive\n');
      expect(existsSync(path.join(dataDir, 'xiaoer.db'))).toBe(false);
    },
    XIAOER_PROCESS_TEST_TIMEOUT_MS,
  );
});
