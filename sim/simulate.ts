/**
 * `npm run simulate -- [options]`: the three sites' devices against a running xiaoer (see
 * `--help`, and cli-options.ts). Exit codes: 0 done, 1 failure (xiaoer unreachable, login
 * refused), 2 bad flags.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ApiError } from './api-client.ts';
import { parseSimulateArgs, SIMULATE_HELP, type SimulateOptions, UsageError } from './cli-options.ts';
import { type BmsEndpoint, demoConfigYaml } from './demo-config.ts';
import { buildPopulation, type Population } from './population.ts';
import { startSession } from './session.ts';

const out = (line: string) => process.stdout.write(`${line}\n`);

function parse(): SimulateOptions | undefined {
  try {
    const parsed = parseSimulateArgs(process.argv.slice(2), process.env);
    if (parsed.help) {
      out(SIMULATE_HELP);
      return undefined;
    }
    return parsed.options;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`simulate: ${err.message}\nRun "npm run simulate -- --help" for the options.`);
    process.exit(2);
  }
}

const bmsUrl = (port: number) => `opc.tcp://127.0.0.1:${port}/UA/xiaoer-bms`;

async function writeConfig(file: string, opts: SimulateOptions, population: Population): Promise<void> {
  const port = (url: string, fallback: number) => Number(new URL(url).port || fallback);
  let bms:
    | { endpoints: BmsEndpoint[]; nodes: { nodeId: string; assetId: string; metric: string }[] }
    | undefined;
  if (opts.bmsPort !== undefined) {
    const base = opts.bmsPort;
    // Loaded only here: node-opcua takes a while to load and prints warnings when it does.
    const { BMS_POINTS } = await import('./bms-server.ts');
    bms = {
      endpoints: opts.sites.map((site, i) => ({ site, url: bmsUrl(base + i) })),
      nodes: BMS_POINTS.map((p) => ({ nodeId: p.nodeId, assetId: p.assetId, metric: p.metric })),
    };
  }
  const yaml = demoConfigYaml({
    population,
    dataDir: './data',
    speed: opts.speed,
    http: { host: '127.0.0.1', port: port(opts.apiUrl, 80) },
    mqtt: { host: '127.0.0.1', port: port(opts.mqttUrl, 1883) },
    ...(bms ? { bms } : {}),
  });
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileSync(file, yaml);
  out(`wrote the xiaoer configuration for ${population.devices.length} devices to ${file}`);
  out(`start xiaoer with it:  npm start -- --config ${file}`);
}

async function main(): Promise<void> {
  const opts = parse();
  if (!opts) return;
  const population = buildPopulation({
    sites: opts.sites,
    counts: opts.counts,
    bms: opts.bmsPort !== undefined,
  });
  if (opts.writeConfig) return writeConfig(opts.writeConfig, opts, population);

  let fleet: Awaited<ReturnType<typeof import('./bms-fleet.ts').startBmsFleet>> | undefined;
  if (opts.bmsPort !== undefined) {
    const { startBmsFleet } = await import('./bms-fleet.ts');
    const base = opts.bmsPort;
    fleet = await startBmsFleet({
      sites: opts.sites,
      ports: opts.sites.map((_, i) => base + i),
      pkiRoot: path.resolve('data', 'pki'),
    });
    for (const e of fleet.endpoints) out(`simulated BMS for ${e.site}: ${e.url}`);
  }
  out(
    `simulating ${population.devices.length} devices at ${opts.sites.join(', ')}: seed ${opts.seed}, ` +
      `speed ${opts.speed}x, ${opts.faultsPerHour} faults per simulated hour -> ${opts.mqttUrl}`,
  );
  if (!opts.adminPassword)
    out('no admin password (--admin-password or XIAOER_ADMIN_PASSWORD): tickets not followed');
  const session = await startSession({
    ...opts,
    population,
    ...(fleet ? { bms: fleet.sink } : {}),
    printFaults: true,
    printTickets: false,
    stream: process.stderr,
  }).catch(async (err: unknown) => {
    await fleet?.stop();
    throw err;
  });

  let stopping = false;
  const stop = (code: number) => {
    if (stopping) process.exit(1); // a second Ctrl-C: do not wait any longer
    stopping = true;
    session
      .stop()
      .then(() => fleet?.stop())
      .then(
        () => process.exit(code),
        (err: unknown) => {
          console.error('simulate: error while stopping', err);
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', () => stop(0));
  process.on('SIGTERM', () => stop(0));
  if (opts.durationSeconds !== undefined) setTimeout(() => stop(0), opts.durationSeconds * 1000);
}

main().catch((err: unknown) => {
  const message = err instanceof ApiError || err instanceof Error ? err.message : String(err);
  console.error(`simulate: ${message}`);
  process.exit(1);
});
