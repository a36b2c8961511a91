/**
 * Runs the simulated BMS for demos:
 *
 *   node --import tsx sim/run-bms.ts [--port 4840] [--host 127.0.0.1] [--pki ./data/pki/sim-bms]
 *
 * Prints its endpoint and node list, then moves the values every 2 seconds: temperatures drift on a
 * 10-minute cycle, AHU2's filter alarm comes on for 30 s every 5 minutes, and the pump's pressure
 * sensor reports BadSensorFailure for 20 s every 7 minutes (a `sensor_fault` in xiaoer).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../src/core/logger.ts';
import { routeNodeOpcuaLogs } from '../src/opcua/library-log.ts';
import { BMS_POINTS, type SimulatedBms, startSimulatedBms } from './bms-server.ts';

const TICK_MS = 2000;

function step(bms: SimulatedBms, elapsedMs: number): void {
  const s = elapsedMs / 1000;
  const wave = Math.sin((2 * Math.PI * s) / 600);
  const noise = () => (Math.random() - 0.5) * 0.2;
  const round = (n: number) => Math.round(n * 10) / 10;
  bms.setValue('AHU1.SupplyAirTemperature', round(16.5 + wave + noise()));
  bms.setValue('AHU1.ReturnAirTemperature', round(23.5 + 1.5 * wave + noise()));
  bms.setValue('AHU2.SupplyAirTemperature', round(17 - wave + noise()));
  bms.setValue('AHU2.ReturnAirTemperature', round(24 - 1.5 * wave + noise()));
  bms.setValue('AHU2.FilterAlarm', s % 300 >= 270);
  bms.setValue('Chiller1.ChilledWaterSupplyTemperature', round(7 + 0.5 * wave + noise()));
  if (s % 420 >= 400) bms.setBad('Pump1.Pressure', 'BadSensorFailure');
  else bms.setValue('Pump1.Pressure', Math.round(250 + 10 * wave + 20 * noise()));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '4840' },
      host: { type: 'string', default: '127.0.0.1' },
      pki: { type: 'string', default: path.join('data', 'pki', 'sim-bms') },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`--port: expected 1-65535, got "${values.port}"`);
  // node-opcua's console warnings (e.g. W27 about PKCS#1 v1.5, unused with security None) become debug logs.
  routeNodeOpcuaLogs(createLogger('info', { destination: process.stderr }));
  const bms = await startSimulatedBms({ port, host: values.host, pkiDir: path.resolve(values.pki) });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`simulated BMS listening: ${bms.endpointUrl} (security mode None, anonymous)`);
  for (const p of BMS_POINTS) out(`  ${p.nodeId.padEnd(48)} ${p.assetId.padEnd(10)} ${p.metric}`);

  const startedAt = Date.now();
  const timer = setInterval(() => step(bms, Date.now() - startedAt), TICK_MS);
  const shutdown = () => {
    clearInterval(timer);
    bms.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('simulated BMS: shutdown failed', err);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  console.error('simulated BMS:', err instanceof Error ? err.message : err);
  process.exit(1);
});
