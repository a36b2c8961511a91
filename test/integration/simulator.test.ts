/**
 * The simulator against the whole app over real MQTT and HTTP: a small population at 60x, its
 * faults must become tickets (each for the device and fault injected), every payload must be
 * accepted (no dead letters), and the simulated maintainers must work tickets through the API.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { demoConfig } from '../../sim/demo-config.ts';
import { buildPopulation, SITES } from '../../sim/population.ts';
import { type Session, startSession } from '../../sim/session.ts';
import type { Config } from '../../src/config/schema.ts';
import { configSchema } from '../../src/config/schema.ts';
import { ADMIN_PASSWORD, startTestApp, type TestApp } from '../helpers/test-app.ts';
import { waitFor } from '../helpers/wait.ts';

type TicketJson = {
  id: number;
  site: string;
  assetId: string;
  fault: string;
  category: string;
  status: string;
};

const SPEED = 60;
const OUTAGE_FAULTS = new Set(['gateway_offline', 'mass_offline']);
const population = buildPopulation({
  sites: SITES.map((s) => s.id),
  counts: { lock: 4, hvac: 3, plumbing: 8, lighting: 2, other: 2 },
  bms: false,
});

/** The example config's sites, rules, categories and SLA replaced by the simulated population's. */
function useDemoConfig(c: Config): void {
  const demo = configSchema.parse(demoConfig({ population, dataDir: c.dataDir, speed: SPEED }));
  const target = c as unknown as Record<string, unknown>;
  for (const key of ['sites', 'rules', 'categories', 'sla', 'tickets']) {
    if (key in demo) target[key] = (demo as unknown as Record<string, unknown>)[key];
  }
}

const quiet = new Writable({ write: (_chunk, _enc, done) => done() });

describe('simulator against a running xiaoer', () => {
  let t: TestApp | undefined;
  let session: Session | undefined;
  afterEach(async () => {
    await session?.stop();
    await t?.stop();
  });

  // The simulator and its maintainers run on the wall clock (60x), against the whole app over real
  // sockets: idle this takes about 7 s, on a 2-core machine shared with another suite several
  // times that. Each step polls the API for its outcome; the time-outs are only a safety net.
  it('turns injected faults into tickets over real MQTT, and maintainers work them through the API', {
    timeout: 120_000,
  }, async () => {
    t = await startTestApp({ override: useDemoConfig });
    const app = t;
    const injected = new Set<string>();
    session = await startSession({
      seed: 'integration',
      speed: SPEED,
      faultsPerHour: 300,
      counts: { lock: 4, hvac: 3, plumbing: 8, lighting: 2, other: 2 },
      sites: population.sites.map((s) => s.spec.id),
      maintainers: true,
      maintainersPerSite: 1,
      lateShare: 0.2,
      population,
      mqttUrl: app.mqttUrl,
      apiUrl: app.baseUrl,
      adminPassword: ADMIN_PASSWORD,
      printFaults: false,
      printTickets: false,
      stream: quiet,
      onFault: (f) => {
        if (f.phase === 'start') injected.add(`${f.site}/${f.device.id}/${f.fault.ticket}`);
      },
    });
    const token = await app.login('admin', ADMIN_PASSWORD);
    const tickets = async () =>
      (await app.request<{ tickets: TicketJson[] }>('GET', '/api/tickets?limit=1000', { token })).body
        .tickets;

    const raised = await waitFor(
      async () => {
        const all = (await tickets()).filter((x) => !OUTAGE_FAULTS.has(x.fault));
        return all.length >= 6 && new Set(all.map((x) => x.category)).size >= 3 ? all : undefined;
      },
      { timeoutMs: 45_000, intervalMs: 250, what: 'tickets in three categories' },
    );
    for (const x of raised)
      expect(injected.has(`${x.site}/${x.assetId}/${x.fault}`), JSON.stringify(x)).toBe(true);

    // The desk dispatches, a maintainer arrives: the bot plans each arrival within the 5 s arrival
    // target of 60x time (a share of them late) on the wall clock, so one comes whatever the load.
    await waitFor(
      async () =>
        (await tickets()).some((x) => ['on_site', 'repaired', 'verified', 'closed'].includes(x.status))
          ? true
          : undefined,
      { timeoutMs: 45_000, intervalMs: 250, what: 'a maintainer on site' },
    );
    const dead = await app.request<{ total: number; deadLetters: unknown[] }>('GET', '/api/dead-letters', {
      token,
    });
    expect(dead.body.deadLetters).toEqual([]);
  });
});
