import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * The kernel's range for the local ports of outgoing connections (Linux), or undefined elsewhere.
 * A port from that range, freed by a server a test stops, can be taken at once by any outgoing
 * connection on the machine (a database pool, a broker client), and the server's restart on the
 * same port then fails with EADDRINUSE.
 */
function ephemeralRange(): [number, number] | undefined {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    return lo && hi ? [lo, hi] : undefined;
  } catch {
    return undefined;
  }
}

const EPHEMERAL = ephemeralRange();
/** Ports below the ephemeral range that tests pick from (well above the registered services). */
const LOW = 20_000;

function listenOn(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : undefined;
      server.close(() => resolve(bound));
    });
  });
}

/**
 * A port free right now (for servers that cannot report an ephemeral port), chosen outside the
 * kernel's ephemeral range where there is room below it, so that a server stopped and started
 * again on it (an outage in a test) finds it still free.
 */
export async function freePort(): Promise<number> {
  if (EPHEMERAL && EPHEMERAL[0] > LOW + 1000) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = LOW + Math.floor(Math.random() * (EPHEMERAL[0] - LOW));
      const bound = await listenOn(port);
      if (bound !== undefined) return bound;
    }
  }
  const any = await listenOn(0);
  if (any === undefined) throw new Error('no free port');
  return any;
}
