/**
 * One simulated BMS (sim/bms-server.ts) per site, each an OPC UA server of its own, driven by the
 * generator's point writes instead of run-bms.ts's fixed schedule.
 */
import { createServer } from 'node:net';
import path from 'node:path';
import { BMS_POINTS, type SimulatedBms, startSimulatedBms } from './bms-server.ts';
import type { BmsEndpoint, BmsNode } from './demo-config.ts';
import type { BmsSink } from './runner.ts';

export interface BmsFleet {
  endpoints: BmsEndpoint[];
  nodes: BmsNode[];
  sink: BmsSink;
  stop(): Promise<void>;
}

/** A port the OS says is free right now (node-opcua cannot listen on port 0 and report it). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startBmsFleet(opts: {
  sites: readonly string[];
  /** One port per site; free ports when absent. */
  ports?: readonly number[];
  pkiRoot: string;
  host?: string;
}): Promise<BmsFleet> {
  const host = opts.host ?? '127.0.0.1';
  const servers = new Map<string, SimulatedBms>();
  try {
    for (const [i, site] of opts.sites.entries()) {
      const port = opts.ports?.[i] ?? (await freePort(host));
      // One PKI per site server: node-opcua keeps its own certificate and trust lists there.
      servers.set(
        site,
        await startSimulatedBms({ port, host, pkiDir: path.join(opts.pkiRoot, `sim-bms-${site}`) }),
      );
    }
  } catch (err) {
    await Promise.allSettled([...servers.values()].map((s) => s.stop()));
    throw err;
  }
  const known = new Set(BMS_POINTS.map((p) => p.name));
  const server = (site: string, point: string) => (known.has(point) ? servers.get(site) : undefined);
  return {
    endpoints: [...servers.entries()].map(([site, s]) => ({ site, url: s.endpointUrl })),
    nodes: BMS_POINTS.map((p) => ({ nodeId: p.nodeId, assetId: p.assetId, metric: p.metric })),
    sink: {
      write: (site, point, value) => server(site, point)?.setValue(point, value),
      bad: (site, point, status) => server(site, point)?.setBad(point, status),
    },
    stop: async () => {
      await Promise.allSettled([...servers.values()].map((s) => s.stop()));
    },
  };
}
