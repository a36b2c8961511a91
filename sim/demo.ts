/**
 * `npm run demo`: xiaoer, one simulated BMS per site, the device simulator and the simulated
 * maintainers in one process, on a configuration generated for the simulated population
 * (data/demo/xiaoer-demo.yaml). The board fills with tickets within a minute; Ctrl-C stops
 * everything (xiaoer drains and closes its store first).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { App } from '../src/app.ts';
import { parseConfigText } from '../src/config/load.ts';
import { createLogger } from '../src/core/logger.ts';
import { ApiClient } from './api-client.ts';
import type { BmsFleet } from './bms-fleet.ts';
import { DEMO_HELP, type DemoOptions, parseDemoArgs, UsageError } from './cli-options.ts';
import { demoConfigYaml } from './demo-config.ts';
import { buildPopulation, gatewayLogin, type Population } from './population.ts';
import { type Session, startSession } from './session.ts';

const DATA_DIR = path.resolve('data', 'demo');
const DEFAULT_ADMIN_PASSWORD = 'xiaoer-demo';
let print: (line: string) => void = (line) => process.stdout.write(`${line}\n`);

function parse(): DemoOptions | undefined {
  try {
    const parsed = parseDemoArgs(process.argv.slice(2));
    if (!parsed.help) return parsed.options;
    print(DEMO_HELP);
    return undefined;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`demo: ${err.message}\nRun "npm run demo -- --help" for the options.`);
    process.exit(2);
  }
}

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const PLUMBING = new Set(['level', 'time', 'pid', 'hostname', 'service', 'msg', 'component']);

/** xiaoer's JSON log as short lines; `ticket raised` is left to the board lines from the live feed. */
function logLine(text: string): string | undefined {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return text;
  }
  if (entry.msg === 'ticket raised') return undefined;
  const time = new Date(Number(entry.time)).toTimeString().slice(0, 8);
  const extras = Object.entries(entry)
    .filter(([k]) => !PLUMBING.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ');
  const level = (LEVELS[Number(entry.level)] ?? '?').padEnd(5);
  return `${time}  ${level} ${String(entry.component ?? 'xiaoer')}: ${String(entry.msg ?? '')} ${extras}`.trimEnd();
}

function logStream(): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      pending += chunk.toString('utf8');
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const line = logLine(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
        if (line) print(line);
      }
      done();
    },
  });
}

async function startBms(opts: DemoOptions): Promise<BmsFleet | undefined> {
  if (!opts.bms) return undefined;
  print('starting one simulated BMS (OPC UA) per site...');
  const { startBmsFleet } = await import('./bms-fleet.ts');
  return startBmsFleet({ sites: opts.sites, pkiRoot: path.join(DATA_DIR, 'pki') });
}

async function startXiaoer(opts: DemoOptions, population: Population, fleet: BmsFleet | undefined) {
  mkdirSync(DATA_DIR, { recursive: true });
  if (!opts.keepData) {
    for (const f of ['xiaoer.db', 'xiaoer.db-wal', 'xiaoer.db-shm'])
      rmSync(path.join(DATA_DIR, f), { force: true });
  }
  const file = path.join(DATA_DIR, 'xiaoer-demo.yaml');
  const yaml = demoConfigYaml({
    population,
    dataDir: DATA_DIR,
    speed: opts.speed,
    logLevel: opts.logLevel,
    ...(fleet ? { bms: { endpoints: fleet.endpoints, nodes: fleet.nodes } } : {}),
  });
  writeFileSync(file, yaml);
  const adminPassword = process.env.XIAOER_ADMIN_PASSWORD || DEFAULT_ADMIN_PASSWORD;
  const config = parseConfigText(yaml, file, {
    PORT: process.env.PORT,
    MQTT_PORT: process.env.MQTT_PORT,
    XIAOER_ADMIN_PASSWORD: adminPassword,
  });
  const app = new App({ config, log: createLogger(config.logLevel, { destination: logStream() }) });
  await app.start();
  return { app, file, adminPassword };
}

async function banner(opts: DemoOptions, population: Population, x: Awaited<ReturnType<typeof startXiaoer>>) {
  const api = `http://127.0.0.1:${x.app.ports.http}`;
  const token = await new ApiClient(api).login('admin', x.adminPassword);
  const sla = (m: number) =>
    m / opts.speed >= 1 ? `${+(m / opts.speed).toFixed(1)} min` : `${Math.round((m * 60) / opts.speed)} s`;
  const site = opts.sites[0] ?? 'xincheng';
  const gw = gatewayLogin(site);
  for (const line of [
    '',
    `xiaoer demo: ${opts.sites.length} sites, ${population.devices.length} simulated devices, seed ${opts.seed}`,
    `  time runs ${opts.speed}x: on site within ${sla(5)}, repaired within ${sla(60)} (the desk's 5 min / 1 h)`,
    `  console    ${api}/   (admin / ${x.adminPassword}): the desk's board, reports, admin pages`,
    `  API docs   ${api}/docs`,
    `  token      TOKEN=${token}`,
    `  tickets    curl -s -H "authorization: Bearer $TOKEN" '${api}/api/tickets?open=true'`,
    `  live feed  curl -N '${api}/api/live?token='$TOKEN`,
    `  MQTT       mqtt://127.0.0.1:${x.app.ports.mqtt}  (e.g. ${gw.username} / ${gw.password}, client id ${site}-...)`,
    `  config     ${path.relative(process.cwd(), x.file)}`,
    '  Ctrl-C stops everything.',
    '',
  ]) {
    print(line);
  }
}

async function main(): Promise<void> {
  const opts = parse();
  if (!opts) return;
  const population = buildPopulation({ sites: opts.sites, counts: opts.counts, bms: opts.bms });
  const fleet = await startBms(opts);
  let xiaoer: Awaited<ReturnType<typeof startXiaoer>> | undefined;
  let session: Session | undefined;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) process.exit(1); // a second Ctrl-C: stop waiting
    stopping = true;
    const [s, x] = [session, xiaoer];
    const steps: [string, (() => Promise<void>) | undefined][] = [
      ['simulator', s && (() => s.stop())],
      ['xiaoer', x && (() => x.app.stop())],
      ['simulated BMS', fleet && (() => fleet.stop())],
    ];
    for (const [name, step] of steps) {
      try {
        await step?.();
      } catch (err) {
        console.error(`demo: stopping the ${name} failed:`, err);
        code = 1;
      }
      if (name === 'simulator') print = (line) => process.stdout.write(`${line}\n`);
    }
    print('demo stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  try {
    xiaoer = await startXiaoer(opts, population, fleet);
    await banner(opts, population, xiaoer);
    session = await startSession({
      ...opts,
      population,
      mqttUrl: `mqtt://127.0.0.1:${xiaoer.app.ports.mqtt}`,
      apiUrl: `http://127.0.0.1:${xiaoer.app.ports.http}`,
      adminPassword: xiaoer.adminPassword,
      bms: fleet?.sink,
      printFaults: false,
      printTickets: true,
      stream: process.stdout,
    });
    const progress = session.progress;
    print = (line) => progress.print(line);
  } catch (err) {
    console.error(`demo: ${(err as Error).message}`);
    await stop(1);
  }
  if (opts.durationSeconds !== undefined) setTimeout(() => void stop(0), opts.durationSeconds * 1000);
}

main().catch((err: unknown) => {
  console.error('demo: fatal error', err);
  process.exit(1);
});
